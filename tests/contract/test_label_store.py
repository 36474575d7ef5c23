"""The TimerStore contract, labels side, on both stores: a label's items change in the write of
their timer (and not when the write is refused), and a label's listing holds exactly the owner's
timers that have it, by id, a page at a time."""

from __future__ import annotations

import pytest

from tests.contract.conftest import T0, timer
from timer_service.errors import VersionConflictError
from timer_service.store.base import TimerStore


def labelled(store: TimerStore, key: str, value: str, owner: str = "alice") -> list[str]:
    ids, last = store.list_labelled(owner, key, value, limit=100, after_id=None)
    assert last is None
    return ids


def test_a_timer_s_labels_are_listed_and_read_back(store: TimerStore) -> None:
    # GIVEN timers with labels, one of another owner
    store.save_timer(
        timer("b", labels={"team": "pay", "env": "prod"}),
        expected_version=None,
        remove=[],
        index=None,
    )
    store.save_timer(
        timer("a", labels={"team": "pay"}), expected_version=None, remove=[], index=None
    )
    store.save_timer(
        timer("c", owner="bob", labels={"team": "pay"}),
        expected_version=None,
        remove=[],
        index=None,
    )
    # THEN each label lists its owner's timers by id, and the timer reads back with them
    assert labelled(store, "team", "pay") == ["a", "b"]
    assert labelled(store, "env", "prod") == ["b"]
    assert labelled(store, "team", "other") == []
    assert labelled(store, "team", "pay", owner="bob") == ["c"]
    found = store.get_timer("alice", "b")
    assert found is not None
    assert found.labels == {"team": "pay", "env": "prod"}


def test_a_change_of_labels_moves_the_timer_between_label_listings(store: TimerStore) -> None:
    first = timer(labels={"team": "pay", "env": "prod", "tier": "gold"})
    store.save_timer(first, expected_version=None, remove=[], index=None)
    second = timer(labels={"team": "ops", "env": "prod"}, version=2, schedule_version=1)
    store.save_timer(second, expected_version=1, remove=[], index=None, replaces=first)
    assert labelled(store, "team", "pay") == []
    assert labelled(store, "tier", "gold") == []
    assert labelled(store, "team", "ops") == ["t"]
    assert labelled(store, "env", "prod") == ["t"]
    assert store.get_timer("alice", "t") == second


def test_a_refused_write_changes_no_label_item(store: TimerStore) -> None:
    first = timer(labels={"team": "pay"}, version=2)
    store.save_timer(first, expected_version=None, remove=[], index=None)
    with pytest.raises(VersionConflictError):
        store.save_timer(
            timer(labels={"team": "ops"}, version=3),
            expected_version=1,
            remove=[],
            index=None,
            replaces=first,
        )
    assert labelled(store, "team", "pay") == ["t"]
    assert labelled(store, "team", "ops") == []


def test_a_deleted_timer_leaves_no_label_item(store: TimerStore) -> None:
    kept = timer(labels={"team": "pay"})
    store.save_timer(kept, expected_version=None, remove=[], index=None)
    store.delete_timer("alice", "t", expected_version=1, remove=[], timer=kept)
    assert labelled(store, "team", "pay") == []


def test_a_timer_completed_and_deleted_leaves_no_label_item_one_kept_keeps_them(
    store: TimerStore,
) -> None:
    gone = timer("gone", labels={"team": "pay"}, on_complete="delete")
    kept = timer("kept", labels={"team": "pay"})
    for each in (gone, kept):
        store.save_timer(each, expected_version=None, remove=[], index=None)
        assert store.complete_timer(
            each,
            completed_s=T0 + 60,
            delete=each.on_complete == "delete",
            remove=[],
            runs_until_s=T0,
        )
    assert labelled(store, "team", "pay") == ["kept"]


def test_a_label_listing_pages_by_id(store: TimerStore) -> None:
    for n in range(7):
        store.save_timer(
            timer(f"t{n}", labels={"team": "pay"}), expected_version=None, remove=[], index=None
        )
    pages, after = [], None
    while True:
        ids, after = store.list_labelled("alice", "team", "pay", limit=3, after_id=after)
        pages.append(ids)
        if after is None:
            break
    assert pages == [["t0", "t1", "t2"], ["t3", "t4", "t5"], ["t6"]]
    assert store.list_labelled("alice", "team", "pay", limit=3, after_id="t5") == (["t6"], None)
