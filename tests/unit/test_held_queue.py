"""The local stack's held queue: due firings go through, later ones wait and are kept on stop."""

from __future__ import annotations

from pathlib import Path

from timer_service.clock import FixedClock
from timer_service.dispatch import Firing, InMemoryDispatchQueue
from timer_service_local.held_queue import HeldDispatchQueue, held_firings


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
    clock = FixedClock(1000.0)
    inner = InMemoryDispatchQueue(clock)
    held = HeldDispatchQueue(inner, clock=clock, release_ahead_s=0.9).start()
    due_s = 1002
    held.send([Firing("o", "t", 1, due_s)])
    clock.set(due_s - 1.0)  # over a second early: still held
    assert held.release_due() == 0
    clock.set(due_s - 0.9)
    assert held.release_due() == 1
    held.stop()
    ((firing, visible_at),) = inner.sent
    assert firing.scheduled_s == due_s
    assert due_s - 1 < visible_at <= due_s  # handed over at most a second early, never late


def test_held_paced_catch_up_firing_is_released_at_its_delivery_second() -> None:
    # GIVEN a firing missed at 900 and paced (tick.apply_misfire_policy) to reach its job at 1005
    clock = FixedClock(1000.0)
    inner = InMemoryDispatchQueue(clock)
    held = HeldDispatchQueue(inner, clock=clock, release_ahead_s=0.9).start()
    held.send([Firing("o", "t", 1, 900, deliver_at_s=1005)])
    # THEN it is held, late as it is, until just before 1005
    assert held.release_due() == 0
    clock.set(1004.1)
    assert held.release_due() == 1
    held.stop()
    ((firing, _),) = inner.sent
    assert (firing.scheduled_s, firing.due_s) == (900, 1005)


def test_held_firings_are_on_disk_before_send_returns(tmp_path: Path) -> None:
    clock = FixedClock(1000.0)
    journal = tmp_path / "firings.journal"
    held = HeldDispatchQueue(InMemoryDispatchQueue(clock), clock=clock, journal=journal).start()
    later = [Firing("o", f"t{n}", 1, 1060 + n) for n in range(3)]
    held.send(later)
    # a crash now (nothing stopped, nothing flushed by us): the journal has them
    assert held_firings(journal) == later


def test_a_restart_takes_back_what_was_held_and_not_released(tmp_path: Path) -> None:
    clock = FixedClock(1000.0)
    journal = tmp_path / "firings.journal"
    inner = InMemoryDispatchQueue(clock)
    first = HeldDispatchQueue(inner, clock=clock, journal=journal, release_ahead_s=0.3).start()
    soon, later = Firing("o", "soon", 1, 1001), Firing("o", "later", 1, 1100)
    first.send([soon, later])
    clock.advance(1.0)  # soon is due: released to the queue, and the release recorded
    first.release_due()
    assert [f for f, _ in inner.sent] == [soon]
    # the process dies here: no stop()

    seen: list[list[Firing]] = []

    def recover(firings: list[Firing]) -> list[Firing]:
        seen.append(firings)
        return firings

    second = HeldDispatchQueue(inner, clock=clock, journal=journal, recover=recover).start()
    assert seen == [[later]]
    assert (second.recovered, second.held) == (1, 1)
    assert second.stop() == [later]


def test_recover_decides_what_is_held_again(tmp_path: Path) -> None:
    clock = FixedClock(1000.0)
    journal = tmp_path / "firings.journal"
    first = HeldDispatchQueue(InMemoryDispatchQueue(clock), clock=clock, journal=journal).start()
    first.send([Firing("o", "keep", 1, 1100), Firing("o", "drop", 1, 1100)])
    first.stop()
    second = HeldDispatchQueue(
        InMemoryDispatchQueue(clock),
        clock=clock,
        journal=journal,
        recover=lambda firings: [f for f in firings if f.timer_id == "keep"],
    ).start()
    second.stop()
    assert [f.timer_id for f in held_firings(journal)] == ["keep"]  # the journal agrees


def test_a_torn_journal_keeps_every_whole_record(tmp_path: Path) -> None:
    clock = FixedClock(1000.0)
    journal = tmp_path / "firings.journal"
    first = HeldDispatchQueue(InMemoryDispatchQueue(clock), clock=clock, journal=journal).start()
    first.send([Firing("o", "whole", 1, 1100)])
    first.stop()
    with open(journal, "ab") as file:
        file.write(b'{"h": [[99, "half a rec')  # a crash in the middle of an append
    second = HeldDispatchQueue(InMemoryDispatchQueue(clock), clock=clock, journal=journal).start()
    assert [f.timer_id for f in second.stop()] == ["whole"]
