"""A timer deleted and created again under its id does not run the deleted one's firings.

Delivery tells stale firings by version, and a timer created again starts at version 1 as the
deleted one did: the deleted timer's firings already queued found a timer at their version
and ran, with the new timer's job (found by the review of 2026-12-03). Firings carry the
timer's incarnation (its creation second) now. Fixed clock, the unit tests' world.
"""

from __future__ import annotations

from tests.unit.test_replace_handover import MINUTE_S, deliver_due, runs_of, start
from tests.unit.world import T0, World

DELETE_S = MINUTE_S + 30  # 12:11:30
CREATE_S = MINUTE_S + 40


def test_the_deleted_timers_queued_firings_do_not_run_on_the_new_one() -> None:
    # GIVEN rate(1 second), its 12:11 firings queued, run up to 12:11:30 and deleted then
    world = World(start_s=T0)
    start(world, "rate(1 second)")
    world.clock.set(DELETE_S)
    deliver_due(world, until_s=DELETE_S)
    world.service.delete("alice", "t")
    # WHEN a timer of the same id is created at 12:11:40, every 10 seconds from then
    world.clock.set(CREATE_S)
    world.put("t", schedule="rate(10 seconds)", jobType="counted")
    world.deliver_sent()
    # THEN only its own seconds ran after the delete: 12:11:50, none of the old 31-59
    assert sorted(s - MINUTE_S for s in runs_of(world) if s > DELETE_S) == [50]


def test_a_firing_of_the_timer_made_before_incarnations_still_runs() -> None:
    # A message queued by the release before carries no incarnation: its version decides
    world = World(start_s=T0)
    world.put("t", schedule="rate(1 hour)", jobType="counted")
    from timer_service.dispatch import Firing

    firing = Firing("alice", "t", 1, T0 + 30)
    world.clock.set(T0 + 30)
    outcome = world.delivery.deliver(
        firing, attempt=1, reads=world.delivery.reads([firing]), delivery_id="m"
    )
    assert outcome.outcome == "delivered"
