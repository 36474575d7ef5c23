"""The tick engine on in-memory adapters: what fires when, what it costs, no firing lost."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.world import T0, World
from timer_service.dispatch import DispatchError, Firing, InMemoryDispatchQueue
from timer_service.tick import TickEngine, TickSettings


@pytest.fixture
def world() -> World:
    return World()


def fired(firings: list[Firing], timer_id: str) -> list[int]:
    return sorted(f.scheduled_s for f in firings if f.timer_id == timer_id)


def test_rate_timer_fires_every_period_on_its_second(world: World) -> None:
    world.clock.set(T0 + 37)
    world.put("r", schedule="rate(1 minute)")
    world.clock.set(T0 + 61)
    firings = world.run_minutes(4)
    assert fired(firings, "r")[:3] == [T0 + 97, T0 + 157, T0 + 217]


def test_messages_are_held_until_at_most_one_second_before_their_time(world: World) -> None:
    world.clock.set(T0 + 37)
    world.put("r", schedule="rate(1 minute)")
    world.clock.set(T0 + 61)
    world.run_minutes(3)
    for firing, visible_at in world.queue.sent:
        assert firing.scheduled_s - 1 < visible_at <= firing.scheduled_s


def test_rate_and_one_shot_firings_cost_no_store_write(world: World) -> None:
    for n in range(50):
        world.put(f"r{n}", schedule="rate(1 minute)")
        world.put(f"a{n}", schedule="at(2026-11-22T12:03:30)")
    writes_before = world.store.writes
    world.clock.set(T0 + 120 + 1)
    world.run_minutes(3)
    assert len(world.queue.sent) >= 150
    assert world.store.writes - writes_before == 2 * 3  # begin + end of each tick, nothing else


def test_cron_firing_costs_one_write_its_next_item(world: World) -> None:
    world.put("c", schedule="cron(* * * * ? *)")
    world.clock.set(T0 + 61)
    world.run_minutes(1)
    writes_before = world.store.writes
    firings = world.run_minutes(5)
    assert world.store.writes - writes_before == 5 * 2 + 5
    assert fired(firings, "c")[-5:] == [T0 + 60 * m for m in range(3, 8)]


def test_one_shot_fires_once(world: World) -> None:
    world.put("a", schedule="at(2026-11-22T12:02:15)")
    firings = world.run_minutes(6)
    assert fired(firings, "a") == [T0 + 135]


def test_deleted_and_paused_timers_do_not_fire(world: World) -> None:
    world.put("gone", schedule="rate(1 minute)")
    world.put("paused", schedule="rate(1 minute)")
    world.service.delete("alice", "gone")
    world.service.set_enabled("alice", "paused", enabled=False)
    assert world.run_minutes(4) == []


def test_second_ticker_finds_the_lease_taken(world: World) -> None:
    other = TickEngine(store=world.store, queue=world.queue, clock=world.clock, token="other")
    world.store.begin_tick(0, token="first", now_s=world.clock.now(), lease_s=90, claim=1, first=1)
    assert other.tick(0).busy


def test_expired_lease_is_taken_over(world: World) -> None:
    world.store.begin_tick(0, token="dead", now_s=world.clock.now(), lease_s=90, claim=1, first=1)
    world.clock.advance(91)
    assert not world.engine.tick(0).busy


def test_crash_between_claim_and_done_resends_the_minute(world: World) -> None:
    world.put("r", schedule="rate(1 minute)")

    class FailingQueue(InMemoryDispatchQueue):
        def send(self, firings: Any) -> None:
            raise DispatchError("queue down")

    crashing = TickEngine(
        store=world.store, queue=FailingQueue(world.clock), clock=world.clock, token="crash"
    )
    world.clock.set(T0 + 61)
    with pytest.raises(DispatchError):
        crashing.tick(0)
    world.clock.advance(91)  # the crashed ticker's lease expires
    world.engine.tick(0)
    # minutes 12:01 and 12:02 were claimed by the crashed tick: both are sent now
    assert fired([f for f, _ in world.queue.sent], "r")[:2] == [T0 + 61, T0 + 121]


@pytest.mark.parametrize(
    ("policy", "expected_late"),
    [("fireOnce", 1), ("fireAll", 8), ("skip", 0)],
)
def test_catch_up_after_downtime_follows_misfire_policy(
    world: World, policy: str, expected_late: int
) -> None:
    world.put("r", schedule="rate(1 minute)", misfirePolicy=policy)
    world.run_minutes(1)  # ticks minute 12:01; the timer fires at 12:01:01
    world.queue.sent.clear()
    world.clock.set(T0 + 11 * 60 + 1)  # down from 12:02 to 12:11
    report = world.engine.tick(0)
    times = fired([f for f, _ in world.queue.sent], "r")
    late = [t for t in times if t < world.clock.now() - 60]
    on_time = [t for t in times if t >= world.clock.now() - 60]
    assert len(late) == expected_late
    # 12:02:01-12:09:01 are more than a minute late; 12:10:01 is within the threshold
    assert on_time == [T0 + 10 * 60 + 1, T0 + 11 * 60 + 1, T0 + 12 * 60 + 1]
    assert report.late == 8
    assert report.not_sent == 8 - expected_late


def test_catch_up_chains_cron_timers_through_missed_minutes(world: World) -> None:
    world.put("c", schedule="cron(0/2 * * * ? *)", misfirePolicy="fireAll")
    world.run_minutes(1)
    world.clock.set(T0 + 10 * 60 + 1)
    world.engine.tick(0)
    times = fired([f for f, _ in world.queue.sent], "c")
    assert times == [T0 + 60 * m for m in range(2, 12, 2)]


def test_long_outage_is_caught_up_over_several_ticks_without_gaps() -> None:
    world = World()
    world.engine = TickEngine(
        store=world.store,
        queue=world.queue,
        clock=world.clock,
        settings=TickSettings(max_minutes_per_tick=10),
    )
    world.put("c", schedule="cron(* * * * ? *)", misfirePolicy="fireAll")
    world.run_minutes(1)
    world.clock.set(T0 + 40 * 60 + 1)
    for _ in range(5):
        world.engine.tick(0)
    times = fired([f for f, _ in world.queue.sent], "c")
    assert times == [T0 + 60 * m for m in range(1, 42)]


def test_timer_created_after_its_minute_was_claimed_is_sent_by_the_api(world: World) -> None:
    world.engine.tick(0)  # 12:00:01: minute 12:01 claimed and done, partition empty
    world.queue.sent.clear()
    world.put("late", schedule="at(2026-11-22T12:01:10)")
    (sent,) = [f for f, _ in world.queue.sent if f.timer_id == "late"]
    assert (sent.scheduled_s, sent.raced) == (T0 + 70, True)
