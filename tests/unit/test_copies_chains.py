"""Cron and moving-rate chains under the firings' copies (issue 22), from the review that
broke the first version: a chain item a ticker wrote outlives a write of its timer (or is written
just after one); its copy must not run the old definition again."""

from __future__ import annotations

from typing import Any

from tests.unit.test_copies import Recorded
from tests.unit.test_handoff import HookedStore
from tests.unit.world import T0, World

CREATED = T0 + 1  # cron: its first item 12:01:00, before any claim


class PartStore(HookedStore):
    """hooks["after_query:<minute offset from T0>"] after that minute's partition is read."""

    def query_index(self, partition: str) -> Any:
        entries = super().query_index(partition)
        if "#M#" in partition:
            self._run(f"after_query:{int(partition.rsplit('#', 1)[1]) - T0 // 60}")
        return entries


def world() -> tuple[World, HookedStore, Recorded]:
    recorded = Recorded()
    store = PartStore()
    return World(store, start_s=CREATED, job_types=(recorded.job_type(),)), store, recorded


def deliver_all(w: World) -> list[Any]:
    out = []
    for n, (firing, _) in enumerate(w.queue.sent[w.delivered :], start=w.delivered):
        w.clock.set(max(w.clock.now(), firing.due_s + 0.2))
        reads = w.delivery.reads([firing])
        out.append(
            (
                firing,
                w.delivery.deliver(firing, attempt=1, reads=reads, delivery_id=f"m{n}").outcome,
            )
        )
    w.delivered = len(w.queue.sent)
    return out


def test_delete_racing_put_successor_leaves_a_zombie_cron_chain() -> None:
    # GIVEN a cron timer every minute, its 12:01 item read by the tick of 12:00:01
    w, store, recorded = world()
    w.put("t", schedule="cron(* * * * ? *)", jobType="recorded", timerCallbackData="v1")
    w.clock.set(T0 + 1.5)
    # WHEN DELETE returns between the tick's query and its put_successor (12:02 item)
    store.hooks["after_query:1"] = lambda: w.service.delete("alice", "t")
    w.engine.tick(0)
    assert ("alice", "t") not in store.timers
    # and the next tick (12:01:01) runs before the 12:01:00 message is delivered
    # (one second of SQS/Lambda latency), then everything is delivered
    for _ in range(4):
        w.next_minute()
        w.engine.tick(0)
    outcomes = deliver_all(w)
    # THEN nothing runs after DELETE returned
    assert recorded.payloads == [], (
        recorded.payloads,
        [(f.scheduled_s - T0, o) for f, o in outcomes],
    )


def test_delete_racing_put_successor_zombie_even_when_delivered_promptly_after_next_tick() -> None:
    # each minute: tick at :01, then deliver; the only lateness is the first firing's
    w, store, recorded = world()
    w.put("t", schedule="cron(* * * * ? *)", jobType="recorded", timerCallbackData="v1")
    w.clock.set(T0 + 1.5)
    store.hooks["after_query:1"] = lambda: w.service.delete("alice", "t")
    w.engine.tick(0)
    w.next_minute()  # 12:01:01: the 12:01:00 message not yet handled
    w.engine.tick(0)
    deliver_all(w)
    for _ in range(5):
        w.next_minute()
        w.engine.tick(0)
        deliver_all(w)
    assert recorded.payloads == [], recorded.payloads


def test_replace_racing_put_successor_old_version_keeps_firing() -> None:
    w, store, recorded = world()
    w.put("t", schedule="cron(* * * * ? *)", jobType="recorded", timerCallbackData="v1")
    w.clock.set(T0 + 1.5)
    store.hooks["after_query:1"] = lambda: w.put(
        "t", schedule="rate(7 minutes)", jobType="recorded", timerCallbackData="v2"
    )
    w.engine.tick(0)
    w.next_minute()
    w.engine.tick(0)
    deliver_all(w)
    for _ in range(5):
        w.next_minute()
        w.engine.tick(0)
        deliver_all(w)
    old = [p for p in recorded.payloads if p[1] == "v1"]
    assert old == [], recorded.payloads


