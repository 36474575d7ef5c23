"""``misfirePolicy: fireAll`` after an outage, on a fixed clock: bounded by each timer's
``catchUpWindow`` (Temporal's term: how far back missed actions are still taken, see
https://docs.temporal.io/schedule#catchup-window) and paced, so a long outage does not fire a
flood at once."""

from __future__ import annotations

import pytest

from tests.unit.world import T0, World
from timer_service.dispatch import Firing
from timer_service.tick import CATCH_UP_PER_TICK, TickEngine, TickSettings, apply_misfire_policy


@pytest.fixture
def world() -> World:
    return World()


def late_sends(world: World, timer_id: str) -> list[tuple[int, float]]:
    """(scheduled second, second it reaches the callbacks) of the timer's late firings."""
    now_s = world.clock.now()
    return sorted(
        (f.scheduled_s, visible_s)
        for f, visible_s in world.queue.sent
        if f.timer_id == timer_id and f.scheduled_s < now_s - 60
    )


def outage(world: World, *, minutes: int) -> None:
    """The ticker ran 12:01, then nothing until ``minutes`` later."""
    world.run_minutes(1)
    world.queue.sent.clear()
    world.clock.set(T0 + (minutes + 1) * 60 + 1)


def test_fire_all_catch_up_reaches_the_callbacks_one_a_second_oldest_first(world: World) -> None:
    # GIVEN a fireAll rate timer and a ticker down from 12:02 to 12:11
    world.put("r", schedule="rate(1 minute)", misfirePolicy="fireAll")
    outage(world, minutes=10)
    # WHEN the ticker comes back
    world.engine.tick(0)
    # THEN the 8 firings missed by more than a minute are spread a second apart, not at once
    sends = late_sends(world, "r")
    now_s = world.clock.now()
    assert [s for s, _ in sends] == [T0 + 60 * m + 1 for m in range(2, 10)]
    assert [visible - now_s for _, visible in sends] == list(range(8))


def test_fire_all_catch_up_keeps_each_firings_scheduled_second(world: World) -> None:
    world.put("r", schedule="rate(1 minute)", misfirePolicy="fireAll")
    outage(world, minutes=10)
    world.engine.tick(0)
    ids = sorted(f.firing_id for f, _ in world.queue.sent if f.timer_id == "r")
    assert ids[0] == "alice#r@2026-11-22T12:02:01Z"  # the id of the firing that was missed


def test_catch_up_window_of_a_timer_bounds_how_far_back_it_fires(world: World) -> None:
    # GIVEN two fireAll timers, one with a 5-minute catch-up window, and a 30-minute outage
    world.put("short", schedule="rate(1 minute)", misfirePolicy="fireAll", catchUpWindow=300)
    world.put("default", schedule="rate(1 minute)", misfirePolicy="fireAll")
    outage(world, minutes=30)
    # WHEN the ticker comes back
    report = world.engine.tick(0)
    # THEN the short one sends what is inside its 5 minutes; the other, its hour: all 28
    now_s = world.clock.now()
    short = [s for s, _ in late_sends(world, "short")]
    assert short and all(s >= now_s - 300 for s in short)
    assert len(short) == 4  # 12:26:01 (300 s back) to 12:29:01
    assert len(late_sends(world, "default")) == 28
    assert report.not_sent == 28 - 4


def test_catch_up_window_zero_sends_only_the_latest_missed_firing(world: World) -> None:
    world.put("r", schedule="rate(1 minute)", misfirePolicy="fireAll", catchUpWindow=0)
    outage(world, minutes=10)
    world.engine.tick(0)
    assert [s for s, _ in late_sends(world, "r")] == [T0 + 9 * 60 + 1]


def test_fire_all_catch_up_sends_at_most_a_minute_of_them_a_tick_the_newest() -> None:
    # GIVEN a fireAll timer with a 3-hour window and a ticker down for 100 minutes
    world = World()
    world.engine = TickEngine(
        store=world.store,
        queue=world.queue,
        clock=world.clock,
        settings=TickSettings(max_minutes_per_tick=120),
    )
    world.put("r", schedule="rate(1 minute)", misfirePolicy="fireAll", catchUpWindow=3 * 3600)
    outage(world, minutes=100)
    # WHEN one tick catches up all of it
    report = world.engine.tick(0)
    # THEN it sends the newest 60 late ones, a second apart, and counts the rest not sent
    sends = late_sends(world, "r")
    assert len(sends) == CATCH_UP_PER_TICK == 60
    assert sends[-1][0] == T0 + 99 * 60 + 1  # the latest late one is among them
    assert report.late == 98
    assert report.not_sent == 98 - 60
    now_s = world.clock.now()
    assert max(visible for _, visible in sends) - now_s == 59


def test_apply_misfire_policy_on_time_firings_are_not_paced() -> None:
    now_s = T0 + 600
    on_time = [Firing("alice", "r", 1, now_s - 30), Firing("alice", "r", 1, now_s + 30)]
    late = [Firing("alice", "r", 1, now_s - 300), Firing("alice", "r", 1, now_s - 240)]
    send, not_sent, late_count = apply_misfire_policy(
        [(f, "fireAll") for f in on_time + late], now_s=now_s, catch_up_window_s=3600
    )
    assert (not_sent, late_count) == (0, 2)
    assert [f.due_s for f in send if f in on_time] == [f.scheduled_s for f in on_time]
    paced = sorted((f.scheduled_s, f.due_s) for f in send if f.scheduled_s < now_s - 60)
    assert paced == [(now_s - 300, now_s), (now_s - 240, now_s + 1)]


def test_apply_misfire_policy_window_of_one_timer_leaves_others_at_the_default() -> None:
    now_s = T0 + 3600
    firings = [
        (Firing("alice", timer_id, 1, now_s - 60 * m), "fireAll")
        for timer_id in ("a", "b")
        for m in range(2, 12)
    ]
    send, _, _ = apply_misfire_policy(
        firings, now_s=now_s, catch_up_window_s=3600, catch_up_windows={("alice", "a"): 240}
    )
    assert sorted(f.scheduled_s for f in send if f.timer_id == "a") == [
        now_s - 240,
        now_s - 180,
        now_s - 120,
    ]
    assert len([f for f in send if f.timer_id == "b"]) == 10


def test_catch_up_window_reaches_no_further_back_than_the_index_keeps_a_late_item() -> None:
    from timer_service.models import MAX_CATCH_UP_WINDOW_S
    from timer_service.time_index import INDEX_RETENTION_S

    assert MAX_CATCH_UP_WINDOW_S <= INDEX_RETENTION_S
