"""``POST /periodic/{id}/backfill`` on a fixed clock: each scheduled time of a past interval
fired once, marked as a backfill, with its own scheduled second.

The interval is read as Temporal reads a backfill's: the start exclusive, the end inclusive
(Temporal's Ruby SDK, ``Temporalio::Client::Schedule::Backfill``: "start_at ... This is
exclusive", "end_at ... This is inclusive"), "as if the time passed right now", and it may lie
before the schedule was created (``temporal schedule backfill``: "before a Schedule was
created", https://docs.temporal.io/cli/schedule#backfill).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.world import T0, World
from timer_service.backfill import BACKFILL_MAX_FIRINGS, BackfillRequest
from timer_service.clock import format_utc
from timer_service.dispatch import Firing
from timer_service.errors import InvalidRequestError, TimerNotFoundError

HOUR = 3600


@pytest.fixture
def world() -> World:
    return World()  # 12:00:01 on 2026-11-22


def backfill(world: World, timer_id: str, from_s: int, to_s: int) -> Any:
    request = BackfillRequest.model_validate({"from": format_utc(from_s), "to": format_utc(to_s)})
    return world.service.backfill("alice", timer_id, request)


def sent(world: World) -> list[Firing]:
    return [firing for firing, _ in world.queue.sent]


def test_backfill_fires_each_scheduled_time_of_the_interval_once_as_a_backfill(
    world: World,
) -> None:
    # GIVEN a rate timer created at 12:00:01 (fires at second 1) and, an hour later, a backfill
    world.put("r", schedule="rate(1 minute)")
    world.clock.set(T0 + HOUR + 1)
    world.queue.sent.clear()
    # WHEN 12:10-12:20 is backfilled
    result = backfill(world, "r", T0 + 600, T0 + 1200)
    # THEN each firing of that interval is sent once, marked, with its own scheduled second
    firings = sent(world)
    assert [f.scheduled_s for f in firings] == [T0 + 60 * m + 1 for m in range(10, 20)]
    assert all(f.backfill and not f.manual for f in firings)
    assert firings[0].firing_id == "alice#r@2026-11-22T12:10:01Z~backfill"
    assert (result.backfilled, result.more, result.next_from) == (10, False, None)
    assert (result.first_scheduled_at, result.last_scheduled_at) == (
        "2026-11-22T12:10:01Z",
        "2026-11-22T12:19:01Z",
    )


def test_backfill_start_is_exclusive_and_end_inclusive(world: World) -> None:
    world.put("c", schedule="cron(0 * * * ? *)")  # on the hour
    world.clock.set(T0 + 5 * HOUR)
    world.queue.sent.clear()
    backfill(world, "c", T0 + HOUR, T0 + 3 * HOUR)
    assert [f.scheduled_s for f in sent(world)] == [T0 + 2 * HOUR, T0 + 3 * HOUR]


def test_backfill_before_a_rate_timer_was_created_keeps_its_phase(world: World) -> None:
    world.put("r", schedule="rate(5 minutes)")  # created 12:00:01: 12:05:01, 12:10:01, ...
    backfill(world, "r", T0 - HOUR, T0 - HOUR + 900)
    assert [f.scheduled_s for f in sent(world)] == [
        T0 - HOUR + 1,
        T0 - HOUR + 301,
        T0 - HOUR + 601,
    ]  # 11:00:01, 11:05:01, 11:10:01 (11:15:01 is past the end)


def test_backfill_keeps_to_the_timers_start_and_end(world: World) -> None:
    world.put(
        "r",
        schedule="rate(10 minutes)",
        startAt="2026-11-22T08:00:00Z",
        endAt="2026-11-22T12:30:00Z",
    )
    world.clock.set(T0 + HOUR)
    world.queue.sent.clear()
    backfill(world, "r", T0 - 5 * HOUR, T0 - 4 * HOUR + 1200)
    assert [f.scheduled_s - (T0 - 4 * HOUR) for f in sent(world)] == [0, 600, 1200]
    world.queue.sent.clear()
    backfill(world, "r", T0, T0 + HOUR)
    assert [f.scheduled_s - T0 for f in sent(world)] == [600, 1200, 1800]


def test_backfill_of_a_one_shot_fires_its_time_when_inside_the_interval(world: World) -> None:
    world.put("a", schedule="at(2026-11-22T12:30:00)")
    world.clock.set(T0 + HOUR)
    world.queue.sent.clear()
    backfill(world, "a", T0, T0 + 1200)  # before it
    assert sent(world) == []
    backfill(world, "a", T0, T0 + HOUR)
    assert [f.scheduled_s for f in sent(world)] == [T0 + 1800]


def test_backfill_over_the_bound_fires_the_first_ones_and_says_where_to_go_on(
    world: World,
) -> None:
    # GIVEN a minute rate and three days less a minute to backfill (4,319 firings)
    world.put("r", schedule="rate(1 minute)")
    world.clock.set(T0 + 4 * 86400)
    world.queue.sent.clear()
    # WHEN it is backfilled call after call, from where the last one stopped
    fired: list[int] = []
    from_s, calls = T0 - 3 * 86400 + 30, 0
    while True:
        result = backfill(world, "r", from_s, T0 - 30)
        calls += 1
        fired += [f.scheduled_s for f in sent(world)]
        world.queue.sent.clear()
        assert result.backfilled == (BACKFILL_MAX_FIRINGS if result.more else 319)
        if not result.more:
            break
        assert result.next_from == result.last_scheduled_at
        from_s = int(fired[-1])
    # THEN every scheduled time was fired once, in 5 calls of at most 1,000
    assert calls == 5
    assert fired == list(range(T0 - 3 * 86400 + 61, T0 - 30, 60))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2026-11-22T12:20:00Z", "to": "2026-11-22T12:10:00Z"}, "to"),
        ({"from": "2026-11-22T12:10:00Z", "to": "2026-11-22T12:10:00Z"}, "to"),
        ({"from": "2026-11-22T12:10:00Z", "to": "2026-11-22T14:00:00Z"}, "to"),
        ({"from": "1970-01-01T00:30:00+01:00", "to": "2026-11-22T12:10:00Z"}, "from"),
    ],
    ids=["to before from", "an empty interval", "to in the future", "from before 1970"],
)
def test_backfill_interval_mistake_is_refused_naming_the_field(
    world: World, body: dict[str, str], field: str
) -> None:
    world.put("r", schedule="rate(1 minute)")
    world.clock.set(T0 + HOUR)
    with pytest.raises(InvalidRequestError) as refused:
        world.service.backfill("alice", "r", BackfillRequest.model_validate(body))
    assert refused.value.field == field
    assert sent(world) == []


def test_backfill_of_an_unknown_timer_is_not_found(world: World) -> None:
    request = BackfillRequest.model_validate(
        {"from": "2026-11-22T11:00:00Z", "to": "2026-11-22T12:00:00Z"}
    )
    with pytest.raises(TimerNotFoundError):
        world.service.backfill("alice", "nope", request)


def test_backfill_request_without_offset_is_local_to_the_timers_zone(world: World) -> None:
    world.put("c", schedule="cron(0 * * * ? *)", timezone="Europe/Paris")  # UTC+1 in November
    world.clock.set(T0 + 5 * HOUR)
    world.queue.sent.clear()
    request = BackfillRequest.model_validate(
        {"from": "2026-11-22T12:00:00", "to": "2026-11-22T13:00:00"}
    )
    world.service.backfill("alice", "c", request)
    assert [f.scheduled_s for f in sent(world)] == [T0]  # 13:00 in Paris is 12:00Z


def test_backfilled_runs_are_recorded_as_backfills_with_their_scheduled_time(
    world: World,
) -> None:
    world.put("r", schedule="rate(1 minute)", jobType="counted", history="all")
    world.clock.set(T0 + HOUR)
    world.queue.sent.clear()
    backfill(world, "r", T0 + 600, T0 + 720)
    world.deliver_sent()
    page = world.service.runs("alice", "r")
    assert [(r.scheduled_at, r.backfill, r.manual) for r in page.items] == [
        ("2026-11-22T12:11:01Z", True, False),
        ("2026-11-22T12:10:01Z", True, False),
    ]
    assert all(r.lateness_ms is None for r in page.items)  # an hour "late" by request


def test_backfilled_run_does_not_replace_the_scheduled_run_of_the_same_second(
    world: World,
) -> None:
    world.put("r", schedule="rate(1 minute)", jobType="counted", history="all")
    world.run_minutes(2)  # 12:01:01 and 12:02:01 fire
    world.deliver_sent()
    backfill(world, "r", T0, T0 + 61)
    world.deliver_sent()
    kinds = [(r.scheduled_at, r.backfill) for r in world.service.runs("alice", "r").items]
    assert ("2026-11-22T12:01:01Z", True) in kinds
    assert ("2026-11-22T12:01:01Z", False) in kinds


def test_backfill_of_a_paused_timer_runs_like_a_trigger(world: World) -> None:
    world.put("r", schedule="rate(1 minute)", jobType="counted")
    world.service.set_enabled("alice", "r", enabled=False)
    world.clock.set(T0 + HOUR)
    backfill(world, "r", T0 + 600, T0 + 660)
    world.deliver_sent()
    assert world.runs[("r", T0 + 601)] == 1


def run_once_in_memory() -> Callable[[str, Callable[[], None]], None]:
    """powertools Idempotency's contract, in memory: an action runs once per id."""
    done: set[str] = set()

    def run(firing_id: str, action: Callable[[], None]) -> None:
        if firing_id not in done:
            action()
            done.add(firing_id)

    return run


