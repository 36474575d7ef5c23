"""The TimerStore contract, ticking side: shard state and its lease, rate bases, the time
index (queries, successors, stale items), scans and moves between shards, on both stores.

The lease and watermark rules are the conditions of DynamoDB's UpdateItem and
TransactWriteItems: a false condition changes nothing (DynamoDB Developer Guide, "Condition
expressions"; a transaction's ConditionCheck fails it whole)."""

from __future__ import annotations

import pytest

from tests.contract.conftest import MINUTE, T0, at_entry, rate_entry, timer
from timer_service.errors import StoreError
from timer_service.keys import minute_partition
from timer_service.models import ShardState
from timer_service.store.base import TimerStore


def test_shard_state_never_ticked_is_empty(store: TimerStore) -> None:
    assert store.get_shard_state(3) == ShardState(shard=3)


def test_begin_tick_first_time_starts_before_first_and_claims(store: TimerStore) -> None:
    state = store.begin_tick(1, token="a", now_s=T0, lease_s=30, claim=MINUTE + 2, first=MINUTE)
    assert state is not None
    assert (state.claimed, state.done, state.lease_owner) == (MINUTE + 2, MINUTE - 1, "a")
    assert state.lease_until_s == T0 + 30
    assert store.get_shard_state(1) == state


def test_begin_tick_lease_held_refuses_until_it_expires(store: TimerStore) -> None:
    store.begin_tick(0, token="a", now_s=T0, lease_s=30, claim=MINUTE, first=MINUTE)
    # another ticker, while the lease runs and at its last instant: refused
    assert (
        store.begin_tick(0, token="b", now_s=T0 + 10, lease_s=30, claim=MINUTE, first=MINUTE)
        is None
    )
    assert (
        store.begin_tick(0, token="b", now_s=T0 + 30, lease_s=30, claim=MINUTE, first=MINUTE)
        is None
    )
    # the holder itself: taken again, further
    again = store.begin_tick(0, token="a", now_s=T0 + 10, lease_s=30, claim=MINUTE + 1, first=1)
    assert again is not None and again.claimed == MINUTE + 1 and again.done == MINUTE - 1
    # once it expired: taken over, done kept
    taken = store.begin_tick(0, token="b", now_s=T0 + 41, lease_s=30, claim=MINUTE + 1, first=1)
    assert taken is not None and (taken.lease_owner, taken.done) == ("b", MINUTE - 1)


def test_begin_tick_claim_below_claimed_is_refused(store: TimerStore) -> None:
    # `claimed` only rises: a ticker whose clock is behind the last claim does not tick
    store.begin_tick(0, token="a", now_s=T0, lease_s=30, claim=MINUTE + 2, first=MINUTE)
    store.end_tick(0, token="a", done=MINUTE + 2)
    assert store.begin_tick(0, token="b", now_s=T0, lease_s=30, claim=MINUTE + 1, first=1) is None
    state = store.get_shard_state(0)
    assert (state.claimed, state.lease_owner) == (MINUTE + 2, None)


def test_end_tick_records_done_and_frees_the_lease(store: TimerStore) -> None:
    store.begin_tick(0, token="a", now_s=T0, lease_s=30, claim=MINUTE + 2, first=MINUTE)
    store.end_tick(0, token="a", done=MINUTE + 2)
    state = store.get_shard_state(0)
    assert (state.done, state.claimed, state.lease_owner, state.lease_until_s) == (
        MINUTE + 2,
        MINUTE + 2,
        None,
        None,
    )
    assert store.begin_tick(0, token="b", now_s=T0, lease_s=30, claim=MINUTE + 3, first=1)


def test_end_tick_lease_lost_is_a_store_error(store: TimerStore) -> None:
    with pytest.raises(StoreError, match="lease was lost"):
        store.end_tick(0, token="a", done=MINUTE)  # never begun
    store.begin_tick(0, token="a", now_s=T0, lease_s=30, claim=MINUTE, first=MINUTE)
    store.begin_tick(0, token="b", now_s=T0 + 31, lease_s=30, claim=MINUTE, first=MINUTE)
    with pytest.raises(StoreError, match="lease was lost"):
        store.end_tick(0, token="a", done=MINUTE)
    assert store.get_shard_state(0).done == MINUTE - 1


