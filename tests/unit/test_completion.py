"""maxFirings and onComplete through the ticker and delivery: every firing runs, then the timer
completes (or is deleted) once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.world import T0, World
from timer_service.clock import format_utc
from timer_service.jitter import jitter_offset

START_S = T0 + 180  # minute 3: the tick at T0 + 121 sends it (a minute ahead)
# With 60 s of jitter, the five firings from START_S are due at +37, +47, +5, +17, +7: the
# last scheduled one is due second, before three earlier ones.
OFFSETS = [37, 46, 3, 14, 3]


@pytest.fixture
def world() -> World:
    return World()


def put_five(world: World, **fields: Any) -> None:
    world.put(
        "j",
        schedule="rate(1 second)",
        startAt=format_utc(START_S),
        maxFirings=5,
        jobType="counted",
        job={},
        **fields,
    )
    world.clock.set(T0 + 121)
    world.engine.tick(0)
    assert len(world.queue.sent) == 5


def deliver_as_visible(world: World, count: int | None = None) -> None:
    """Deliver the next ``count`` sent firings in the order SQS makes them visible (their due
    times), each at that time."""
    pending = sorted(world.queue.sent, key=lambda pair: pair[1])[world.delivered :]
    for firing, visible_s in pending[:count]:
        world.clock.set(max(world.clock.now(), visible_s))
        world.delivery.deliver(firing, attempt=1, reads=world.delivery.reads([firing]))
        world.delivered += 1


def five_runs() -> list[tuple[str, int]]:
    return [("j", s) for s in range(START_S, START_S + 5)]


def test_the_case_at_hand_has_its_last_firing_due_before_earlier_ones() -> None:
    assert [jitter_offset("alice", "j", s, 60) for s in range(START_S, START_S + 5)] == OFFSETS


def test_max_firings_timer_deleted_on_complete_runs_every_firing_then_is_gone(
    world: World,
) -> None:
    # GIVEN five firings without jitter
    put_five(world, onComplete="delete")
    # WHEN each is delivered when due
    deliver_as_visible(world)
    # THEN all ran once, and the timer is gone
    assert sorted(world.runs.elements()) == five_runs()
    assert world.store.get_timer("alice", "j") is None


def test_jittered_max_firings_timer_deleted_on_complete_runs_every_firing_due_after_its_last(
    world: World,
) -> None:
    # GIVEN five jittered firings, the last scheduled due second
    put_five(world, onComplete="delete", jitterSeconds=60)
    # WHEN each is delivered when due
    deliver_as_visible(world, 2)
    # THEN the timer is still there after its last scheduled firing ran (two are still due) ...
    assert world.store.get_timer("alice", "j") is not None
    deliver_as_visible(world)
    # ... all five ran once, and the timer is gone after the one due last
    assert sorted(world.runs.elements()) == five_runs()
    assert world.store.get_timer("alice", "j") is None


def test_jittered_max_firings_timer_completes_after_the_firing_due_last(world: World) -> None:
    # GIVEN five jittered firings of a timer that stays when complete
    put_five(world, jitterSeconds=60)
    # WHEN all but the one due last ran
    deliver_as_visible(world, 4)
    timer = world.store.get_timer("alice", "j")
    # THEN it is not completed yet; it is once that one ran
    assert timer is not None and timer.completed_s is None
    deliver_as_visible(world)
    timer = world.store.get_timer("alice", "j")
    assert timer is not None and timer.completed_s == START_S + 1 + OFFSETS[1]
    assert sorted(world.runs.elements()) == five_runs()


def test_jittered_last_firing_delivered_after_every_due_time_completes_the_timer(
    world: World,
) -> None:
    # GIVEN five jittered firings, of which only the last scheduled one is delivered, late (as
    # fireOnce sends after an outage)
    put_five(world, jitterSeconds=60)
    last = next(f for f, _ in world.queue.sent if f.last)
    world.clock.set(START_S + 120)
    # WHEN it runs
    world.delivery.deliver(last, attempt=1, reads=world.delivery.reads([last]))
    # THEN the timer is completed: no firing of it is due any more
    timer = world.store.get_timer("alice", "j")
    assert timer is not None and timer.completed_s == START_S + 120
