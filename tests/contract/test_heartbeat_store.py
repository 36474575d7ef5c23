"""The TimerStore contract for heartbeat deadlines, on memory and on DynamoDB (moto)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.contract.conftest import MINUTE, T0, timer
from timer_service.errors import StoreError
from timer_service.heartbeat import HeartbeatState, token_hash
from timer_service.keys import heartbeat_key
from timer_service.pings import heartbeat_entry
from timer_service.store.base import TimerStore

HASH = token_hash("t" * 43)
NEW = HeartbeatState(
    ping_hash=HASH, owner="alice", timer_id="hb", shard=0, allow_s=360, idle_since_s=T0
)


def test_put_heartbeat_new_is_idle_and_never_pinged(store: TimerStore) -> None:
    store.put_heartbeat(NEW)
    assert store.get_heartbeats([HASH, token_hash("other")]) == {HASH: NEW}
    assert NEW.status == "new"


def test_ping_heartbeat_absent_is_none_and_writes_nothing(store: TimerStore) -> None:
    assert store.ping_heartbeat(HASH, now_s=T0) is None
    assert store.get_heartbeats([HASH]) == {}


def test_ping_heartbeat_moves_the_deadline_and_answers_the_state_before(
    store: TimerStore,
) -> None:
    store.put_heartbeat(NEW)
    assert store.ping_heartbeat(HASH, now_s=T0 + 10) == NEW
    pinged = replace(NEW, deadline_s=T0 + 370, last_ping_s=T0 + 10)
    assert store.get_heartbeats([HASH]) == {HASH: pinged}
    assert store.ping_heartbeat(HASH, now_s=T0 + 20) == pinged


def test_put_heartbeat_again_changes_its_allowance_and_keeps_its_deadline(
    store: TimerStore,
) -> None:
    store.put_heartbeat(NEW)
    store.ping_heartbeat(HASH, now_s=T0 + 10)
    store.clear_heartbeat_idle(HASH, idle_since_s=T0)  # armed: watched
    store.put_heartbeat(replace(NEW, allow_s=600, idle_since_s=None))
    (state,) = store.get_heartbeats([HASH]).values()
    assert (state.allow_s, state.deadline_s, state.idle_since_s) == (600, T0 + 370, None)
    store.ping_heartbeat(HASH, now_s=T0 + 100)
    assert store.get_heartbeats([HASH])[HASH].deadline_s == T0 + 700


def test_put_heartbeat_change_of_an_absent_state_is_refused(store: TimerStore) -> None:
    with pytest.raises(StoreError):
        store.put_heartbeat(replace(NEW, idle_since_s=None))
    assert store.get_heartbeats([HASH]) == {}


def test_mark_heartbeat_missed_only_while_that_is_the_deadline(store: TimerStore) -> None:
    store.put_heartbeat(NEW)
    store.clear_heartbeat_idle(HASH, idle_since_s=T0)
    store.ping_heartbeat(HASH, now_s=T0 + 10)  # deadline T0 + 370
    assert not store.mark_heartbeat_missed(HASH, deadline_s=T0 + 369)
    assert store.get_heartbeats([HASH])[HASH].status == "up"
    assert store.mark_heartbeat_missed(HASH, deadline_s=T0 + 370)
    assert store.mark_heartbeat_missed(HASH, deadline_s=T0 + 370)  # again: the same mark
    state = store.get_heartbeats([HASH])[HASH]
    assert (state.idle_since_s, state.status) == (T0 + 370, "down")
    assert not store.mark_heartbeat_missed(token_hash("absent"), deadline_s=T0 + 370)


def test_clear_heartbeat_idle_only_the_mark_it_names(store: TimerStore) -> None:
    store.put_heartbeat(NEW)
    store.clear_heartbeat_idle(HASH, idle_since_s=T0 - 1)
    assert store.get_heartbeats([HASH])[HASH].idle_since_s == T0
    store.clear_heartbeat_idle(HASH, idle_since_s=T0)
    assert store.get_heartbeats([HASH])[HASH].idle_since_s is None


def test_delete_timer_removes_its_heartbeat_state(store: TimerStore) -> None:
    beat = timer("hb", schedule="heartbeat", first_fire_s=None, ping_hash=HASH)
    store.put_heartbeat(NEW)
    store.save_timer(beat, expected_version=None, remove=[], index=None)
    store.delete_timer("alice", "hb", expected_version=1, remove=[heartbeat_key(HASH)])
    assert store.get_heartbeats([HASH]) == {}
    assert store.get_timer("alice", "hb") is None


def test_heartbeat_timer_and_index_item_round_trip(store: TimerStore) -> None:
    beat = timer(
        "hb",
        schedule="heartbeat",
        first_fire_s=None,
        heartbeat_period_s=300,
        heartbeat_grace_s=60,
        ping_hash=HASH,
    )
    entry = heartbeat_entry(beat, HASH, (MINUTE + 6) * 60 + 10)
    store.save_timer(beat, expected_version=None, remove=[], index=None)
    store.put_successor(entry)
    assert store.get_timer("alice", "hb") == beat
    assert store.get_index_entry(entry.key) == entry
