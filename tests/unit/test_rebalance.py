"""Shards: timers move off draining shards without a firing lost or sent twice."""

from __future__ import annotations

from collections import Counter
from itertools import takewhile

from tests.unit.world import T0, World
from timer_service.models import ShardRegistry, TimerSpec
from timer_service.rebalance import Rebalancer
from timer_service.time_index import timing_of


def cluster_of_four_shards() -> World:
    world = World(start_s=T0 + 5)
    world.store.put_registry(ShardRegistry(active=(0, 1, 2, 3)))
    return world


SCHEDULES = [
    "rate(1 minute)",
    "rate(2 minutes)",
    "cron(* * * * ? *)",
    "cron(0/3 * * * ? *)",
    "at(2026-11-22T12:07:30)",
]


def test_rebalance_moves_every_timer_without_losing_or_doubling_a_firing() -> None:
    cluster = cluster_of_four_shards()
    ids = []
    for n in range(40):
        timer_id = f"t{n}"
        schedule = SCHEDULES[n % len(SCHEDULES)]
        cluster.service.put("alice", timer_id, TimerSpec.model_validate({"schedule": schedule}))
        ids.append(timer_id)
    timers_before = {t.id: t for t in cluster.store.timers.values()}
    for _ in range(3):
        cluster.tick_all()
        cluster.next_minute()
    # WHEN shards 2 and 3 drain and the timers are rebalanced between two ticks
    cluster.store.put_registry(ShardRegistry(active=(0, 1), draining=(2, 3)))
    report = Rebalancer(store=cluster.store, clock=cluster.clock, attempts=1).rebalance()
    assert report.waiting == 0
    assert report.moved > 0
    assert report.retired == [2, 3]
    assert {t.shard for t in cluster.store.timers.values()} <= {0, 1}
    for _ in range(8):
        cluster.tick_all()
        cluster.next_minute()
    # THEN every firing from the first tick to the end was sent exactly once
    sent = Counter((f.timer_id, f.scheduled_s) for f, _ in cluster.queue.sent)
    assert max(sent.values()) == 1
    horizon_s = T0 + 11 * 60
    for timer_id in ids:
        fires = timing_of(timers_before[timer_id]).iter_from(T0 + 5)
        expected = list(takewhile(lambda s: s < horizon_s, fires))
        got = sorted(s for (tid, s) in sent if tid == timer_id and s < horizon_s)
        assert got == expected, timer_id


def test_timer_does_not_move_while_its_shard_is_mid_tick() -> None:
    cluster = cluster_of_four_shards()
    cluster.service.put("alice", "x", TimerSpec.model_validate({"schedule": "rate(1 minute)"}))
    timer = next(iter(cluster.store.timers.values()))
    cluster.store.begin_tick(
        timer.shard, token="busy", now_s=cluster.clock.now(), lease_s=90, claim=10**8, first=1
    )
    target = (timer.shard + 1) % 4
    assert not Rebalancer(store=cluster.store, clock=cluster.clock).move(timer, target)
    assert cluster.store.timers[("alice", "x")].shard == timer.shard


def test_rebalance_leaves_a_heartbeat_on_its_shard_still_watched() -> None:
    # GIVEN heartbeats on four shards, pinged, and shards 2 and 3 draining
    from timer_service.pings import Heartbeats

    cluster = cluster_of_four_shards()
    pinger = Heartbeats(store=cluster.store, clock=cluster.clock)
    spec = TimerSpec.model_validate({"heartbeat": {"periodSeconds": 60, "graceSeconds": 120}})
    tokens = {}
    for n in range(12):
        result = cluster.service.put("alice", f"hb{n}", spec)
        assert result.ping_token is not None
        tokens[f"hb{n}"] = result.ping_token
        pinger.ping(result.ping_token)
    shards = {t.id: t.shard for t in cluster.store.timers.values()}
    assert {2, 3} & set(shards.values())
    cluster.store.put_registry(ShardRegistry(active=(0, 1), draining=(2, 3)))
    # WHEN the timers are rebalanced
    report = Rebalancer(store=cluster.store, clock=cluster.clock, attempts=1).rebalance()
    # THEN each heartbeat stays where it is (its draining shard is not retired), and misses fire
    assert report.pinned == sum(1 for s in shards.values() if s in (2, 3))
    assert report.retired == []
    assert {t.id: t.shard for t in cluster.store.timers.values()} == shards
    for _ in range(6):
        cluster.tick_all()
        cluster.next_minute()
    missed = {f.timer_id for f, _ in cluster.queue.sent if f.heartbeat}
    assert missed == set(tokens)
