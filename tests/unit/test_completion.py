"""Run limits and completion on a fixed clock: ``maxFirings``, ``state``, ``firingsLeft`` and
``onComplete: delete``. A timer that can fire no more is ``completed`` and no longer counts
against its owner's quota (EventBridge Scheduler's ``ActionAfterCompletion: DELETE`` removes a
spent one-time schedule the same way, https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html);
no write per firing: the last firing is derived from the schedule."""

from __future__ import annotations

import pytest

from tests.unit.world import T0, World
from timer_service.errors import QuotaExceededError, TimerNotFoundError


def deliver_minutes(world: World, minutes: int) -> None:
    for _ in range(minutes):
        world.engine.tick(0)
        world.clock.advance(59)  # to the last second of the minute: every firing is due
        world.deliver_sent()
        world.next_minute()


def test_max_firings_runs_exactly_that_many_then_completes() -> None:
    # GIVEN a rate(1 minute) timer limited to 3 firings
    world = World()
    world.put("three", schedule="rate(1 minute)", maxFirings=3, jobType="counted")
    view = world.service.get("alice", "three")
    assert (view.state, view.firings_left, view.max_firings) == ("active", 3, 3)
    assert len(view.next_fire_times) == 3  # the preview of what is left stops there too
    # WHEN ten minutes pass
    deliver_minutes(world, 10)
    # THEN it ran 3 times, the last one completed it, and it shows so
    assert sum(n for (tid, _), n in world.runs.items() if tid == "three") == 3
    view = world.service.get("alice", "three")
    assert (view.state, view.firings_left, view.next_fire_times) == ("completed", 0, [])
    assert view.completed_at is not None


def test_max_firings_of_a_second_rate_and_of_a_cron() -> None:
    world = World()
    world.put("sec", schedule="rate(2 seconds)", maxFirings=45, jobType="counted")
    world.put("cron", schedule="cron(0/5 * * * ? *)", maxFirings=2, jobType="counted")
    deliver_minutes(world, 15)
    runs = {tid: sum(n for (t, _), n in world.runs.items() if t == tid) for tid in ("sec", "cron")}
    assert runs == {"sec": 45, "cron": 2}
    assert world.service.get("alice", "sec").state == "completed"
    assert world.service.get("alice", "cron").state == "completed"


def test_a_completed_timer_frees_its_place_in_the_quota() -> None:
    # GIVEN an owner allowed one timer, holding a one-shot at() timer
    world = World(max_timers=1)
    world.put("once", schedule="at(2026-11-22T12:02:00)", jobType="counted")
    with pytest.raises(QuotaExceededError):
        world.put("other", schedule="rate(1 hour)")
    # WHEN its one firing has run
    deliver_minutes(world, 3)
    assert world.runs[("once", T0 + 120)] == 1
    # THEN it is completed (kept) and a new timer fits
    assert world.service.get("alice", "once").state == "completed"
    world.put("other", schedule="rate(1 hour)")


def test_on_complete_delete_removes_the_timer_after_its_last_firing_and_keeps_its_runs() -> None:
    world = World()
    world.put(
        "temp",
        schedule="rate(1 minute)",
        maxFirings=2,
        onComplete="delete",
        history="all",
        jobType="counted",
    )
    deliver_minutes(world, 5)
    assert sum(n for (tid, _), n in world.runs.items() if tid == "temp") == 2
    with pytest.raises(TimerNotFoundError):
        world.service.get("alice", "temp")
    assert not any("temp" in sk for part in world.store.index.values() for sk in part)
    runs = world.service.runs("alice", "temp")
    assert [r.outcome for r in runs.items] == ["ok", "ok"]


def test_a_timer_with_end_at_completes_when_its_last_firing_ran() -> None:
    world = World()
    world.put("ends", schedule="rate(1 minute)", endAt="2026-11-22T12:02:30Z", jobType="counted")
    view = world.service.get("alice", "ends")
    assert view.firings_left == 2
    deliver_minutes(world, 4)
    assert world.service.get("alice", "ends").state == "completed"


def test_an_unbounded_timer_shows_no_firings_left_and_stays_active() -> None:
    world = World()
    world.put("forever", schedule="rate(1 minute)")
    view = world.service.get("alice", "forever")
    assert (view.state, view.firings_left) == ("active", None)
    world.service.set_enabled("alice", "forever", enabled=False)
    assert world.service.get("alice", "forever").state == "paused"


def test_a_skipped_last_firing_still_completes_the_timer() -> None:
    # GIVEN a skip-misfire timer whose last firing falls in a ticker outage
    world = World(max_timers=1)
    world.put(
        "s",
        schedule="rate(1 minute)",
        maxFirings=3,
        misfirePolicy="skip",
        onComplete="delete",
        jobType="counted",
    )
    deliver_minutes(world, 1)  # 12:01:01 ran
    world.clock.set(T0 + 10 * 60 + 1)  # then the ticker was down until 12:10
    deliver_minutes(world, 1)
    # THEN the missed 12:02:01 and 12:03:01 did not run, but the timer is gone, its place free
    assert list(world.runs) == [("s", T0 + 61)]
    with pytest.raises(TimerNotFoundError):
        world.service.get("alice", "s")
    world.put("next", schedule="rate(1 hour)")


