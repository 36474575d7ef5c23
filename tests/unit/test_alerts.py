"""Failure alerts for every job type, ``pauseAfterFailures`` and ``overlap: skip``, on a fixed
clock: one notice per failing streak (not one per firing), one on recovery, a pause with its
reason, and a firing skipped while the previous run of its timer goes on."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pydantic import BaseModel

from tests.unit.world import World
from timer_service.alerts import NOTIFY_JOB_TYPE, NotifyConfig
from timer_service.dispatch import Firing
from timer_service.job_types import JobContext, JobType

ALERTS = {"webhookUrl": "https://alerts.example.com/hook", "afterFailures": 3}


class Flaky(BaseModel):
    """The config of the ``flaky`` job type: nothing; the test decides the outcomes."""


class Notices(NotifyConfig):
    message: str = ""
    event: str = "fired"


def world_with(outcomes: list[bool], notices: list[tuple[str, str]]) -> World:
    """A world whose ``flaky`` job fails or succeeds as ``outcomes`` say, in order, and whose
    ``notify`` job type keeps the notices it is given (event, message)."""

    def flaky(config: Flaky, context: JobContext) -> None:
        if not outcomes.pop(0):
            raise RuntimeError("HTTP 503 from the target")

    def notify(config: Notices, context: JobContext) -> None:
        notices.append((config.event, config.message))

    return World(
        job_types=(
            JobType(name="flaky", config_model=Flaky, handler=flaky),
            JobType(name=NOTIFY_JOB_TYPE, config_model=Notices, handler=notify),
        )
    )


def fire(world: World, timer_id: str, n: int) -> Any:
    """Deliver the timer's firing n (a second apart, each a new firing)."""
    timer = world.store.get_timer("alice", timer_id)
    assert timer is not None
    firing = Firing("alice", timer_id, timer.version, scheduled_s=int(world.clock.now()) + n)
    world.clock.set(firing.scheduled_s)
    try:
        return world.delivery.deliver(firing, attempt=1, reads=world.delivery.reads([firing]))
    except Exception as exc:  # the job's failure: what the policy retries
        return exc


def test_one_notice_per_failing_streak_and_one_on_recovery() -> None:
    # GIVEN a timer of any job type with alerts after 3 failures, failing 5 times then not
    notices: list[tuple[str, str]] = []
    world = world_with([False] * 5 + [True, True], notices)
    world.put("t", jobType="flaky", alerts=ALERTS)
    # WHEN it runs 7 times
    for n in range(7):
        fire(world, "t", n + 1)
    # THEN one "failing" notice at the third failure, one "recovered" at the first success
    assert [event for event, _ in notices] == ["failing", "recovered"]
    assert "3 runs in a row failed" in notices[0][1] and "HTTP 503" in notices[0][1]
    assert "after 5 failures" in notices[1][1]
    view = world.service.get("alice", "t")
    assert view.failures == 0 and view.alerts is not None


def test_a_timer_that_does_not_fail_costs_no_write_for_its_alerts() -> None:
    notices: list[tuple[str, str]] = []
    world = world_with([True] * 5, notices)
    world.put("t", jobType="flaky", alerts=ALERTS)
    writes = world.store.writes
    for n in range(5):
        fire(world, "t", n + 1)
    assert notices == [] and world.store.writes == writes


def test_a_short_streak_sends_nothing() -> None:
    notices: list[tuple[str, str]] = []
    world = world_with([False, False, True, False, False, True], notices)
    world.put("t", jobType="flaky", alerts=ALERTS)
    for n in range(6):
        fire(world, "t", n + 1)
    assert notices == []


