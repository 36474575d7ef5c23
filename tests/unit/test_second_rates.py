"""``rate(N seconds)`` on a fixed clock: fired on each second it is due, by the per-minute tick,
with no write per firing; and the per-owner limit of firings a minute that keeps one tenant's
second rates from starving the others.

EventBridge spells a rate's unit in the singular for 1 and the plural otherwise
(https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#rate-based): the
same spellings are taken for seconds, which EventBridge itself does not offer (its rates start
at one minute)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.unit.world import T0, World
from timer_service.errors import FiringRateExceededError, InvalidScheduleError
from timer_service.schedules import parse_schedule
from timer_service.time_index import rate_base_min


@pytest.mark.parametrize(
    ("expression", "period_s"),
    [
        ("rate(1 second)", 1),
        ("rate(1 seconds)", 1),
        ("rate(30 seconds)", 30),
        ("rate(90 seconds)", 90),
        ("rate( 5 seconds )", 5),
    ],
)
def test_second_rates_parse_as_eventbridge_spells_units(expression: str, period_s: int) -> None:
    schedule = parse_schedule(expression)
    assert schedule.period_s == period_s  # type: ignore[union-attr]


@pytest.mark.parametrize("expression", ["rate(0 seconds)", "rate(-1 seconds)", "rate(1 sec)"])
def test_a_second_rate_that_is_not_one_is_refused(expression: str) -> None:
    with pytest.raises(InvalidScheduleError):
        parse_schedule(expression)


def test_canonical_spelling_is_singular_for_one() -> None:
    assert parse_schedule("rate(1 seconds)").expression == "rate(1 second)"
    assert parse_schedule("rate(10 second)").expression == "rate(10 seconds)"


def fired_seconds(world: World, timer_id: str) -> list[int]:
    return sorted(f.scheduled_s for f, _ in world.queue.sent if f.timer_id == timer_id)


def test_rate_of_one_second_fires_on_every_second_once_with_no_write_per_firing() -> None:
    # GIVEN a rate(1 second) timer created at 12:00:01, and beside it a rate(1 minute) one
    world, minutely = World(), World()
    world.put("s", schedule="rate(1 second)")
    minutely.put("m", schedule="rate(1 minute)")
    writes_after_put = world.store.writes, minutely.store.writes
    # WHEN the ticker runs for three minutes
    world.run_minutes(3)
    minutely.run_minutes(3)
    # THEN every second from its first firing on fired exactly once
    fired = fired_seconds(world, "s")
    assert fired == list(range(T0 + 2, fired[-1] + 1))
    assert len(fired) >= 3 * 60
    # AND its ticks wrote what the minute rate's did (the tick's own lease and progress): 60
    # times the firings, no more writes
    tick_writes = world.store.writes - writes_after_put[0]
    assert tick_writes == minutely.store.writes - writes_after_put[1] == 2 * 3


def test_odd_second_rates_keep_their_phase_across_minute_boundaries() -> None:
    # GIVEN rate(7 seconds) and rate(90 seconds) timers (not whole minutes: read every minute)
    world = World()
    world.put("seven", schedule="rate(7 seconds)")
    world.put("ninety", schedule="rate(90 seconds)")
    world.run_minutes(6)
    # THEN each fires every period from its first firing, none missed or doubled at :00
    for timer_id, period in (("seven", 7), ("ninety", 90)):
        fired = fired_seconds(world, timer_id)
        assert fired[0] == T0 + 1 + period
        assert fired == list(range(fired[0], fired[-1] + 1, period))
        assert len(fired) >= (5 * 60) // period


def test_a_second_rate_is_read_every_minute_and_a_long_odd_one_moves() -> None:
    assert [rate_base_min(p) for p in (1, 59, 61, 90, 600)] == [1, 1, 1, 1, 10]
    assert rate_base_min(128 * 60 + 1) is None  # read > 128 times per firing: moves instead


def test_second_rate_stops_at_end_at() -> None:
    world = World()
    world.put("s", schedule="rate(10 seconds)", endAt="2026-11-22T12:01:30Z")
    world.run_minutes(4)
    fired = fired_seconds(world, "s")
    assert fired[-1] <= T0 + 90 and fired == list(range(T0 + 11, T0 + 91, 10))


def test_second_rate_firings_are_delivered_at_their_second_not_early() -> None:
    # GIVEN a rate(5 seconds) timer whose firings were sent with per-message delays
    world = World()
    world.put("s", schedule="rate(5 seconds)", jobType="counted")
    world.run_minutes(1)
    # THEN no firing becomes visible more than a second before its time (SQS's DelaySeconds)
    assert world.queue.sent
    assert all(visible >= f.due_s - 1 for f, visible in world.queue.sent)


# --- the per-owner limit of firings a minute ------------------------------------------------


def test_firing_limit_refuses_the_schedule_that_would_pass_it_naming_the_schedule() -> None:
    # GIVEN an owner allowed 150 firings a minute, with two rate(1 second) timers (120)
    world = World(max_firings=150)
    world.put("a", schedule="rate(1 second)")
    world.put("b", schedule="rate(1 second)")
    # WHEN a third would add 60 more THEN it is refused, naming the schedule
    with pytest.raises(FiringRateExceededError) as refused:
        world.put("c", schedule="rate(1 second)")
    assert refused.value.field == "schedule" and "150" in refused.value.message
    # AND a minute rate (1 a minute) still fits, as do another owner's second rates
    world.put("d", schedule="rate(1 minute)")
    world.put("x", owner="bob", schedule="rate(1 second)")
    assert world.store.get_timer("alice", "c") is None


def test_pausing_or_slowing_a_second_rate_frees_its_share_and_resuming_needs_it_back() -> None:
    world = World(max_firings=100)
    world.put("a", schedule="rate(1 second)")
    with pytest.raises(FiringRateExceededError):
        world.put("b", schedule="rate(1 second)")
    world.service.set_enabled("alice", "a", enabled=False)  # paused: fires nothing
    world.put("b", schedule="rate(1 second)")
    with pytest.raises(FiringRateExceededError):  # resuming would pass the limit again
        world.service.set_enabled("alice", "a", enabled=True)
    world.put("b", schedule="rate(1 minute)")  # replaced by a slower schedule: 59 freed
    world.service.set_enabled("alice", "a", enabled=True)
    world.service.delete("alice", "a")
    world.put("c", schedule="rate(2 seconds)")  # deleted: its 60 are free


def test_each_timer_counts_its_most_firings_in_one_minute() -> None:
    # rate(7 seconds) fires 9 times in some minutes (ceil(60 / 7)), not 8.57
    world = World(max_firings=9)
    world.put("a", schedule="rate(7 seconds)")
    with pytest.raises(FiringRateExceededError):
        world.put("b", schedule="cron(0 * * * ? *)")
    counts = Counter(s // 60 for s in range(T0, T0 + 3600, 7))
    assert max(counts.values()) == 9
