"""The TimerStore contract for a timer's run bookkeeping, on both stores: its failing streak
and the run-in-progress mark of ``overlap: skip``, each holding only at the version read."""

from __future__ import annotations

from tests.contract.conftest import T0, timer
from timer_service.store.base import TimerStore


def test_failures_count_at_the_version_and_clear_once(store: TimerStore) -> None:
    store.save_timer(timer("a"), expected_version=None, remove=[], index=None)
    assert [store.record_failure(timer("a")) for _ in range(3)] == [1, 2, 3]
    kept = store.get_timer("alice", "a")
    assert kept is not None and (kept.failures, kept.version) == (3, 1)  # no new version
    assert not store.clear_failures(timer("a"), failures=2)  # it is 3 now: another's view
    assert store.clear_failures(timer("a"), failures=3)
    assert not store.clear_failures(timer("a"), failures=3)  # ended once
    assert store.get_timer("alice", "a").failures == 0  # type: ignore[union-attr]


def test_failures_of_another_version_or_a_missing_timer_count_nothing(store: TimerStore) -> None:
    store.save_timer(timer("a", version=2), expected_version=None, remove=[], index=None)
    assert store.record_failure(timer("a", version=1)) is None
    assert store.record_failure(timer("gone")) is None
    assert store.get_timer("alice", "a").failures == 0  # type: ignore[union-attr]


def test_a_run_mark_holds_off_another_firing_until_released_or_past_its_lease(
    store: TimerStore,
) -> None:
    store.save_timer(timer("s"), expected_version=None, remove=[], index=None)
    assert store.claim_run(timer("s"), "f1", now_s=T0, until_s=T0 + 900)
    assert store.claim_run(timer("s"), "f1", now_s=T0 + 1, until_s=T0 + 901)  # its own retry
    assert not store.claim_run(timer("s"), "f2", now_s=T0 + 2, until_s=T0 + 902)
    store.release_run(timer("s"), "f2")  # not its mark: nothing happens
    assert not store.claim_run(timer("s"), "f2", now_s=T0 + 3, until_s=T0 + 903)
    store.release_run(timer("s"), "f1")
    assert store.claim_run(timer("s"), "f2", now_s=T0 + 4, until_s=T0 + 904)
    # AND a mark left by a crash stops holding after its lease
    assert store.claim_run(timer("s"), "f3", now_s=T0 + 905, until_s=T0 + 1805)
    assert not store.claim_run(timer("s", version=2), "f4", now_s=T0 + 906, until_s=T0 + 1806)
