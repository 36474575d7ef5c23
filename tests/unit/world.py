"""A service and a ticker sharing one in-memory store, queue and clock: the unit tests' world."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from timer_service.clock import FixedClock
from timer_service.dispatch import Firing, InMemoryDispatchQueue
from timer_service.job_types import JobTypeRegistry
from timer_service.models import TimerSpec
from timer_service.service import TimerService
from timer_service.store.memory import InMemoryTimerStore
from timer_service.tick import TickEngine

T0 = int(datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC).timestamp())  # a minute boundary


class World:
    """A service and a ticker sharing one store, queue and clock (starting at ``start_s``)."""

    def __init__(self, store: InMemoryTimerStore | None = None, *, start_s: int = T0 + 1) -> None:
        self.clock = FixedClock(start_s)
        self.store = store or InMemoryTimerStore()
        self.queue = InMemoryDispatchQueue(self.clock)
        self.service = TimerService(
            store=self.store,
            clock=self.clock,
            job_types=JobTypeRegistry.from_entry_points(),
            queue=self.queue,
        )
        self.engine = TickEngine(store=self.store, queue=self.queue, clock=self.clock)

    def put(self, timer_id: str, **fields: Any) -> None:
        self.service.put("alice", timer_id, TimerSpec.model_validate(fields))

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
