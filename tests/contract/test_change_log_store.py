"""The TimerStore contract for the shards' change logs (timer_service.change_log), on memory and
on DynamoDB (moto): each write is found from its second on, per shard, with its latest second;
and a copy of a timer survives its index item's round trip."""

from __future__ import annotations

from dataclasses import replace

from tests.contract.conftest import T0, timer
from timer_service.snapshots import snapshot_json, snapshot_of, timer_from_snapshot
from timer_service.store.base import TimerStore
from timer_service.time_index import index_entry


def test_changes_are_found_from_their_second_on_by_shard(store: TimerStore) -> None:
    store.record_changes([0], "alice", "a", T0)
    store.record_changes([0, 1], "alice", "b", T0 + 5)
    store.record_changes([0], "alice", "a", T0 + 9)
    store.record_changes([0], "bob", "a", T0 + 2)
    assert store.changes_since(0, T0) == {("alice", "a"): T0 + 9, ("alice", "b"): T0 + 5,
                                          ("bob", "a"): T0 + 2}  # fmt: skip
    assert store.changes_since(0, T0 + 6) == {("alice", "a"): T0 + 9}
    assert store.changes_since(1, T0) == {("alice", "b"): T0 + 5}
    assert store.changes_since(2, 0) == {}


def test_an_index_item_keeps_its_timers_copy(store: TimerStore) -> None:
    written = timer("t", callback_data={"order": 42}, job_type="webhook")
    entry = index_entry(written, after_s=T0)
    assert entry is not None and entry.snapshot == snapshot_of(written) is not None
    store.save_timer(written, expected_version=None, remove=[], index=entry)
    (read,) = [e for e in store.query_index(entry.key.pk) if e.timer_id == "t"]
    assert read.snapshot is not None
    copy = timer_from_snapshot(read.snapshot, "alice", "t", shard=0, created_s=T0)
    left_out = {"updated_s", "firing_weight", "first_fire_s"}  # not needed to deliver
    assert copy.model_copy(update={k: getattr(written, k) for k in left_out}) == written


def test_a_copy_is_stored_deflated_and_a_replaced_timers_creation_kept(store: TimerStore) -> None:
    created = timer("new", job_type="webhook", created_s=T0, updated_s=T0)
    replaced = timer("old", job_type="webhook", created_s=T0 - 600, updated_s=T0, version=3)
    for written in (created, replaced):
        entry = index_entry(written, after_s=T0)
        assert entry is not None and entry.snapshot is not None
        entry = replace(entry, api_written_s=T0)  # as the API writes it (handoff.write_timer)
        assert not entry.snapshot.startswith("{")  # deflated: its JSON would be 100-odd bytes
        assert len(entry.snapshot) < len(snapshot_json(entry.snapshot)) / 2
        store.save_timer(written, expected_version=None, remove=[], index=entry)
        (read,) = [e for e in store.query_index(entry.key.pk) if e.timer_id == written.id]
        assert read.created_s == written.created_s  # the incarnation its firings carry
        assert read.snapshot is not None and snapshot_json(read.snapshot) == snapshot_json(
            entry.snapshot
        )


def test_a_copy_written_as_json_before_is_still_read() -> None:
    written = timer("t", callback_data={"order": 42}, job_type="webhook")
    text = snapshot_json(snapshot_of(written) or "")
    assert text.startswith("{")
    copy = timer_from_snapshot(text, "alice", "t", shard=0, created_s=T0)
    assert copy.callback_data == {"order": 42} and copy.job_type == "webhook"
