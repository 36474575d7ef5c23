"""A service and a ticker sharing one in-memory store, queue and clock: the unit tests' world."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from timer_service.clock import FixedClock
from timer_service.delivery import Delivered, Delivery
from timer_service.dispatch import Firing, InMemoryDispatchQueue
from timer_service.job_types import JobContext, JobType, JobTypeRegistry
from timer_service.models import TimerSpec
from timer_service.service import TimerService
from timer_service.settings import Settings
from timer_service.store.memory import InMemoryTimerStore
from timer_service.testing import NoAwsClients
from timer_service.tick import TickEngine

T0 = int(datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC).timestamp())  # a minute boundary


class Counted(BaseModel):
    """The config of the ``counted`` job type: nothing."""


def counted_job_type(runs: Counter[tuple[str, int]]) -> JobType:
    """A job type that counts its runs by timer id and scheduled second."""

    def run(config: Counted, context: JobContext) -> None:
        runs[(context.firing.timer_id, context.firing.scheduled_s)] += 1

    return JobType(name="counted", config_model=Counted, handler=run)


class World:
    """A service and a ticker sharing one store, queue and clock (starting at ``start_s``)."""

    def __init__(
        self,
        store: InMemoryTimerStore | None = None,
        *,
        start_s: int = T0 + 1,
        job_types: tuple[JobType, ...] = (),
        max_timers: int | None = None,
        max_firings: int | None = None,
    ) -> None:
        self.clock = FixedClock(start_s)
        self.store = store or InMemoryTimerStore()
        self.queue = InMemoryDispatchQueue(self.clock)
        self.runs: Counter[tuple[str, int]] = Counter()
        registry = JobTypeRegistry.from_entry_points().plus(counted_job_type(self.runs), *job_types)
        self.service = TimerService(
            store=self.store,
            clock=self.clock,
            job_types=registry,
            queue=self.queue,
            max_timers_per_owner=max_timers,
            max_firings_per_minute=max_firings,
        )
        self.engine = TickEngine(store=self.store, queue=self.queue, clock=self.clock)
        self.delivery = Delivery(
            store=self.store,
            job_types=registry,
            clock=self.clock,
            settings=Settings(),
            client=NoAwsClients(),
            sleep=self.clock.advance,
        )
        self._message_ids = itertools.count()
        self.delivered = 0  # messages handed to delivery so far

    def put(self, timer_id: str, *, owner: str = "alice", **fields: Any) -> None:
        self.service.put(owner, timer_id, TimerSpec.model_validate(fields))

    def next_minute(self) -> None:
        """To second 1 of the next minute, when the scheduler starts the ticks."""
        self.clock.set((int(self.clock.now()) // 60 + 1) * 60 + 1)

    def tick_all(self) -> None:
        for shard in self.store.get_registry().all:
            self.engine.tick(shard)

    def run_minutes(self, minutes: int, *, shard: int = 0) -> list[Firing]:
        """Tick ``shard`` once a minute; every firing sent so far."""
        for _ in range(minutes):
            self.engine.tick(shard)
            self.next_minute()
        return [firing for firing, _ in self.queue.sent]

    def deliver_sent(self) -> list[Delivered]:
        """Run every message sent since the last call through delivery, each as one SQS
        message of its own (a fresh message id), in the order they were sent."""
        outcomes = []
        for firing, _ in self.queue.sent[self.delivered :]:
            reads = self.delivery.reads([firing])
            message_id = f"m{next(self._message_ids)}"
            outcomes.append(
                self.delivery.deliver(firing, attempt=1, reads=reads, delivery_id=message_id)
            )
        self.delivered = len(self.queue.sent)
        return outcomes