@pytest.mark.parametrize(("delivery", "runs_each"), [("deduplicated", 1), ("atLeastOnce", 2)])
def test_backfill_of_the_same_interval_twice_runs_once_when_deduplicated(
    world: World, delivery: str, runs_each: int
) -> None:
    # GIVEN a timer, and its idempotency (the callbacks' RunOnce, by firing id)
    world.put("r", schedule="rate(1 minute)", jobType="counted", delivery=delivery)
    world.clock.set(T0 + HOUR)
    world.queue.sent.clear()
    run_once = run_once_in_memory()
    # WHEN the same interval is backfilled twice and every message is delivered
    backfill(world, "r", T0 + 600, T0 + 780)
    backfill(world, "r", T0 + 600, T0 + 780)
    for n, firing in enumerate(sent(world)):
        world.delivery.deliver(
            firing,
            attempt=1,
            reads=world.delivery.reads([firing]),
            run_once=run_once,
            delivery_id=f"m{n}",
        )
    # THEN a deduplicated timer ran each time once; an at-least-once timer twice
    assert sorted(world.runs.items()) == [
        (("r", T0 + 60 * m + 1), runs_each) for m in range(10, 13)
    ]


def test_dead_letters_of_a_backfill_and_the_scheduled_firing_of_one_second_are_both_kept() -> None:
    from timer_service.clock import FixedClock
    from timer_service.dead_letters import DeadLetters
    from timer_service.store.dead_letters import InMemoryDeadLetterStore

    letters = DeadLetters(store=InMemoryDeadLetterStore(), queue=None, clock=FixedClock(T0))
    scheduled = Firing("alice", "r", 1, T0 - 60)
    backfilled = Firing("alice", "r", 1, T0 - 60, backfill=True)
    letters.record(scheduled, error="down", attempts=5)
    letters.record(backfilled, error="down", attempts=5)
    page = letters.look("alice", limit=10, token=None)
    assert sorted((d.firing_id, d.backfill) for d in page.items) == [
        ("alice#r@2026-11-22T11:59:00Z", False),
        ("alice#r@2026-11-22T11:59:00Z~backfill", True),
    ]
