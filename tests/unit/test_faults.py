"""Faults injected into ticker, queue, store and callbacks (in memory, fixed clock).

For every fault and both delivery modes: no firing is lost; with ``deduplicated`` no job
completes twice for one firing; with ``atLeastOnce`` the duplicates are counted (and the
counts are what docs/reliability.md reports).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from tests.unit.world import T0, World
from timer_service.dispatch import DispatchError, Firing, InMemoryDispatchQueue
from timer_service.errors import StoreError
from timer_service.store.memory import InMemoryTimerStore
from timer_service.testing import InMemoryRunOnce
from timer_service.tick import TickEngine, TickSettings

MINUTES = 6  # ticks 12:01 .. 12:06; the fault strikes in the tick of 12:03
FAULT_MINUTE = 3


class FaultyStore(InMemoryTimerStore):
    """A store whose named calls fail (``fail[name]`` times) with a throttling error."""

    def __init__(self) -> None:
        super().__init__()
        self.fail: Counter[str] = Counter()
        self.armed = False
        self.while_claimed: Callable[[], None] | None = None  # runs inside a tick, lease held

    def begin_tick(self, *args: Any, **kwargs: Any) -> Any:
        state = super().begin_tick(*args, **kwargs)
        hook, self.while_claimed = self.while_claimed, None
        if hook is not None and state is not None:
            hook()
        return state

    def _maybe_fail(self, name: str) -> None:
        if self.armed and self.fail[name] > 0:
            self.fail[name] -= 1
            raise StoreError(f"DynamoDB: ProvisionedThroughputExceededException ({name})")

    def query_index(self, partition: str) -> Any:
        self._maybe_fail("query_index")
        return super().query_index(partition)

    def put_successor(self, entry: Any) -> bool:
        self._maybe_fail("put_successor")
        return super().put_successor(entry)

    def end_tick(self, *args: Any, **kwargs: Any) -> None:
        self._maybe_fail("end_tick")
        super().end_tick(*args, **kwargs)


class FaultyQueue(InMemoryDispatchQueue):
    """Fails a send once: before any batch (``before``) or after ``batches`` batches."""

    def __init__(self, world_clock: Any) -> None:
        super().__init__(world_clock)
        self.fail_after_batches: int | None = None

    def send(self, firings: Sequence[Firing]) -> None:
        if self.fail_after_batches is None:
            super().send(firings)
            return
        kept = list(firings[: self.fail_after_batches * 10])
        self.fail_after_batches = None
        super().send(kept)
        raise DispatchError("the ticker died while sending")


@dataclass
class Result:
    expected: set[tuple[str, int]]
    completed: Counter[tuple[str, int]]

    @property
    def lost(self) -> int:
        return sum(1 for key in self.expected if self.completed[key] == 0)

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.completed.values() if n > 1)


def ticker(world: World, store: FaultyStore, queue: FaultyQueue, token: str) -> TickEngine:
    """A ticker instance (its token names its lease) catching up an hour of misses."""
    return TickEngine(
        store=store,
        queue=queue,
        clock=world.clock,
        settings=TickSettings(catch_up_window_s=3600),
        token=token,
    )


def build(delivery: str) -> tuple[World, FaultyStore, FaultyQueue]:
    store = FaultyStore()
    world = World(store)
    queue = FaultyQueue(world.clock)
    world.queue = queue
    world.service._queue = queue
    world.engine = ticker(world, store, queue, "ticker-a")
    for n in range(12):
        common = {"jobType": "counted", "delivery": delivery, "misfirePolicy": "fireAll"}
        world.put(f"rate{n}", schedule="rate(1 minute)", **common)
        world.put(f"cron{n}", schedule="cron(* * * * ? *)", **common)
        world.put(f"at{n}", schedule=f"at(2026-11-22T12:0{2 + n % 4}:{10 + n:02d})", **common)
    return world, store, queue


def expected_firings(world: World, through_s: int) -> set[tuple[str, int]]:
    """Every firing of every timer from 12:01 through ``through_s``."""
    from timer_service.time_index import timing_of

    expected = set()
    for (_, timer_id), timer in world.store.timers.items():
        for fire_s in timing_of(timer).iter_from(T0 + 60):
            if fire_s > through_s:
                break
            expected.add((timer_id, fire_s))
    return expected


def deliver(
    world: World, run_once: InMemoryRunOnce, crash: Callable[[Firing, int], str | None]
) -> None:
    """Deliver what was sent; ``crash(firing, attempt)`` may make the callback die
    ("before_job" or "after_job": the message comes back) on a delivery."""
    pending = [(f, f"m{n}") for n, (f, _) in enumerate(world.queue.sent[world.delivered :])]
    world.delivered = len(world.queue.sent)
    attempts: Counter[str] = Counter()
    while pending:
        firing, message_id = pending.pop(0)
        attempts[message_id] += 1
        how = crash(firing, attempts[message_id])
        reads = world.delivery.reads([firing])
        if how == "before_job":
            pending.append((firing, message_id))  # visibility timeout: delivered again
            continue
        world.delivery.deliver(
            firing,
            attempt=attempts[message_id],
            reads=reads,
            run_once=run_once,
            delivery_id=message_id,
        )
        if how == "after_job":
            pending.append((firing, message_id))  # the job ran, the delete never happened


def run(fault: str, delivery: str) -> Result:
    world, store, queue = build(delivery)
    run_once = InMemoryRunOnce()
    crashes: set[tuple[str, int]] = set()

    def crash(firing: Firing, attempt: int) -> str | None:
        if fault.startswith("callback_") and attempt == 1 and firing.timer_id.endswith(("0", "5")):
            key = (firing.timer_id, firing.scheduled_s)
            if key not in crashes:
                crashes.add(key)
                return fault.removeprefix("callback_crash_")
        return None

    world.clock.set(T0 + 60 + 1)
    for minute in range(1, MINUTES + 1):
        world.clock.set(T0 + minute * 60 + 1)
        if minute == FAULT_MINUTE:
            inject(fault, world, store, queue)
        with contextlib.suppress(DispatchError, StoreError):
            world.engine.tick(0)  # it may die; EventBridge invokes the next one a minute later
        store.armed = False
        if minute == FAULT_MINUTE and fault == "takeover":
            # the dead ticker's lease (90 s) runs out; another ticker instance picks up
            world.engine = ticker(world, store, queue, "ticker-b")
        deliver(world, run_once, crash)
    return Result(expected_firings(world, T0 + MINUTES * 60 + 59), world.runs)


def inject(fault: str, world: World, store: FaultyStore, queue: FaultyQueue) -> None:
    if fault == "crash_after_claim":
        queue.fail_after_batches = 0
    elif fault == "crash_mid_send":
        queue.fail_after_batches = 2
    elif fault in ("crash_before_done", "takeover"):
        store.fail["end_tick"] = 1
        store.armed = True
    elif fault == "throttled_queries":
        store.fail["query_index"] = 1
        store.armed = True
    elif fault == "throttled_writes":
        store.fail["put_successor"] = 1
        store.armed = True
    elif fault == "two_tickers":
        # EventBridge invokes a second ticker for the shard while the first holds the lease
        rival = TickEngine(store=store, queue=queue, clock=world.clock, token="rival")
        store.while_claimed = lambda: rival.tick(0)


FAULTS = [
    "none",
    "crash_after_claim",
    "crash_mid_send",
    "crash_before_done",
    "takeover",
    "throttled_queries",
    "throttled_writes",
    "two_tickers",
    "callback_crash_before_job",
    "callback_crash_after_job",
]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("delivery", ["atLeastOnce", "deduplicated"])
def test_no_firing_is_lost_and_deduplicated_runs_once(fault: str, delivery: str) -> None:
    result = run(fault, delivery)
    assert len(result.expected) > 100
    assert result.lost == 0, (fault, delivery)
    if delivery == "deduplicated":
        assert result.duplicates == 0, (fault, delivery)
    else:
        assert result.duplicates == DUPLICATES_AT_LEAST_ONCE[fault], (fault, result.duplicates)


# What each fault costs in duplicate runs with atLeastOnce delivery (docs/reliability.md):
# a tick that dies after sending re-sends its minutes; a callback that dies after the job
# ran runs it again; everything else costs nothing.
DUPLICATES_AT_LEAST_ONCE = {
    "none": 0,
    "crash_after_claim": 0,
    "crash_mid_send": 20,  # the two batches sent before it died, sent again
    "crash_before_done": 27,  # the minute's 27 firings, sent again
    "takeover": 27,  # the same minute, re-sent by the ticker that took the lease over
    "throttled_queries": 0,
    "throttled_writes": 0,
    "two_tickers": 0,
    "callback_crash_before_job": 0,
    "callback_crash_after_job": 45,  # one per crash: the job ran, the message came back
}


def test_a_second_ticker_finds_the_shard_busy_and_sends_nothing() -> None:
    world, store, queue = build("atLeastOnce")
    rival = TickEngine(store=store, queue=queue, clock=world.clock, token="rival")
    reports = []
    store.while_claimed = lambda: reports.append(rival.tick(0))
    world.engine.tick(0)
    (report,) = reports
    assert report.busy and report.sent == 0