def test_a_replace_keeps_the_count_unless_the_schedule_changes_and_re_arms_a_completed_one() -> (
    None
):
    world = World()
    spec = {"schedule": "rate(1 minute)", "maxFirings": 3, "jobType": "counted"}
    world.put("t", **spec)
    deliver_minutes(world, 1)
    assert sum(world.runs.values()) == 1
    world.put("t", **spec, timerCallbackData={"changed": True})  # same schedule: same count
    assert world.service.get("alice", "t").firings_left == 2
    deliver_minutes(world, 3)
    assert world.service.get("alice", "t").state == "completed"
    world.put("t", **spec)  # written again once completed: three more
    view = world.service.get("alice", "t")
    assert (view.state, view.firings_left) == ("active", 3)


def test_a_paused_timer_whose_last_firing_passed_is_completed_when_resumed() -> None:
    # GIVEN a one-firing timer paused through its firing
    world = World(max_timers=1)
    world.put("p", schedule="rate(1 minute)", maxFirings=1, jobType="counted")
    world.service.set_enabled("alice", "p", enabled=False)
    deliver_minutes(world, 3)
    assert world.runs == {}
    # THEN it shows completed; resumed, it stays so and frees its place in the quota
    assert world.service.get("alice", "p").state == "completed"
    with pytest.raises(QuotaExceededError):
        world.put("q", schedule="rate(1 hour)")
    assert world.service.set_enabled("alice", "p", enabled=True).state == "completed"
    world.put("q", schedule="rate(1 hour)")


def test_max_firings_of_a_cron_is_bounded_with_a_400_naming_it() -> None:
    from timer_service.errors import InvalidRequestError

    world = World()
    with pytest.raises(InvalidRequestError) as refused:
        world.put("c", schedule="cron(* * * * ? *)", maxFirings=10_001)
    assert refused.value.field == "maxFirings"


def test_firings_left_of_a_cron_is_counted_up_to_a_hundred_and_of_a_rate_exactly() -> None:
    world = World()
    world.put("few", schedule="cron(0 * * * ? *)", maxFirings=40)
    world.put("many", schedule="cron(0 * * * ? *)", maxFirings=5000)
    world.put("rate", schedule="rate(1 second)", maxFirings=900_000)
    left = {t: world.service.get("alice", t).firings_left for t in ("few", "many", "rate")}
    assert left == {"few": 40, "many": None, "rate": 900_000}


@pytest.mark.parametrize("on_complete", ["keep", "delete"])
def test_every_firing_of_a_limited_jittered_timer_runs_whatever_on_complete_says(
    on_complete: str,
) -> None:
    """Found by a review: the last firing ran (and deleted its timer) before an earlier one
    whose jitter offset put it later; that one then found no timer and never ran."""
    from timer_service.jitter import jitter_offset

    world = World()
    first_s, last_s = T0 + 61, T0 + 121
    timer_id = next(
        f"j{n}"
        for n in range(10_000)
        if first_s + jitter_offset("alice", f"j{n}", first_s, 900)
        > last_s + jitter_offset("alice", f"j{n}", last_s, 900)
    )
    world.put(
        timer_id,
        schedule="rate(1 minute)",
        jobType="counted",
        jitterSeconds=900,
        maxFirings=2,
        onComplete=on_complete,
    )
    world.run_minutes(4)
    sent = sorted((f for f, _ in world.queue.sent), key=lambda f: f.due_s)
    # WHEN each message is delivered at its second, in that order
    for firing in sent:
        world.clock.set(max(world.clock.now(), firing.due_s))
        world.delivery.deliver(firing, attempt=1, reads=world.delivery.reads([firing]))
    # THEN both ran, and only then is the timer completed (or gone)
    assert world.runs == {(timer_id, first_s): 1, (timer_id, last_s): 1}
    if on_complete == "delete":
        with pytest.raises(TimerNotFoundError):
            world.service.get("alice", timer_id)
    else:
        assert world.service.get("alice", timer_id).completed_at is not None


def test_a_timer_paused_past_its_last_firing_and_resumed_no_longer_counts() -> None:
    """Found by a review: resumed after its last firing passed, it read completed but still
    counted against the firing limit and the quota."""
    world = World()
    world.put("p", schedule="rate(1 minute)", jobType="counted", maxFirings=2)
    world.service.set_enabled("alice", "p", enabled=False)
    world.run_minutes(5)
    world.deliver_sent()
    world.service.set_enabled("alice", "p", enabled=True)
    world.run_minutes(3)
    world.deliver_sent()
    view = world.service.get("alice", "p")
    assert world.runs == {} and (view.state, view.firings_left) == ("completed", 0)
    stored = world.store.get_timer("alice", "p")
    assert stored is not None and stored.firing_weight == 0
    assert view.completed_at is not None


def test_a_timer_deleted_after_being_created_again_does_not_list_its_predecessors_runs() -> None:
    """Found by the review (its test): the self-deleted predecessor's runs came back."""
    world = World()
    world.put(
        "temp",
        schedule="rate(1 minute)",
        maxFirings=2,
        onComplete="delete",
        history="all",
        jobType="counted",
    )
    deliver_minutes(world, 5)
    assert [r.outcome for r in world.service.runs("alice", "temp").items] == ["ok", "ok"]
    world.put("temp", schedule="rate(1 hour)", jobType="counted")
    assert world.service.runs("alice", "temp").items == []
    world.service.delete("alice", "temp")
    with pytest.raises(TimerNotFoundError):
        world.service.runs("alice", "temp")
