"""Rate timers under a fixed set of base periods: bounded queries per tick whatever periods are
used, every firing on time, and bases nobody uses any more retired without stranding a timer."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.unit.world import T0, World
from timer_service.store.memory import InMemoryTimerStore
from timer_service.time_index import BASE_PERIODS_MIN, base_period_min, moves


class CountingStore(InMemoryTimerStore):
    """Counts the partitions each tick queries; runs a hook before a retirement."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []
        self.before_retire: Any = None

    def query_index(self, partition: str) -> Any:
        self.queries.append(partition)
        return super().query_index(partition)

    def retire_base(self, shard: int, base: int, *, marked_minute: int) -> bool:
        if self.before_retire is not None:
            hook, self.before_retire = self.before_retire, None
            hook()
        return super().retire_base(shard, base, marked_minute=marked_minute)


def queries_per_tick(world: World, store: CountingStore, ticks: int) -> list[int]:
    """Partitions queried by each of ``ticks`` ticks, a minute apart (each reads one minute,
    but the first of a shard, which also reads the current one)."""
    counts = []
    for _ in range(ticks):
        store.queries.clear()
        world.engine.tick(0)
        world.next_minute()
        counts.append(len(store.queries))
    return counts


def test_every_period_maps_to_a_base_that_divides_it() -> None:
    for period in range(1, 3 * 1440 + 1):
        base = base_period_min(period)
        assert base in BASE_PERIODS_MIN and period % base == 0
        assert all(period % b for b in BASE_PERIODS_MIN if b > base)


def test_queries_per_tick_are_bounded_whatever_the_periods() -> None:
    store = CountingStore()
    world = World(store)
    for period in range(1, 1001):  # a thousand distinct periods
        world.put(f"r{period}", schedule=f"rate({period} minutes)", jobType="counted")
    queries_per_tick(world, store, 1)
    counts = queries_per_tick(world, store, 30)
    assert max(counts) <= 1 + len(BASE_PERIODS_MIN)  # the minute partition and one per base
    used = {base_period_min(p) for p in range(1, 1001)}
    assert max(counts) == 1 + len(used)


def test_long_awkward_periods_move_instead_of_being_read_too_often() -> None:
    assert [moves(p) for p in (7, 256, 303, 1441, 257, 997, 2 * 997)] == [
        False,
        False,
        False,  # base 101, read 3 times per firing
        False,  # 11 * 131: base 131
        True,  # prime: only base 1 divides it
        True,
        True,  # base 2: read 997 times per firing
    ]


@pytest.mark.parametrize("period", [1, 7, 13, 45, 90, 100, 303, 1441, 257, 997])
def test_rate_timers_fire_on_every_period_under_their_base(period: int) -> None:
    world = World()
    world.clock.set(T0 + 17)
    world.put("r", schedule=f"rate({period} minutes)", jobType="counted")
    minutes = 3 * period + 2
    for _ in range(minutes):
        world.engine.tick(0)
        world.next_minute()
    fired = sorted(f.scheduled_s for f, _ in world.queue.sent)
    expected = [T0 + 17 + k * period * 60 for k in range(1, 4)]
    assert fired[: len(expected)] == [t for t in expected if t < world.clock.now()][:3]


def test_a_base_nobody_uses_is_retired_and_stops_costing() -> None:
    store = CountingStore()
    world = World(store)
    for n in range(5):
        world.put(f"seven{n}", schedule="rate(7 minutes)", jobType="counted")  # base 7
    world.put("hourly", schedule="rate(1 hour)", jobType="counted")  # base 60
    queries_per_tick(world, store, 1)
    assert queries_per_tick(world, store, 3) == [3, 3, 3]
    for n in range(5):
        world.service.delete("alice", f"seven{n}")
    counts = queries_per_tick(world, store, 12)
    assert counts[0] == 3 and counts[-1] == 2  # base 7 marked, then retired a cycle later
    assert store.get_shard_state(0).bases == frozenset({60})
    # the hourly timer's base is marked and unmarked as its slot comes round, never retired
    queries_per_tick(world, store, 130)
    assert 60 in store.get_shard_state(0).bases
    assert sum(1 for f, _ in world.queue.sent if f.timer_id == "hourly") >= 2


@pytest.mark.parametrize("when", ["while_marked", "just_before_retirement", "after_retirement"])
def test_a_timer_created_under_a_retiring_base_still_fires(when: str) -> None:
    # GIVEN base 101 used (a 303-minute timer), then emptied: the ticker marks it
    store = CountingStore()
    world = World(store)
    world.put("old", schedule="rate(303 minutes)", jobType="counted")
    queries_per_tick(world, store, 2)
    world.service.delete("alice", "old")
    queries_per_tick(world, store, 1)
    assert 101 in store.get_shard_state(0).retiring

    def create() -> None:  # a 505-minute timer files under base 101 too
        world.put("new", schedule="rate(505 minutes)", jobType="counted")

    # WHEN a timer under the same base is created at that moment
    if when == "while_marked":
        create()
    elif when == "just_before_retirement":
        store.before_retire = create
    queries_per_tick(world, store, 110)
    if when == "after_retirement":
        assert 101 not in store.get_shard_state(0).bases
        create()
    # THEN the base is read again and the new timer fires every 505 minutes
    queries_per_tick(world, store, 1100)
    assert 101 in store.get_shard_state(0).bases  # marked between visits, never retired
    fired = Counter(f.scheduled_s for f, _ in world.queue.sent if f.timer_id == "new")
    assert len(fired) >= 2 and set(fired.values()) == {1}
