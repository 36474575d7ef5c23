"""Bulk actions in memory on a fixed clock: each call acts on a bounded slice and answers a token;
driven to the end, an action over 10,000 timers leaves every one done, once, and none half-done,
also when a call dies midway and is run again from its token."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.world import World
from timer_service.bulk import BULK_TIME_BUDGET_S, BulkRequest, BulkResult, run_bulk
from timer_service.clock import FixedClock
from timer_service.errors import InvalidRequestError, StoreError
from timer_service.models import Timer
from timer_service.store.memory import InMemoryTimerStore


def bulk(world: World, **body: Any) -> BulkResult:
    return run_bulk(world.service, "alice", BulkRequest.model_validate(body))


def drive(world: World, **body: Any) -> list[BulkResult]:
    """Every call of the action, each from the token of the one before, to the end."""
    results, token = [], None
    while True:
        result = bulk(world, **body, nextToken=token)
        results.append(result)
        token = result.next_token
        if token is None:
            return results


def seeded(count: int, store: InMemoryTimerStore | None = None, **fields: Any) -> World:
    """``count`` timers labelled team=pay, and 10 more of team=ops."""
    world = World(store)
    for n in range(count):
        world.put(f"p{n:05d}", schedule="rate(1 hour)", labels={"team": "pay"}, **fields)
    for n in range(10):
        world.put(f"o{n}", schedule="rate(1 hour)", labels={"team": "ops"})
    return world


def timers(world: World) -> dict[str, Timer]:
    return {tid: t for (owner, tid), t in world.store.timers.items() if owner == "alice"}


def test_a_pause_of_10000_timers_by_label_completes_in_bounded_calls() -> None:
    # GIVEN 10,000 timers labelled team=pay, and 10 of team=ops
    world = seeded(10_000)
    # WHEN team=pay is paused, 200 a call, to the end
    results = drive(world, action="pause", selector={"team": "pay"}, limit=200)
    # THEN 50 calls did it, none acting on more than 200, and each timer was paused once
    assert len(results) == 50
    assert all(r.matched <= 200 for r in results)
    assert sum(r.changed for r in results) == 10_000
    assert sum(r.failed + r.skipped for r in results) == 0
    paused = timers(world)
    assert all(not t.enabled and t.version == 2 for i, t in paused.items() if i.startswith("p"))
    # AND the others are untouched, and no paused timer is left in the time index
    assert all(t.enabled and t.version == 1 for i, t in paused.items() if i.startswith("o"))
    indexed = {e.timer_id for part in world.store.index.values() for e in part.values()}
    assert indexed == {f"o{n}" for n in range(10)}
    # AND running it again changes nothing: each is already paused
    again = drive(world, action="pause", selector={"team": "pay"}, limit=200)
    assert sum(r.changed for r in again) == 0
    assert sum(r.reasons.get("already paused", 0) for r in again) == 10_000


class DyingStore(InMemoryTimerStore):
    """Dies (as a process would: not a store error) on its ``die_at``-th timer write."""

    def __init__(self) -> None:
        super().__init__()
        self.saves = 0
        self.die_at: int | None = None

    def save_timer(self, timer: Timer, **options: Any) -> None:
        self.saves += 1
        if self.saves == self.die_at:
            raise SystemExit("the Lambda instance died")
        super().save_timer(timer, **options)


def test_a_call_that_dies_midway_leaves_each_timer_done_or_not_and_its_token_finishes() -> None:
    # GIVEN 1,000 timers, and a relabel driven until the call that dies at a write
    store = DyingStore()
    world = seeded(1000, store)
    body = {"action": "relabel", "selector": {"team": "pay"}, "setLabels": {"tier": "gold"}}
    first = bulk(world, **body, limit=100)
    store.die_at = store.saves + 37
    with pytest.raises(SystemExit):
        bulk(world, **body, limit=100, nextToken=first.next_token)
    # THEN each timer is either relabelled (one write, its labels whole) or as it was
    states = {(t.version, tuple(sorted(t.labels.items()))) for t in timers(world).values()}
    assert states <= {
        (1, (("team", "pay"),)),
        (2, (("team", "pay"), ("tier", "gold"))),
        (1, (("team", "ops"),)),
    }
    assert sum(t.version == 2 for t in timers(world).values()) == 100 + 36
    # WHEN the call is run again from the token it was given, and on to the end
    token = first.next_token
    while token is not None:
        token = bulk(world, **body, limit=100, nextToken=token).next_token
    # THEN every team=pay timer was relabelled exactly once
    pay = [t for i, t in timers(world).items() if i.startswith("p")]
    assert all(t.version == 2 and t.labels == {"team": "pay", "tier": "gold"} for t in pay)


def test_a_bulk_action_by_ids_skips_the_unknown_and_pages_over_the_list() -> None:
    world = seeded(5)
    ids = ["p00003", "nope", "p00001", "o2", "p00001"]
    results = drive(world, action="delete", ids=ids, limit=2)
    assert [r.matched for r in results] == [2, 2]  # 4 distinct ids, 2 a call
    assert sum(r.changed for r in results) == 3
    assert sum(r.reasons.get("not found", 0) for r in results) == 1
    others = {f"o{n}" for n in range(10) if n != 2}
    assert set(timers(world)) == {"p00000", "p00002", "p00004"} | others
    assert world.store.list_labelled("alice", "team", "pay", limit=10, after_id=None) == (
        ["p00000", "p00002", "p00004"],
        None,
    )


def test_a_relabel_that_removes_the_selected_label_still_reaches_every_timer() -> None:
    world = seeded(250)
    body = {"selector": {"team": "pay"}, "setLabels": {"team": "gone"}, "limit": 100}
    results = drive(world, action="relabel", **body)
    assert sum(r.changed for r in results) == 250
    assert world.store.list_labelled("alice", "team", "pay", limit=10, after_id=None) == ([], None)
    moved, _ = world.store.list_labelled("alice", "team", "gone", limit=300, after_id=None)
    assert len(moved) == 250


def test_a_bulk_trigger_fires_each_timer_once_in_one_send_a_call() -> None:
    world = seeded(150)
    sent = len(world.queue.sent)
    results = drive(world, action="trigger", selector={"team": "pay"})
    fired = [f for f, _ in world.queue.sent[sent:]]
    assert [r.changed for r in results] == [100, 50]
    assert sorted(f.timer_id for f in fired) == [f"p{n:05d}" for n in range(150)]
    assert all(f.manual for f in fired)


def test_a_call_stops_when_its_time_is_up_and_the_next_goes_on() -> None:
    # GIVEN a store whose every write takes 1 s of the service's clock
    class SlowStore(InMemoryTimerStore):
        clock: FixedClock | None = None

        def save_timer(self, timer: Timer, **options: Any) -> None:
            super().save_timer(timer, **options)
            if self.clock is not None:
                self.clock.advance(1)

    store = SlowStore()
    world = seeded(60, store)
    store.clock = world.clock
    # WHEN team=pay is paused, 100 a call
    results = drive(world, action="pause", selector={"team": "pay"}, limit=100)
    # THEN no call ran past its budget, and the last one ended the action
    assert all(r.matched <= BULK_TIME_BUDGET_S + 2 for r in results)
    assert len(results) >= 3
    assert sum(r.changed for r in results) == 60


def test_a_timer_changed_meanwhile_is_acted_on_as_it_is_now_if_it_still_matches() -> None:
    # GIVEN a store in which another write lands on two timers just before the bulk's
    class RacedStore(InMemoryTimerStore):
        raced: set[str] = set()

        def save_timer(self, timer: Timer, **options: Any) -> None:
            if timer.id in self.raced:
                self.raced.discard(timer.id)
                world.service.relabel("alice", timer.id, put={"seen": "yes"})
                if timer.id == "p00001":
                    world.service.relabel("alice", timer.id, put={}, remove=["team"])
            super().save_timer(timer, **options)

    store = RacedStore()
    world = seeded(3, store)
    store.raced = {"p00000", "p00001"}
    result = bulk(world, action="pause", selector={"team": "pay"})
    # THEN the one that still matches is paused, the one that left the label is not
    assert (result.changed, result.reasons) == (2, {"no longer matches": 1})
    assert not timers(world)["p00000"].enabled
    assert timers(world)["p00001"].enabled


def test_a_store_failure_on_one_timer_is_counted_and_the_others_go_on() -> None:
    class FlakyStore(InMemoryTimerStore):
        def save_timer(self, timer: Timer, **options: Any) -> None:
            if timer.id == "p00001" and not timer.enabled:
                raise StoreError("DynamoDB table 't': ThrottlingException")
            super().save_timer(timer, **options)

    world = seeded(3, FlakyStore())
    result = bulk(world, action="pause", selector={"team": "pay"})
    assert (result.matched, result.changed, result.failed) == (3, 2, 1)
    assert [(f.id, f.reason) for f in result.failures] == [
        ("p00001", "DynamoDB table 't': ThrottlingException")
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "pause"}, "selector"),
        ({"action": "pause", "selector": {"a": "b"}, "ids": ["x"]}, "selector"),
        ({"action": "pause", "selector": {}}, "selector"),
        ({"action": "relabel", "ids": ["x"]}, "setLabels"),
        ({"action": "pause", "ids": ["x"], "removeLabels": ["a"]}, "removeLabels"),
    ],
)
def test_a_bulk_request_that_names_no_timers_or_mixes_actions_is_refused(
    body: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        bulk(World(), **body)
    assert raised.value.field == field
