"""The TimerStore contract for completion and the firing limit, on both stores: a completed
timer stops counting towards its owner's timers and firings a minute, once; a timer deleted
on completion leaves its incarnation for its runs; the owner's firings a minute never pass
the limit, even from writes that race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.contract.conftest import T0, rate_entry, timer
from timer_service.errors import FiringRateExceededError, QuotaExceededError, StoreError
from timer_service.models import Timer
from timer_service.runs import Run
from timer_service.store.base import TimerStore


def second_rate(timer_id: str, *, owner: str = "alice", weight: int = 60, **fields: Any) -> Timer:
    """A stored timer counting ``weight`` firings a minute (rate(1 second): 60)."""
    values = {"schedule": "rate(1 second)", "first_fire_s": T0 + 1} | fields
    return timer(timer_id, owner=owner, firing_weight=weight, **values)


def test_firing_limit_refuses_a_create_over_it_and_writes_nothing(store: TimerStore) -> None:
    store.save_timer(
        second_rate("a"), expected_version=None, remove=[], index=None, firing_limit=100
    )
    with pytest.raises(FiringRateExceededError) as refused:
        store.save_timer(
            second_rate("b"),
            expected_version=None,
            remove=[],
            index=rate_entry("b"),
            firing_limit=100,
        )
    assert refused.value.field == "schedule"
    assert store.get_timer("alice", "b") is None
    assert store.get_index_entry(rate_entry("b").key) is None
    # AND another owner's count is their own
    store.save_timer(
        second_rate("b", owner="bob"),
        expected_version=None,
        remove=[],
        index=None,
        firing_limit=100,
    )


def test_a_replace_counts_only_its_change_in_firings(store: TimerStore) -> None:
    store.save_timer(
        second_rate("a"), expected_version=None, remove=[], index=None, firing_limit=100
    )
    slower = second_rate("a", weight=1, version=2, schedule="rate(1 minute)")
    store.save_timer(
        slower,
        expected_version=1,
        remove=[],
        index=None,
        replaces=second_rate("a"),
        firing_limit=100,
    )
    store.save_timer(
        second_rate("b", weight=99), expected_version=None, remove=[], index=None, firing_limit=100
    )  # 1 + 99: exactly the limit
    faster = second_rate("a", weight=2, version=3)
    with pytest.raises(FiringRateExceededError):
        store.save_timer(
            faster, expected_version=2, remove=[], index=None, replaces=slower, firing_limit=100
        )
    assert store.get_timer("alice", "a") == slower


def test_racing_creates_never_pass_the_firing_limit(store: TimerStore) -> None:
    def create(n: int) -> bool:
        for _ in range(50):  # a write that lost a transaction conflict is tried again
            try:
                store.save_timer(
                    second_rate(f"t{n}", weight=30),
                    expected_version=None,
                    remove=[],
                    index=None,
                    firing_limit=100,
                )
            except FiringRateExceededError:
                return False
            except StoreError:
                continue
            return True
        raise AssertionError("contended fifty times")

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = sum(pool.map(create, range(16)))
    assert made == 3  # 3 x 30 = 90 fits, a fourth would be 120


def test_completing_frees_the_timers_place_once(store: TimerStore) -> None:
    # GIVEN alice at her limit of one timer
    done = second_rate("a")
    store.save_timer(
        done, expected_version=None, remove=[], index=None, count_limit=1, firing_limit=60
    )
    with pytest.raises(QuotaExceededError):
        store.save_timer(timer("b"), expected_version=None, remove=[], index=None, count_limit=1)
    # WHEN it completes (twice: a retry of its last firing) THEN only the first counts
    assert store.complete_timer(
        done, completed_s=T0 + 60, delete=False, remove=[], runs_until_s=T0 + 86400
    )
    assert not store.complete_timer(
        done, completed_s=T0 + 61, delete=False, remove=[], runs_until_s=T0 + 86400
    )
    kept = store.get_timer("alice", "a")
    assert kept is not None and kept.completed_s == T0 + 60 and kept.firing_weight == 0
    # AND its place and its firings are free, but only one place
    store.save_timer(
        second_rate("b"),
        expected_version=None,
        remove=[],
        index=None,
        count_limit=1,
        firing_limit=60,
    )
    with pytest.raises(QuotaExceededError):
        store.save_timer(timer("c"), expected_version=None, remove=[], index=None, count_limit=1)
    # AND deleting the completed timer frees nothing more
    store.delete_timer("alice", "a", expected_version=1, remove=[], timer=kept)
    with pytest.raises(QuotaExceededError):
        store.save_timer(timer("c"), expected_version=None, remove=[], index=None, count_limit=1)


def test_completing_a_changed_timer_does_nothing(store: TimerStore) -> None:
    store.save_timer(timer("a"), expected_version=None, remove=[], index=None)
    store.save_timer(timer("a", version=2), expected_version=1, remove=[], index=None)
    assert not store.complete_timer(
        timer("a"), completed_s=T0, delete=True, remove=[], runs_until_s=T0 + 86400
    )
    assert store.get_timer("alice", "a") == timer("a", version=2)


def test_deleting_on_completion_removes_it_and_its_items_and_keeps_its_incarnation(
    store: TimerStore,
) -> None:
    store.save_timer(
        timer("a"), expected_version=None, remove=[], index=rate_entry("a"), count_limit=1
    )
    run = Run(
        owner="alice",
        timer_id="a",
        incarnation=T0,
        firing_id="f",
        scheduled_s=T0 + 300,
        started_s=T0 + 300,
        finished_s=T0 + 301,
        attempt=1,
        outcome="ok",
    )
    store.put_run(run, expires_s=T0 + 86400)
    assert store.complete_timer(
        timer("a"),
        completed_s=T0 + 300,
        delete=True,
        remove=[rate_entry("a").key],
        runs_until_s=T0 + 86400,
    )
    assert store.get_timer("alice", "a") is None
    assert store.get_index_entry(rate_entry("a").key) is None
    assert store.completed_incarnation("alice", "a") == T0
    assert store.completed_incarnation("alice", "b") is None
    runs, _ = store.list_runs("alice", "a", incarnation=T0, limit=10, before=None)
    assert [r.firing_id for r in runs] == ["f"]
    store.save_timer(timer("b"), expected_version=None, remove=[], index=None, count_limit=1)


def test_deleting_a_timer_forgets_the_note_an_earlier_one_left_on_completion(
    store: TimerStore,
) -> None:
    """Found by the review: after an id was reused and the new timer deleted, the old timer's
    runs were listed again."""
    store.save_timer(timer("a"), expected_version=None, remove=[], index=None)
    assert store.complete_timer(
        timer("a"), completed_s=T0 + 300, delete=True, remove=[], runs_until_s=T0 + 86400
    )
    store.save_timer(timer("a", created_s=T0 + 400), expected_version=None, remove=[], index=None)
    assert store.completed_incarnation("alice", "a") == T0  # still there while it is replaced
    store.delete_timer("alice", "a", expected_version=1, remove=[])
    assert store.completed_incarnation("alice", "a") is None