def at(w: World, minute: int, second: float) -> None:
    w.clock.set(T0 + 60 * minute + second)


def deliver_due(w: World, lag_s: float) -> None:
    """Deliver each sent firing whose second is at least ``lag_s`` ago, in order."""
    while w.delivered < len(w.queue.sent):
        firing, _ = w.queue.sent[w.delivered]
        if firing.due_s > w.clock.now() - lag_s:
            break
        reads = w.delivery.reads([firing])
        w.delivery.deliver(firing, attempt=1, reads=reads, delivery_id=f"m{w.delivered}")
        w.delivered += 1


def _cron_world(**fields: Any) -> tuple[World, HookedStore, Recorded]:
    w, store, recorded = world()  # created at 12:00:01, ticks every minute from then on
    w.put("t", schedule="cron(* * * * ? *)", jobType="recorded", timerCallbackData="v1", **fields)
    for m in range(6):  # ticks 12:00:01 .. 12:05:01 (the last reads 12:06), all delivered
        at(w, m, 1.5)
        w.engine.tick(0)
        at(w, m, 59)
        deliver_due(w, 0.0)
    return w, store, recorded


def test_cron_deleted_mid_minute_fires_forever_when_delivery_is_a_tick_late() -> None:
    # GIVEN a cron timer firing every minute, well established (12:01 .. 12:05 ran)
    w, store, recorded = _cron_world()
    assert [s - T0 for s, _, _ in recorded.payloads] == [60, 120, 180, 240, 300]
    # WHEN the user DELETEs it at 12:05:30 (it returns)
    at(w, 5, 30)
    w.service.delete("alice", "t")
    assert ("alice", "t") not in store.timers
    # and each minute's message is handled 1.5 s after its second, i.e. just after the
    # ticker's run at second 1 (SQS whole-second delay + poller + a cold start)
    for m in range(6, 12):
        at(w, m, 1.1)
        w.engine.tick(0)
        at(w, m, 1.5)
        deliver_due(w, 1.5)
    # THEN nothing runs after DELETE returned
    after = recorded.payloads[5:]
    assert after == [], [(s - T0, d, v) for s, d, v in after]


def test_jittered_cron_deleted_mid_minute_fires_forever() -> None:
    # same, with jitterSeconds: each firing is due after its minute's tick at second 1
    w, _store, recorded = _cron_world(jitterSeconds=40)
    before = len(recorded.payloads)
    at(w, 5, 59)
    w.service.delete("alice", "t")
    for m in range(6, 12):
        at(w, m, 1.1)
        w.engine.tick(0)
        at(w, m, 59)
        deliver_due(w, 0.0)  # each at its (jittered) second
    after = recorded.payloads[before:]
    assert after == [], [(s - T0, d, v) for s, d, v in after]


import pytest  # noqa: E402


@pytest.mark.parametrize("change", ["delete", "pause", "replace", "recreate"])
def test_cron_changed_mid_minute_old_chain_fires_on(change: str) -> None:
    # GIVEN an established every-minute cron (12:01 .. 12:05 ran; the 12:05:01 tick sent
    # 12:06 and wrote the 12:07 item)
    w, _store, recorded = _cron_world()
    # WHEN it is changed at 12:05:30 (the write returns)
    at(w, 5, 30)
    if change == "delete":
        w.service.delete("alice", "t")
    elif change == "pause":
        w.service.set_enabled("alice", "t", enabled=False)
    elif change == "replace":
        w.put("t", schedule="rate(7 minutes)", jobType="recorded", timerCallbackData="v2")
    else:
        w.service.delete("alice", "t")
        at(w, 5, 31)
        w.put("t", schedule="rate(7 minutes)", jobType="recorded", timerCallbackData="v3")
    # and each minute's message is handled 1.5 s after its second (after the :01 tick)
    for m in range(6, 14):
        at(w, m, 1.1)
        w.engine.tick(0)
        at(w, m, 1.5)
        deliver_due(w, 1.5)
    # THEN the old definition (v1) runs no more
    old = [(s - T0) // 60 for s, d, _ in recorded.payloads[5:] if d == "v1"]
    assert old == [], (change, old)