def test_end_tick_marks_and_unmarks_rate_bases(store: TimerStore) -> None:
    for base in (5, 7, 60):
        store.ensure_base(0, base)
    store.begin_tick(0, token="a", now_s=T0, lease_s=30, claim=MINUTE, first=MINUTE)
    store.end_tick(0, token="a", done=MINUTE, mark={7: MINUTE, 60: MINUTE - 3})
    assert store.get_shard_state(0).retiring == {7: MINUTE, 60: MINUTE - 3}
    store.begin_tick(0, token="a", now_s=T0, lease_s=30, claim=MINUTE + 1, first=MINUTE)
    store.end_tick(0, token="a", done=MINUTE + 1, unmark=[60])
    state = store.get_shard_state(0)
    assert state.retiring == {7: MINUTE} and state.bases == frozenset({5, 7, 60})
    with pytest.raises(ValueError, match="mark and unmark"):
        store.end_tick(0, token="a", done=MINUTE + 1, mark={5: MINUTE}, unmark=[7])


def test_ensure_base_adds_it_and_clears_its_mark(store: TimerStore) -> None:
    store.ensure_base(2, 7)  # on a shard never ticked
    assert store.get_shard_state(2).bases == frozenset({7})
    store.begin_tick(2, token="a", now_s=T0, lease_s=30, claim=MINUTE, first=MINUTE)
    store.end_tick(2, token="a", done=MINUTE, mark={7: MINUTE})
    store.ensure_base(2, 7)
    state = store.get_shard_state(2)
    assert state.bases == frozenset({7}) and state.retiring == {}


def test_retire_base_only_when_marked_since_that_minute(store: TimerStore) -> None:
    store.ensure_base(0, 7)
    store.ensure_base(0, 5)
    assert not store.retire_base(0, 7, marked_minute=MINUTE)  # not marked
    store.begin_tick(0, token="a", now_s=T0, lease_s=30, claim=MINUTE, first=MINUTE)
    store.end_tick(0, token="a", done=MINUTE, mark={7: MINUTE})
    assert not store.retire_base(0, 7, marked_minute=MINUTE - 1)  # marked again since
    assert store.get_shard_state(0).bases == frozenset({5, 7})
    assert store.retire_base(0, 7, marked_minute=MINUTE)
    state = store.get_shard_state(0)
    assert state.bases == frozenset({5}) and state.retiring == {}


# --- the time index -----------------------------------------------------------------------


def test_query_index_reads_every_page_in_sort_key_order(store: TimerStore) -> None:
    # GIVEN 30 cron items of 50 KB (a long schedule) in one minute: over Query's 1 MB page
    entries = [
        at_entry(f"t{n:02d}", second=n % 60, kind="cron", schedule="x" * 50_000) for n in range(30)
    ]
    for entry in entries:
        assert store.put_successor(entry)
    store.put_successor(at_entry("other", minute=MINUTE + 2))
    # WHEN the minute is queried THEN every item comes, once, by sort key
    found = store.query_index(minute_partition(0, MINUTE + 1))
    assert found == sorted(entries, key=lambda e: e.key.sk)
    assert store.query_index(minute_partition(0, MINUTE + 5)) == []


def test_index_items_round_trip_every_field(store: TimerStore) -> None:
    entry = at_entry(
        kind="cron",
        misfire_policy="skip",
        schedule="cron(0 12 * * ? *)",
        timezone="America/New_York",
        start_s=T0 - 60,
        end_s=T0 + 86400,
        not_before_s=T0 + 1,
        api_written_s=T0 + 2,
        catch_up_window_s=600,
    )
    store.put_successor(entry)
    store.put_successor(rate_entry())
    assert store.get_index_entry(entry.key) == entry
    assert store.get_index_entry(rate_entry().key) == rate_entry()


def test_put_successor_does_not_replace_a_newer_version(store: TimerStore) -> None:
    assert store.put_successor(at_entry(version=2))
    assert store.put_successor(at_entry(version=2, api_written_s=T0))  # the same version
    assert store.get_index_entry(at_entry().key) == at_entry(version=2, api_written_s=T0)
    assert not store.put_successor(at_entry(version=1))
    assert store.get_index_entry(at_entry().key) == at_entry(version=2, api_written_s=T0)
    assert store.put_successor(at_entry(version=3))
    assert store.get_index_entry(at_entry().key) == at_entry(version=3)


def test_delete_stale_only_the_version_named(store: TimerStore) -> None:
    assert not store.delete_stale(at_entry().key, 1)  # absent
    store.put_successor(at_entry(version=2))
    assert not store.delete_stale(at_entry().key, 1)
    assert store.get_index_entry(at_entry().key) == at_entry(version=2)
    assert store.delete_stale(at_entry().key, 2)
    assert store.get_index_entry(at_entry().key) is None


