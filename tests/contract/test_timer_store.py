"""The TimerStore contract, timers side: versions, quota, index items with their timer, raced
firings' claims, run history, job state, listings and the registry, on both stores.

Conditional writes follow DynamoDB: a write whose condition is false changes nothing, and a
transaction's actions all succeed or all fail (DynamoDB Developer Guide, "Condition
expressions" and "Amazon DynamoDB Transactions: How it works")."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.contract.conftest import T0, at_entry, rate_entry, timer
from timer_service.errors import JobStateTooLargeError, QuotaExceededError, VersionConflictError
from timer_service.keys import job_state_key
from timer_service.models import ShardRegistry
from timer_service.runs import Run
from timer_service.store.base import MAX_JOB_STATE_BYTES, TimerStore


def test_save_timer_new_reads_back_equal(store: TimerStore) -> None:
    saved = timer(
        timezone="Europe/Paris",
        start_s=T0,
        end_s=T0 + 86400,
        history="errors",
        catch_up_window_s=600,
    )
    store.save_timer(saved, expected_version=None, remove=[], index=None)
    assert store.get_timer("alice", "t") == saved
    assert store.get_timer("alice", "other") is None
    assert store.get_timer("bob", "t") is None


def test_save_timer_existing_without_version_conflicts_with_the_stored_version(
    store: TimerStore,
) -> None:
    store.save_timer(timer(version=3), expected_version=None, remove=[], index=None)
    with pytest.raises(VersionConflictError) as raised:
        store.save_timer(timer(version=1), expected_version=None, remove=[], index=None)
    assert (raised.value.expected, raised.value.actual) == (None, 3)
    assert store.get_timer("alice", "t") == timer(version=3)


def test_save_timer_wrong_version_conflicts_and_changes_nothing(store: TimerStore) -> None:
    # GIVEN a timer at version 2, and an index item of it
    store.save_timer(timer(version=2), expected_version=None, remove=[], index=rate_entry())
    # WHEN a write holds it to version 1, removing that item and putting another
    with pytest.raises(VersionConflictError) as raised:
        store.save_timer(
            timer(version=3, schedule="at(2026-11-22T12:05:00)"),
            expected_version=1,
            remove=[rate_entry().key],
            index=at_entry(version=3),
        )
    # THEN the error names the actual version, and neither the timer nor its items changed
    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert store.get_timer("alice", "t") == timer(version=2)
    assert store.get_index_entry(rate_entry().key) == rate_entry()
    assert store.get_index_entry(at_entry().key) is None


def test_save_timer_absent_with_a_version_conflicts_with_none(store: TimerStore) -> None:
    with pytest.raises(VersionConflictError) as raised:
        store.save_timer(timer(version=2), expected_version=1, remove=[], index=None)
    assert (raised.value.expected, raised.value.actual) == (1, None)
    assert store.get_timer("alice", "t") is None


def test_save_timer_right_version_replaces_timer_and_index_items(store: TimerStore) -> None:
    store.save_timer(timer(), expected_version=None, remove=[], index=rate_entry())
    moved = at_entry(version=2)
    store.save_timer(timer(version=2), expected_version=1, remove=[rate_entry().key], index=moved)
    assert store.get_timer("alice", "t") == timer(version=2)
    assert store.get_index_entry(rate_entry().key) is None
    assert store.get_index_entry(moved.key) == moved


def test_save_timer_index_key_also_removed_keeps_the_new_item(store: TimerStore) -> None:
    store.save_timer(timer(), expected_version=None, remove=[], index=rate_entry())
    again = rate_entry(version=2)
    store.save_timer(
        timer(version=2), expected_version=1, remove=[again.key, again.key], index=again
    )
    assert store.get_index_entry(again.key) == again


def test_delete_timer_removes_timer_items_and_job_state(store: TimerStore) -> None:
    store.save_timer(timer(), expected_version=None, remove=[], index=rate_entry())
    store.put_job_state("alice", "t", {"snapshot": "x"})
    store.delete_timer("alice", "t", expected_version=1, remove=[rate_entry().key])
    assert store.get_timer("alice", "t") is None
    assert store.get_index_entry(rate_entry().key) is None
    assert store.get_job_state("alice", "t") is None


def test_delete_timer_wrong_version_conflicts_and_keeps_everything(store: TimerStore) -> None:
    store.save_timer(timer(version=4), expected_version=None, remove=[], index=rate_entry())
    store.put_job_state("alice", "t", {"snapshot": "x"})
    with pytest.raises(VersionConflictError) as raised:
        store.delete_timer("alice", "t", expected_version=3, remove=[rate_entry().key])
    assert (raised.value.expected, raised.value.actual) == (3, 4)
    assert store.get_timer("alice", "t") == timer(version=4)
    assert store.get_index_entry(rate_entry().key) == rate_entry()
    assert store.get_job_state("alice", "t") == {"snapshot": "x"}


def test_delete_timer_absent_conflicts_with_none(store: TimerStore) -> None:
    with pytest.raises(VersionConflictError) as raised:
        store.delete_timer("alice", "t", expected_version=1, remove=[])
    assert raised.value.actual is None


# --- quota ------------------------------------------------------------------------------


def test_quota_counts_creates_and_deletes_per_owner(store: TimerStore) -> None:
    # GIVEN alice at her limit of 2 timers, and bob with one
    for timer_id in ("a", "b"):
        store.save_timer(
            timer(timer_id), expected_version=None, remove=[], index=None, count_limit=2
        )
    store.save_timer(timer("a", owner="bob"), expected_version=None, remove=[], index=None)
    # WHEN she creates a third THEN it is refused, and not written
    with pytest.raises(QuotaExceededError) as raised:
        store.save_timer(timer("c"), expected_version=None, remove=[], index=None, count_limit=2)
    assert raised.value.limit == 2
    assert store.get_timer("alice", "c") is None
    # AND an update of one she has is no create: it passes
    store.save_timer(
        timer("a", version=2), expected_version=1, remove=[], index=None, count_limit=2
    )
    # AND after a delete she may create one again, but only one
    store.delete_timer("alice", "a", expected_version=2, remove=[])
    store.save_timer(timer("c"), expected_version=None, remove=[], index=None, count_limit=2)
    with pytest.raises(QuotaExceededError):
        store.save_timer(timer("d"), expected_version=None, remove=[], index=None, count_limit=2)


def test_quota_failed_create_is_not_counted(store: TimerStore) -> None:
    store.save_timer(timer("a"), expected_version=None, remove=[], index=None, count_limit=2)
    with pytest.raises(VersionConflictError):
        store.save_timer(timer("a"), expected_version=None, remove=[], index=None, count_limit=2)
    store.save_timer(timer("b"), expected_version=None, remove=[], index=None, count_limit=2)
    assert store.get_timer("alice", "b") is not None


def test_quota_full_and_id_taken_is_a_conflict(store: TimerStore) -> None:
    # A create that lost a race to a create of the same id is a conflict (the service then
    # writes over it as an update, which the quota does not limit), not a quota refusal.
    store.save_timer(timer("a", version=5), expected_version=None, remove=[], index=None)
    with pytest.raises(VersionConflictError) as raised:
        store.save_timer(timer("a"), expected_version=None, remove=[], index=None, count_limit=1)
    assert raised.value.actual == 5


# --- raced firings --------------------------------------------------------------------------


def test_claim_firing_is_held_by_one_claimant_until_released(store: TimerStore) -> None:
    firing = "alice#t@1795349100"
    assert store.claim_firing(firing, claimant="m1", expires_s=T0 + 900)
    assert store.claim_firing(firing, claimant="m1", expires_s=T0 + 900)  # its retry
    assert not store.claim_firing(firing, claimant="m2", expires_s=T0 + 900)
    store.release_firing(firing, claimant="m2")  # not theirs: nothing happens
    assert not store.claim_firing(firing, claimant="m2", expires_s=T0 + 900)
    store.release_firing(firing, claimant="m1")
    assert store.claim_firing(firing, claimant="m2", expires_s=T0 + 900)
    assert not store.claim_firing(firing, claimant="m1", expires_s=T0 + 900)


def test_release_firing_never_claimed_is_fine(store: TimerStore) -> None:
    store.release_firing("alice#t@1", claimant="m1")
    assert store.claim_firing("alice#t@1", claimant="m2", expires_s=T0)


# --- run history and job state ------------------------------------------------------------


def run(scheduled_s: int, *, attempt: int = 1, incarnation: int = T0, manual: bool = False) -> Run:
    return Run(
        owner="alice",
        timer_id="t",
        incarnation=incarnation,
        firing_id=f"alice#t@{scheduled_s}",
        scheduled_s=scheduled_s,
        started_s=scheduled_s + 0.25,
        finished_s=scheduled_s + 1.5,
        attempt=attempt,
        outcome="changed",
        summary="2 lines changed",
        manual=manual,
        lateness_ms=250.0,
        diff="-a\n+b\n",
        details={"status": 200},
    )


def test_list_runs_pages_newest_first_within_an_incarnation(store: TimerStore) -> None:
    # GIVEN five runs of this incarnation (one retried), and one of an older incarnation
    runs = [run(T0 + 60 * n) for n in range(4)] + [run(T0 + 180, attempt=2)]
    for each in [*runs, run(T0 + 500, incarnation=T0 - 10)]:
        store.put_run(each, expires_s=T0 + 86400)
    newest_first = sorted(runs, key=lambda r: r.sort_key, reverse=True)
    # WHEN they are paged two at a time THEN every run comes once, newest first
    page, after = store.list_runs("alice", "t", incarnation=T0, limit=2, before=None)
    assert page == newest_first[:2] and after == newest_first[1].sort_key
    page, after = store.list_runs("alice", "t", incarnation=T0, limit=2, before=after)
    assert page == newest_first[2:4] and after == newest_first[3].sort_key
    page, after = store.list_runs("alice", "t", incarnation=T0, limit=2, before=after)
    assert (page, after) == (newest_first[4:], None)


def test_list_runs_exactly_a_page_says_no_more(store: TimerStore) -> None:
    for n in range(3):
        store.put_run(run(T0 + 60 * n), expires_s=T0 + 86400)
    page, after = store.list_runs("alice", "t", incarnation=T0, limit=3, before=None)
    assert len(page) == 3 and after is None
    assert store.list_runs("alice", "other", incarnation=T0, limit=3, before=None) == ([], None)


def test_put_run_same_attempt_again_replaces_it(store: TimerStore) -> None:
    store.put_run(run(T0), expires_s=T0 + 86400)
    again = run(T0, manual=False)
    store.put_run(again, expires_s=T0 + 86400)
    assert store.list_runs("alice", "t", incarnation=T0, limit=5, before=None) == ([again], None)


def test_a_run_keeps_its_trace_id(store: TimerStore) -> None:
    # GIVEN a run of a traced firing, and one queued before firings carried traces
    traced = replace(run(T0), trace_id="4bf92f3577b34da6a3ce929d0e0e4736")
    store.put_run(traced, expires_s=T0 + 86400)
    store.put_run(run(T0 + 60), expires_s=T0 + 86400)
    # WHEN they are listed THEN each comes back with its trace id, or none
    page, _ = store.list_runs("alice", "t", incarnation=T0, limit=5, before=None)
    assert [r.trace_id for r in page] == [None, "4bf92f3577b34da6a3ce929d0e0e4736"]


def test_job_state_round_trips_and_is_replaced(store: TimerStore) -> None:
    assert store.get_job_state("alice", "t") is None
    state = {"snapshot": "<p>é</p>", "hashes": [1, 2], "nested": {"ok": True, "none": None}}
    store.put_job_state("alice", "t", state)
    assert store.get_job_state("alice", "t") == state
    store.put_job_state("alice", "t", {"snapshot": ""})
    assert store.get_job_state("alice", "t") == {"snapshot": ""}
    assert store.get_job_state("bob", "t") is None


def test_job_state_over_the_limit_is_refused_and_the_old_one_kept(store: TimerStore) -> None:
    import random

    store.put_job_state("alice", "t", {"snapshot": "small"})
    noise = random.Random(17).randbytes(MAX_JOB_STATE_BYTES).hex()  # hex of random bytes
    with pytest.raises(JobStateTooLargeError):
        store.put_job_state("alice", "t", {"snapshot": noise})
    assert store.get_job_state("alice", "t") == {"snapshot": "small"}
    assert job_state_key("alice", "t").sk == "J"


# --- listings and the registry ------------------------------------------------------------


def test_list_timers_pages_by_id_for_one_owner(store: TimerStore) -> None:
    ids = ["a", "b", "c", "d", "e"]
    for timer_id in reversed(ids):
        store.save_timer(timer(timer_id), expected_version=None, remove=[], index=None)
    store.save_timer(timer("bb", owner="bob"), expected_version=None, remove=[], index=None)
    seen: list[str] = []
    after = None
    for _ in range(3):
        page, after = store.list_timers("alice", limit=2, after_id=after)
        seen += [t.id for t in page]
        assert all(t.owner == "alice" for t in page)
        if after is None:
            break
    assert (seen, after) == (ids, None)


def test_list_timers_exactly_a_page_or_none_say_no_more(store: TimerStore) -> None:
    assert store.list_timers("alice", limit=2, after_id=None) == ([], None)
    for timer_id in ("a", "b"):
        store.save_timer(timer(timer_id), expected_version=None, remove=[], index=None)
    page, after = store.list_timers("alice", limit=2, after_id=None)
    assert [t.id for t in page] == ["a", "b"] and after is None
    assert store.list_timers("alice", limit=2, after_id="b") == ([], None)


def test_registry_defaults_to_shard_zero_then_reads_back(store: TimerStore) -> None:
    assert store.get_registry() == ShardRegistry()
    assert store.get_timer_and_registry("alice", "t") == (None, ShardRegistry())
    registry = ShardRegistry(active=(0, 2, 3), draining=(1,))
    store.put_registry(registry)
    store.save_timer(timer(shard=2), expected_version=None, remove=[], index=None)
    assert store.get_registry() == registry
    assert store.get_timer_and_registry("alice", "t") == (timer(shard=2), registry)


def test_get_timers_reads_more_than_one_batch_and_skips_absent_ones(store: TimerStore) -> None:
    # BatchGetItem takes at most 100 keys a call; 150 timers, asked for twice over
    timers = [timer(f"t{n:03d}") for n in range(150)]
    for each in timers:
        store.save_timer(each, expected_version=None, remove=[], index=None)
    keys = [(t.owner, t.id) for t in timers]
    found = store.get_timers([*keys, *keys, ("alice", "absent"), ("bob", "t000")])
    assert found == {(t.owner, t.id): t for t in timers}
    assert store.get_timers([]) == {}