def test_pause_after_failures_pauses_with_a_reason_and_says_so() -> None:
    notices: list[tuple[str, str]] = []
    world = world_with([False] * 4, notices)
    world.put("t", jobType="flaky", alerts=ALERTS, pauseAfterFailures=4, schedule="rate(1 minute)")
    for n in range(4):
        fire(world, "t", n + 1)
    view = world.service.get("alice", "t")
    assert (view.enabled, view.state) == (False, "paused")
    assert view.paused_reason is not None and "4 failed runs in a row" in view.paused_reason
    assert view.failures == 4  # the streak as it was when it paused, not as first read
    assert [event for event, _ in notices] == ["failing", "paused"]
    assert view.next_fire_times == []  # its index items went with the pause
    # AND a resume clears the reason and the streak
    resumed = world.service.set_enabled("alice", "t", enabled=True)
    assert (resumed.paused_reason, resumed.failures, resumed.state) == (None, 0, "active")


def test_manual_triggers_do_not_count_towards_a_streak() -> None:
    notices: list[tuple[str, str]] = []
    world = world_with([False] * 3, notices)
    world.put("t", jobType="flaky", alerts=ALERTS)
    timer = world.store.get_timer("alice", "t")
    assert timer is not None
    for n in range(3):
        firing = Firing("alice", "t", timer.version, scheduled_s=1_800_000_000 + n, manual=True)
        with pytest.raises(RuntimeError):
            world.delivery.deliver(firing, attempt=1, reads=world.delivery.reads([firing]))
    assert notices == [] and world.service.get("alice", "t").failures == 0


def test_overlap_skip_skips_a_firing_while_the_previous_run_goes_on() -> None:
    # GIVEN an overlap: skip timer whose job blocks until released
    release, started = threading.Event(), threading.Event()
    ran: list[int] = []

    def slow(config: Flaky, context: JobContext) -> None:
        ran.append(context.firing.scheduled_s)
        started.set()
        release.wait(5)

    world = World(job_types=(JobType(name="slow", config_model=Flaky, handler=slow),))
    world.put("s", jobType="slow", overlap="skip", history="all")
    world.put("a", jobType="slow", overlap="allow", history="all")
    timer = world.store.get_timer("alice", "s")
    assert timer is not None
    first = Firing("alice", "s", timer.version, scheduled_s=int(world.clock.now()))
    worker = threading.Thread(
        target=world.delivery.deliver,
        args=(first,),
        kwargs={"attempt": 1, "reads": world.delivery.reads([first])},
    )
    worker.start()
    assert started.wait(5)
    # WHEN the next firing comes while the first still runs
    second = Firing("alice", "s", timer.version, scheduled_s=first.scheduled_s + 1)
    world.clock.set(second.scheduled_s)
    result = world.delivery.deliver(second, attempt=1, reads=world.delivery.reads([second]))
    release.set()
    worker.join(5)
    # THEN it was skipped, and recorded so
    assert result.outcome == "overlapped" and ran == [first.scheduled_s]
    runs = {
        r.scheduled_s: r
        for r in world.store.list_runs(
            "alice", "s", incarnation=timer.created_s, limit=10, before=None
        )[0]
    }
    assert runs[second.scheduled_s].outcome == "skipped"
    assert "previous run" in runs[second.scheduled_s].summary
    # AND once the first ended, the next firing runs
    third = Firing("alice", "s", timer.version, scheduled_s=first.scheduled_s + 2)
    world.clock.set(third.scheduled_s)
    assert (
        world.delivery.deliver(third, attempt=1, reads=world.delivery.reads([third])).outcome
        == "delivered"
    )


def test_overlap_allow_costs_no_write() -> None:
    world = World(job_types=(JobType(name="quick", config_model=Flaky, handler=lambda c, x: None),))
    world.put("a", jobType="quick")
    timer = world.store.get_timer("alice", "a")
    assert timer is not None
    writes = world.store.writes
    for n in range(3):
        firing = Firing("alice", "a", timer.version, scheduled_s=int(world.clock.now()) + n)
        world.clock.set(firing.scheduled_s)
        world.delivery.deliver(firing, attempt=1, reads=world.delivery.reads([firing]))
    assert world.store.writes == writes
