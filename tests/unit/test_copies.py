"""Firings that carry their timer's copy (issue 22): no timer read in the common case, and
every guarantee kept when the timer is written between the ticker's read and the delivery.

A ticker reads the index at 12:00:01 and sends the firings of 12:01 with their timers' copies;
each change below happens at a step between that read and the firing's delivery at its second,
and returns before the delivery reads its shard's change log (as a user's DELETE returns before
a firing it must stop). In the style of test_handoff: deterministic, hooks on the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.test_handoff import HookedStore
from tests.unit.world import T0, Counted, World
from timer_service.dispatch import Firing
from timer_service.job_types import JobContext, JobType

CREATED = T0 - 570  # ten minutes before the tick: not raced, its firings at second :30
FIRST = T0 + 30  # the first firing the tick of 12:00:01 sends


class Recorded:
    def __init__(self) -> None:
        self.payloads: list[tuple[int, Any, int]] = []  # scheduled second, data, version

    def job_type(self) -> JobType:
        def run(config: Counted, context: JobContext) -> None:
            self.payloads.append(
                (context.firing.scheduled_s, context.timer.callback_data, context.firing.version)
            )

        return JobType(name="recorded", config_model=Counted, handler=run)


def world() -> tuple[World, HookedStore, Recorded]:
    recorded = Recorded()
    store = HookedStore()
    return World(store, start_s=CREATED, job_types=(recorded.job_type(),)), store, recorded


def create(w: World, data: Any = "v1") -> None:
    w.put("t", schedule="rate(1 minute)", jobType="recorded", timerCallbackData=data)


def deliver_at_their_seconds(w: World) -> list[Any]:
    """Each firing sent so far, delivered at its second, as one message of its own."""
    outcomes = []
    for n, (firing, _) in enumerate(w.queue.sent[w.delivered :], start=w.delivered):
        w.clock.set(max(w.clock.now(), firing.due_s + 0.2))
        reads = w.delivery.reads([firing])
        delivered = w.delivery.deliver(firing, attempt=1, reads=reads, delivery_id=f"m{n}")
        outcomes.append((firing, reads, delivered))
    w.delivered = len(w.queue.sent)
    return outcomes


def tick(w: World) -> None:
    w.clock.set(T0 + 1.5)
    w.engine.tick(0)


def test_a_firing_of_an_unchanged_timer_runs_from_its_copy_with_no_timer_read() -> None:
    w, store, recorded = world()
    create(w)
    tick(w)
    (firing, _), *_ = w.queue.sent
    assert firing.snapshot is not None and firing.snap_s is not None
    reads_before = store.reads
    delivered = deliver_at_their_seconds(w)
    assert [outcome.outcome for _, _, outcome in delivered] == ["delivered", "delivered"]
    for _, reads, _ in delivered:
        assert (reads.copies, reads.reads, reads.log_reads) == (1, 0, 1)
    assert store.reads == reads_before  # no timer was read
    assert recorded.payloads == [(FIRST, "v1", 1), (FIRST + 60, "v1", 1)]


def _delete(w: World) -> None:
    w.service.delete("alice", "t")


def _pause(w: World) -> None:
    w.service.set_enabled("alice", "t", enabled=False)


def _replace(w: World) -> None:
    create(w, data="v2")


def _relabel(w: World) -> None:
    w.put("t", schedule="rate(1 minute)", jobType="recorded", timerCallbackData="v1",
          labels={"team": "x"})  # fmt: skip


def _recreate(w: World) -> None:
    w.service.delete("alice", "t")
    create(w, data="v3")


CHANGES: dict[str, Callable[[World], None]] = {
    "delete": _delete,
    "pause": _pause,
    "replace": _replace,
    "relabel": _relabel,
    "recreate": _recreate,
}
# What runs at 12:00:30 after each change: nothing after a delete or pause; a replace's
# new version from the second after its write on (12:01:00 belongs to the old version only
# when the write was in that second); a labels-only write changes no firing.
EXPECTED: dict[str, list[tuple[int, Any, int]]] = {
    "delete": [],
    "pause": [],
    "replace": [(FIRST, "v2", 2)],  # the old version's is stale; the API sent the new one's
    "relabel": [(FIRST, "v1", 1)],
    "recreate": [],
}
STEPS = ["after_query", "before_done", "after_done", "after_send", "before_delivery"]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_write_between_the_tickers_read_and_the_delivery_is_honoured(
    change: str, step: str
) -> None:
    # GIVEN a timer whose 12:00:30 firing the ticker reads at 12:00:01 with its copy
    w, store, recorded = world()
    create(w)
    w.clock.set(T0 + 1.5)
    # WHEN the timer is changed at this step, after the ticker's read (the write returns)
    if step in ("after_query", "before_done", "after_done"):
        store.hooks[step] = lambda: CHANGES[change](w)
        w.engine.tick(0)
    else:
        w.engine.tick(0)
        if step == "before_delivery":
            w.clock.set(FIRST - 0.5)  # its message arrived; the firing waits for its second
        CHANGES[change](w)
    # THEN the firing of 12:00:30 runs as the timer now says: not after a delete or pause,
    # not as the old version after a replace; and each firing runs at most once
    deliver_at_their_seconds(w)
    first = [p for p in recorded.payloads if p[0] == FIRST]
    assert first == EXPECTED[change], (change, step, recorded.payloads)
    assert max(Counter(p[0] for p in recorded.payloads).values(), default=1) == 1


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_next_minutes_run_the_timer_as_written(change: str) -> None:
    # GIVEN the change made after the ticker's read of 12:01; WHEN the next ticks run
    w, _, recorded = world()
    create(w)
    tick(w)
    CHANGES[change](w)
    deliver_at_their_seconds(w)
    for _ in range(3):
        w.next_minute()
        w.engine.tick(0)
        deliver_at_their_seconds(w)
    # THEN from 12:02 on: nothing for a deleted or paused timer, the new payload after a
    # replace or re-create (each second once), the same after a relabelling
    later = [p for p in recorded.payloads if p[0] > FIRST + 60]
    data = {"delete": None, "pause": None, "replace": "v2", "relabel": "v1", "recreate": "v3"}
    if data[change] is None:
        assert later == []
    else:
        assert len(later) >= 3 and {d for _, d, _ in later} == {data[change]}, later
        assert len({s for s, _, _ in later}) == len(later)  # each second once


def test_a_retry_or_a_copy_past_its_trust_reads_the_timer() -> None:
    w, _, _ = world()
    create(w)
    tick(w)
    (firing, _), *_ = w.queue.sent
    w.clock.set(firing.due_s + 0.2)
    reads = w.delivery.reads([firing])
    w.delivery.deliver(firing, attempt=2, reads=reads)
    assert (reads.copies, reads.reads) == (0, 1)
    old = Firing("alice", "t", 1, firing.scheduled_s, snapshot=firing.snapshot, snap_s=T0 - 3600)
    reads = w.delivery.reads([old])
    w.delivery.deliver(old, attempt=1, reads=reads)
    assert (reads.copies, reads.reads) == (0, 1)


def test_a_copy_of_another_version_or_incarnation_is_not_used() -> None:
    w, _, _ = world()
    create(w)
    tick(w)
    (firing, _), *_ = w.queue.sent
    w.clock.set(firing.due_s + 0.2)
    assert firing.snapshot is not None and firing.snap_s is not None
    forged = Firing(
        "alice", "t", 7, firing.scheduled_s, snapshot=firing.snapshot, snap_s=firing.snap_s
    )
    reads = w.delivery.reads([forged])
    assert w.delivery.deliver(forged, attempt=1, reads=reads).outcome == "stale"
    assert reads.copies == 0


def test_timers_that_count_failures_or_skip_overlaps_carry_no_copy() -> None:
    w, _, _ = world()
    w.put("a", schedule="rate(1 minute)", jobType="recorded", pauseAfterFailures=3)
    w.put("o", schedule="rate(1 minute)", jobType="recorded", overlap="skip")
    w.put("plain", schedule="rate(1 minute)", jobType="recorded")
    tick(w)
    copies = {f.timer_id: f.snapshot is not None for f, _ in w.queue.sent}
    assert copies == {"a": False, "o": False, "plain": True}
