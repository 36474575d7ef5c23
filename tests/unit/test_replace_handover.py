"""Replacing a timer in the second one of its firings is due: that second runs once.

The old version's firing for the second of the PUT may run before the write or arrive after
it; the new version's hand-off must neither run the second again nor drop it. Fixed clock,
one world (tests/unit/world.py): the timer is made at 12:00:00, well before the race horizon
(its firings are not raced, so no claim dedupes them), and ticks each minute; the tick at
12:10:01 claims 12:11, the minute of the PUT.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.unit.world import T0, World

MINUTE_S = T0 + 11 * 60  # 12:11:00, the minute the tick claimed
REPLACE_S = MINUTE_S + 30
SCHEDULES = ["rate(1 second)", "rate(5 seconds)", "cron(* * * * ? *)"]


def deliver_due(world: World, *, until_s: int) -> None:
    """Deliver, in the order sent, every message not yet handed over whose second is at or
    before ``until_s`` (the others stay queued)."""
    pending = world.queue.sent[world.delivered :]
    world.queue.sent[world.delivered :] = [(f, d) for f, d in pending if f.scheduled_s <= until_s]
    world.deliver_sent()
    world.queue.sent.extend((f, d) for f, d in pending if f.scheduled_s > until_s)


def runs_of(world: World) -> Counter[int]:
    return Counter({s: n for (t, s), n in world.runs.items() if t == "t"})


def start(world: World, schedule: str) -> None:
    world.engine.tick(0)  # a running shard: it has claimed 12:01
    world.put("t", schedule=schedule, jobType="counted", timerCallbackData={"v": 1})
    world.next_minute()
    while world.clock.now() < MINUTE_S:
        world.engine.tick(0)  # at 12:10:01 it claims 12:11
        deliver_due(world, until_s=int(world.clock.now()) + 58)  # this minute's
        world.next_minute()
    world.clock.set(MINUTE_S)
    assert not any(f.raced for f, _ in world.queue.sent[world.delivered :])
    world.runs.clear()


def in_flight(schedule: str, *, now_s: int, delivered_until_s: int) -> World:
    """The timer's world at ``now_s``, its firings up to ``delivered_until_s`` delivered (the
    later ones still on their way)."""
    world = World(start_s=T0)
    start(world, schedule)
    world.clock.set(now_s)
    deliver_due(world, until_s=delivered_until_s)
    return world


def replace(world: World, schedule: str, data: int = 2) -> None:
    world.put("t", schedule=schedule, jobType="counted", timerCallbackData={"v": data})


def expected_seconds(schedule: str) -> set[int]:
    step = {"rate(1 second)": 1, "rate(5 seconds)": 5, "cron(* * * * ? *)": 60}[schedule]
    return {s for s in range(MINUTE_S, MINUTE_S + 60) if (s - T0) % step == 0}


@pytest.mark.parametrize("schedule", SCHEDULES[:2])
def test_the_old_versions_firing_ran_before_the_put_is_not_run_again(schedule: str) -> None:
    # GIVEN the old version has run every second up to and including 12:11:30
    world = in_flight(schedule, now_s=REPLACE_S, delivered_until_s=REPLACE_S)
    assert runs_of(world)[REPLACE_S] == 1
    # WHEN the timer is replaced in that second, and every message left is delivered
    replace(world, schedule)
    world.deliver_sent()
    # THEN each second of the minute ran exactly once: none twice, none dropped
    runs = runs_of(world)
    assert set(runs) >= expected_seconds(schedule)
    assert {s: n for s, n in runs.items() if n != 1} == {}


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_the_old_versions_firing_arriving_after_the_put_still_runs_once(schedule: str) -> None:
    # GIVEN the old version's firing for 12:11:30 has not arrived when the PUT lands
    world = in_flight(schedule, now_s=REPLACE_S, delivered_until_s=REPLACE_S - 1)
    replace(world, schedule)
    # WHEN the rest arrives (the old version's 12:11:30 first)
    world.deliver_sent()
    # THEN 12:11:30 (where due) ran once, and so did every later second
    runs = runs_of(world)
    assert set(runs) >= expected_seconds(schedule)
    assert {s: n for s, n in runs.items() if n != 1} == {}


def test_two_replaces_in_the_second_of_a_firing_run_it_once() -> None:
    world = in_flight("rate(1 second)", now_s=REPLACE_S, delivered_until_s=REPLACE_S - 1)
    replace(world, "rate(1 second)", data=2)
    replace(world, "rate(1 second)", data=3)
    world.deliver_sent()
    runs = runs_of(world)
    assert set(runs) >= expected_seconds("rate(1 second)")
    assert {s: n for s, n in runs.items() if n != 1} == {}


def test_a_replace_that_stops_the_timer_firing_each_second_runs_no_old_firing_after_it() -> None:
    # GIVEN a second rate replaced by an hourly one at 12:11:30: the old version's firings of
    # 12:11:31 on are stale, and 12:11:30's (already due) runs once
    world = in_flight("rate(1 second)", now_s=REPLACE_S, delivered_until_s=REPLACE_S - 1)
    replace(world, "rate(1 hour)")
    world.deliver_sent()
    runs = runs_of(world)
    assert [s for s in runs if s > REPLACE_S] == []
    assert runs[REPLACE_S] == 1


# --- found by the review: other writes in the second of the hand-over -------------------------


def twice_or_missing(world: World, schedule: str) -> dict[int, int]:
    runs = runs_of(world)
    counts = {s: runs.get(s, 0) for s in expected_seconds(schedule)}
    return {s: n for s, n in counts.items() if n != 1} | {s: n for s, n in runs.items() if n > 1}


def test_a_labels_only_put_after_a_replace_keeps_the_hand_over() -> None:
    # GIVEN a replace at 12:11:30 whose old 12:11:30 firing has not arrived yet
    world = in_flight("rate(1 second)", now_s=REPLACE_S, delivered_until_s=REPLACE_S - 1)
    replace(world, "rate(1 second)")
    # WHEN the same spec is PUT again with labels only
    world.put(
        "t",
        schedule="rate(1 second)",
        jobType="counted",
        timerCallbackData={"v": 2},
        labels={"team": "ops"},
    )
    world.deliver_sent()
    assert twice_or_missing(world, "rate(1 second)") == {}


def test_a_second_replace_in_the_second_keeps_a_hand_over_of_a_version_not_due_then() -> None:
    # GIVEN rate(5 seconds) (due at :30), replaced at :31 while its :30 firing is on its way
    world = in_flight("rate(5 seconds)", now_s=REPLACE_S + 1, delivered_until_s=REPLACE_S - 1)
    replace(world, "rate(5 seconds)", data=2)
    replace(world, "rate(5 seconds)", data=3)
    world.deliver_sent()
    assert twice_or_missing(world, "rate(5 seconds)") == {}


@pytest.mark.parametrize(
    "writes", [["pause", "put"], ["pause", "resume"], ["put", "pause", "resume"]]
)
def test_a_pause_in_the_second_a_firing_ran_does_not_let_the_next_write_run_it_again(
    writes: list[str],
) -> None:
    # GIVEN the 12:11:30 firing ran; WHEN the timer is paused, then replaced or resumed, in
    # that second THEN 12:11:30 ran once, and the seconds after run once each
    world = in_flight("rate(1 second)", now_s=REPLACE_S, delivered_until_s=REPLACE_S)
    for write in writes:
        if write == "put":
            replace(world, "rate(1 second)")
        else:
            world.service.set_enabled("alice", "t", enabled=write == "resume")
    world.deliver_sent()
    runs = runs_of(world)
    assert runs[REPLACE_S] == 1
    if writes[-1] != "pause":
        assert twice_or_missing(world, "rate(1 second)") == {}


def test_an_at_timer_replaced_in_its_own_second_completes_by_the_handed_over_firing() -> None:
    at = "at(2026-11-22T12:11:30)"
    world = in_flight(
        at, now_s=REPLACE_S, delivered_until_s=REPLACE_S - 1
    )  # its firing is on its way
    world.put("t", schedule=at, jobType="counted", onComplete="delete")
    world.deliver_sent()
    assert runs_of(world) == Counter({REPLACE_S: 1})
    assert ("alice", "t") not in world.store.timers  # completed, and so deleted