# --- shard administration -------------------------------------------------------------------


def test_scans_count_and_list_timers_by_shard(store: TimerStore) -> None:
    for n in range(5):
        store.save_timer(timer(f"t{n}", shard=n % 2), expected_version=None, remove=[], index=None)
    store.save_timer(timer("b", owner="bob", shard=3), expected_version=None, remove=[], index=None)
    store.put_job_state("alice", "t0", {"not": "a timer"})
    store.put_successor(at_entry("t0"))
    assert store.count_timers_by_shard() == {0: 3, 1: 2, 3: 1}
    assert sorted(t.id for t in store.timers_on_shard(1)) == ["t1", "t3"]
    assert store.timers_on_shard(3) == [timer("b", owner="bob", shard=3)]
    assert store.timers_on_shard(2) == []


def idle(store: TimerStore, shard: int, minute: int) -> None:
    """Tick ``shard`` up to ``minute`` and let the lease go: claimed == done == minute."""
    store.begin_tick(shard, token="setup", now_s=T0, lease_s=30, claim=minute, first=minute)
    store.end_tick(shard, token="setup", done=minute)


def move(store: TimerStore, **changes: object) -> bool:
    """Move timer t from shard 0 to 1 (its rate item with it) with these arguments changed."""
    arguments: dict[str, object] = {
        "target": 1,
        "remove": [rate_entry().key],
        "entries": [rate_entry(shard=1)],
        "old_claimed": MINUTE,
        "first_minute": MINUTE + 1,
        "base": 5,
    }
    current = store.get_timer("alice", "t")
    return store.move_timer(changes.pop("timer", current), **(arguments | changes))  # type: ignore[arg-type]


@pytest.fixture
def placed(store: TimerStore) -> TimerStore:
    """Timer t with its rate item on shard 0, idle at MINUTE; shard 1 idle before it."""
    store.save_timer(timer(), expected_version=None, remove=[], index=rate_entry())
    store.ensure_base(0, 5)
    idle(store, 0, MINUTE)
    idle(store, 1, MINUTE - 5)
    return store


def test_move_timer_moves_timer_items_and_base_at_once(placed: TimerStore) -> None:
    assert move(placed)
    assert placed.get_timer("alice", "t") == timer(shard=1)
    assert placed.get_index_entry(rate_entry().key) is None
    assert placed.get_index_entry(rate_entry(shard=1).key) == rate_entry(shard=1)
    assert 5 in placed.get_shard_state(1).bases


def test_move_timer_to_a_shard_never_ticked(placed: TimerStore) -> None:
    assert move(placed, target=4, entries=[rate_entry(shard=4)])
    assert placed.get_timer("alice", "t") == timer(shard=4)
    assert placed.get_shard_state(4).bases == frozenset({5})


def test_move_timer_from_a_shard_never_ticked(store: TimerStore) -> None:
    store.save_timer(timer(), expected_version=None, remove=[], index=rate_entry())
    assert not move(store)  # old_claimed names a minute the shard never claimed
    assert move(store, old_claimed=None)
    assert store.get_timer("alice", "t") == timer(shard=1)


def assert_unmoved(store: TimerStore) -> None:
    assert store.get_timer("alice", "t") == timer()
    assert store.get_index_entry(rate_entry().key) == rate_entry()
    assert store.get_index_entry(rate_entry(shard=1).key) is None
    assert 5 not in store.get_shard_state(1).bases


def test_move_timer_old_shard_moved_on_changes_nothing(placed: TimerStore) -> None:
    assert not move(placed, old_claimed=MINUTE - 1)
    assert_unmoved(placed)


def test_move_timer_old_shard_ticking_changes_nothing(placed: TimerStore) -> None:
    # GIVEN the old shard claimed == done == MINUTE, but a ticker holds its lease
    placed.begin_tick(0, token="a", now_s=T0, lease_s=30, claim=MINUTE, first=MINUTE)
    # THEN it is not idle: no move
    assert not move(placed)
    assert_unmoved(placed)


def test_move_timer_target_claimed_the_first_minute_changes_nothing(placed: TimerStore) -> None:
    idle(placed, 1, MINUTE + 1)
    assert not move(placed)
    assert_unmoved(placed)


def test_move_timer_changed_or_deleted_timer_changes_nothing(placed: TimerStore) -> None:
    assert not move(placed, timer=timer(version=2))
    assert_unmoved(placed)
    placed.delete_timer("alice", "t", expected_version=1, remove=[])
    assert not move(placed, timer=timer())
    assert placed.get_timer("alice", "t") is None
