"""The local stack's held queue: due firings go through, later ones wait and are kept on stop."""

from __future__ import annotations

import time

from timer_service.clock import FixedClock, SystemClock
from timer_service.dispatch import Firing, InMemoryDispatchQueue
from timer_service.local.held_queue import HeldDispatchQueue


def test_due_firings_pass_and_later_ones_are_held_then_returned_on_stop() -> None:
    clock = FixedClock(1000.0)
    inner = InMemoryDispatchQueue(clock)
    held = HeldDispatchQueue(inner, clock=clock, release_ahead_s=0.9).start()
    soon, later = Firing("o", "soon", 1, 1000), Firing("o", "later", 1, 1100)
    held.send([soon, later])
    assert [f for f, _ in inner.sent] == [soon]
    assert held.held == 1
    assert held.stop() == [later]


def test_held_firing_is_released_just_before_it_is_due() -> None:
    clock = SystemClock()
    inner = InMemoryDispatchQueue(clock)
    held = HeldDispatchQueue(inner, clock=clock, release_ahead_s=0.9).start()
    due_s = int(time.time()) + 2
    held.send([Firing("o", "t", 1, due_s)])
    deadline = time.time() + 5
    while not inner.sent and time.time() < deadline:
        time.sleep(0.05)
    held.stop()
    ((firing, visible_at),) = inner.sent
    assert firing.scheduled_s == due_s
    assert due_s - 1 < visible_at <= due_s  # handed over at most a second early, never late
