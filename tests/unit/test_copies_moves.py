"""A timer moved between shards, then deleted: the old shard's chain must not run its copy
(issue 22, from the review that broke the first version)."""

from __future__ import annotations

from collections import Counter

from tests.unit.world import T0, World
from timer_service.models import ShardRegistry, TimerSpec
from timer_service.rebalance import Rebalancer


def deliver_until(w: World, until_s: float, done: set[int]) -> None:
    """Each sent firing due by ``until_s``, at its second (+0.2 s), in order of due."""
    pending = [(f.due_s, n, f) for n, (f, _) in enumerate(w.queue.sent) if n not in done]
    for due, n, firing in sorted(pending, key=lambda p: (p[0], p[1])):
        if due > until_s:
            continue
        w.clock.set(max(w.clock.now(), due + 0.2))
        w.delivery.deliver(firing, attempt=1, reads=w.delivery.reads([firing]), delivery_id=f"m{n}")
        done.add(n)
    w.clock.set(max(w.clock.now(), until_s))


def minute(w: World, m: int, done: set[int]) -> None:
    """Tick the registry's shards at hh:m:01, deliver what is due until hh:m:59."""
    w.clock.set(T0 + 60 * m + 1)
    w.tick_all()
    deliver_until(w, T0 + 60 * m + 59, done)


def test_cron_moved_mid_minute_then_deleted_fires_after_delete() -> None:
    w = World(start_s=T0 + 5)
    w.store.put_registry(ShardRegistry(active=(0, 1, 2, 3)))
    for n in range(12):
        w.service.put(
            "alice",
            f"c{n}",
            TimerSpec.model_validate({"schedule": "cron(* * * * ? *)", "jobType": "counted"}),
        )
    for n in range(8):  # pinned heartbeats: shards 2 and 3 keep draining, and ticking
        w.service.put(
            "alice",
            f"h{n}",
            TimerSpec.model_validate({"heartbeat": {"periodSeconds": 60, "graceSeconds": 120}}),
        )
    done: set[int] = set()
    for m in range(1, 6):
        minute(w, m, done)
    before = {t.id: t.shard for t in w.store.timers.values()}
    w.clock.set(T0 + 6 * 60 + 1)
    w.tick_all()  # 12:06:01 claims 12:07, writes the 12:08 items
    w.clock.set(T0 + 6 * 60 + 30)  # GIVEN a rebalance at 12:06:30
    w.store.put_registry(ShardRegistry(active=(0, 1), draining=(2, 3)))
    report = Rebalancer(store=w.store, clock=w.clock, attempts=1).rebalance()
    assert report.retired == []
    moved = [t.id for t in w.store.timers.values() if t.shard != before[t.id] and t.id[0] == "c"]
    assert moved
    deliver_until(w, T0 + 6 * 60 + 59, done)
    for m in range(7, 10):
        minute(w, m, done)
    ran_before = {t: sum(1 for (tt, s) in w.runs if tt == t and s >= T0 + 420) for t in moved}
    # WHEN the moved timers are deleted at 12:09:59 (ten minutes after the move: a fresh log)
    w.clock.set(T0 + 9 * 60 + 59)
    for tid in moved:
        w.service.delete("alice", tid)
    for m in range(10, 16):
        minute(w, m, done)
    # THEN nothing of theirs runs from 12:10 on
    sent = Counter((f.timer_id, f.scheduled_s) for f, _ in w.queue.sent)
    assert max(sent.values()) == 1
    after = sorted((t, (s - T0) // 60) for (t, s) in w.runs if t in moved and s >= T0 + 600)
    assert after == [], (ran_before, after)
