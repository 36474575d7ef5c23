"""A ticker, the queue's messages and the callbacks' delivery policy with the pack ledger, in
memory on a fixed clock; jobs that count their runs, and a callback that can die."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from tests.unit.world import T0
from timer_service.clock import FixedClock
from timer_service.dead_letters import DeadLetters
from timer_service.delivery import Delivery
from timer_service.delivery_policy import DeliveryPolicy, Received, RetryRule
from timer_service.dispatch import InMemoryDispatchQueue
from timer_service.errors import StoreError
from timer_service.job_types import JobContext, JobType, JobTypeRegistry
from timer_service.messages import Message, MessageSigner
from timer_service.models import TimerSpec
from timer_service.pack_ledger import MemberHasher
from timer_service.pack_session import PackLedger
from timer_service.service import TimerService
from timer_service.settings import Settings
from timer_service.store.dead_letters import InMemoryDeadLetterStore
from timer_service.store.memory import InMemoryTimerStore
from timer_service.testing import InMemoryRunOnce, NoAwsClients
from timer_service.tick import TickEngine

SIGNER = MessageSigner("unit-test-signing-key-0123")


class Crash(BaseException):
    """The callback's process dies (an OOM kill, the function's timeout): nothing after it."""


class Gated(BaseModel):
    fail: bool = False


class CountingRunOnce(InMemoryRunOnce):
    """powertools' semantics in memory, counting the records it writes (two a firing)."""

    def __init__(self) -> None:
        super().__init__()
        self.records = 0

    def __call__(self, firing_id: str, action: Callable[[], None]) -> None:
        if firing_id not in self.completed and firing_id not in self.in_progress:
            self.records += 2
        super().__call__(firing_id, action)


class DyingStore(InMemoryTimerStore):
    """A store a dead callback writes nothing more to; ``end_ticks_failing`` makes that many
    ticks die before recording their minutes done (they are sent again)."""

    def __init__(self) -> None:
        super().__init__()
        self.dead = False
        self.end_ticks_failing = 0
        self.pack_write_s = 0.0  # each pack write takes this long (DynamoDB's latency)
        self.after_claim: Callable[[], object] | None = None  # once, just after a pack's claim

    def claim_pack(self, *args: Any, **kwargs: Any) -> Any:
        claim = super().claim_pack(*args, **kwargs)
        hook, self.after_claim = self.after_claim, None
        if hook is not None:
            hook()
        return claim

    def record_pack(self, *args: Any, **kwargs: Any) -> None:
        if self.dead:
            raise Crash
        time.sleep(self.pack_write_s)
        super().record_pack(*args, **kwargs)

    def end_tick(self, *args: Any, **kwargs: Any) -> None:
        if self.end_ticks_failing:
            self.end_ticks_failing -= 1
            raise StoreError("the ticker died before recording the minute done")
        super().end_tick(*args, **kwargs)


class PackBox:
    """Timers of the ``gated`` job type, written an hour before 12:00; ``hooks[timer_id]`` runs
    inside its job first."""

    def __init__(self, *, start_s: int = T0 - 3600) -> None:
        self.clock = FixedClock(start_s)
        self.store = DyingStore()
        self.queue = InMemoryDispatchQueue(self.clock)
        self.started: Counter[tuple[str, int]] = Counter()
        self.completed: Counter[tuple[str, int]] = Counter()
        self.hooks: dict[str, Callable[[], object]] = {}
        self._lock = threading.Lock()

        def run(config: Gated, context: JobContext) -> None:
            key = (context.firing.timer_id, context.firing.scheduled_s)
            if self.store.dead:
                raise Crash
            with self._lock:
                self.started[key] += 1
            hook = self.hooks.get(context.firing.timer_id)
            if hook is not None:
                hook()
            if config.fail:
                raise ConnectionError("target unreachable")
            if self.store.dead:
                raise Crash
            with self._lock:
                self.completed[key] += 1

        registry = JobTypeRegistry([JobType(name="gated", config_model=Gated, handler=run)])
        self.service = TimerService(
            store=self.store, clock=self.clock, job_types=registry, queue=self.queue
        )
        self.engine = TickEngine(store=self.store, queue=self.queue, clock=self.clock)
        self.run_once = CountingRunOnce()
        self.ledger = PackLedger(store=self.store, clock=self.clock, hasher=MemberHasher(b"k" * 32))
        delivery = Delivery(
            store=self.store,
            job_types=registry,
            clock=self.clock,
            settings=Settings(),
            client=NoAwsClients(),
            sleep=self.clock.advance,
        )
        self.policy = DeliveryPolicy(
            delivery=delivery,
            queue=self.queue,
            dead_letters=DeadLetters(
                store=InMemoryDeadLetterStore(), queue=self.queue, clock=self.clock
            ),
            signer=SIGNER,
            rule=RetryRule(max_attempts=5, base_s=10),
            run_once=self.run_once,
            ledger=self.ledger,
        )
        self._ids = itertools.count()
        self.taken = 0  # messages of the queue handed out so far

    def put(self, timer_id: str, *, delivery: str = "deduplicated", **fields: Any) -> None:
        spec = {"schedule": "rate(1 minute)", "jobType": "gated", "delivery": delivery}
        self.service.put("alice", timer_id, TimerSpec.model_validate({**spec, **fields}))

    def tick(self) -> None:
        """A tick at second 1 of the clock's next minute (the timers were written well before:
        a firing of a timer written within the race window travels alone)."""
        self.clock.set(max(self.clock.now(), T0 + 1))
        with contextlib.suppress(StoreError):  # it died: the next one comes a minute later
            self.engine.tick(0)

    def new_messages(self) -> list[Message]:
        """Messages sent since the last call, in order."""
        return [message for message, _ in self.new_visible()]

    def new_visible(self) -> list[tuple[Message, float]]:
        """Messages sent since the last call, each with when SQS makes it visible."""
        found = self.queue.messages[self.taken :]
        self.taken = len(self.queue.messages)
        return found

    def deliver(self, message: Message, *, receive_count: int = 1, message_id: str = "") -> bool:
        """One callback invocation of one message; True when it is done with (deleted)."""
        self.clock.set(max(self.clock.now(), message.scheduled_s + 0.1))
        received = Received(
            message_id=message_id or f"m{next(self._ids)}",
            body=message.body,
            signature=SIGNER.sign(message.body),
            receive_count=receive_count,
        )
        return not self.policy.handle([received])

    def deliver_dying(self, message: Message, **kwargs: Any) -> None:
        """Deliver ``message`` in a callback that dies (a hook raised Crash): then the process
        is gone, and the next callback writes again."""
        try:
            self.deliver(message, **kwargs)
        except Crash:
            pass
        else:
            raise AssertionError("the callback did not die")
        finally:
            self.store.dead = False

    def deliver_all(self, *, rounds: int = 20) -> None:
        """Deliver every message, retries included (the clock moved to each), until none is
        left."""
        for _ in range(rounds):
            pending = self.new_visible()
            if not pending:
                return
            for message, visible_s in sorted(pending, key=lambda pair: pair[1]):
                self.clock.set(max(self.clock.now(), visible_s))
                self.deliver(message, receive_count=1)
        raise AssertionError("messages kept coming back")

    def once_each(self) -> bool:
        return bool(self.completed) and all(n == 1 for n in self.completed.values())
