"""``delivery: deduplicated`` paid per pack (timer_service.pack_ledger): each firing of a pack
still completes its job once through duplicates, crashes, failures and re-sent minutes, and a
pack whose firings all succeed writes one item a few times instead of two records a firing.

The promise tried is docs/reliability.md's: "a duplicate message, a retry after the job
completed, or a redelivery after the function died once the job had run, finds the firing
done. A job that failed or was killed mid-way runs again, as a retry must."
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from tests.unit.pack_box import Crash, PackBox
from tests.unit.world import T0
from timer_service.messages import Message
from timer_service.pack_ledger import PackRef

DUE_S = T0 + 60  # the timers (every minute, written at 11:00) fire at 12:01:00


def box_with(count: int, **fields: Any) -> tuple[PackBox, Message]:
    """``count`` deduplicated timers due at one second, ticked: their one pack."""
    box = PackBox()
    for n in range(count):
        box.put(f"t{n:02d}", **fields)
    box.tick()
    packs = [m for m in box.new_messages() if m.scheduled_s == DUE_S]
    assert len(packs) == 1, packs
    return box, packs[0]


def ran(box: PackBox, ref: PackRef | None) -> frozenset[int]:
    assert ref is not None
    record = box.store.get_pack(ref)
    return frozenset() if record is None else record.ran


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


def test_a_pack_whose_firings_succeed_writes_one_item_not_two_records_a_firing() -> None:
    box, pack = box_with(30)
    assert pack.pack is not None and len(pack.firings) == 30
    box.store.pack_write_s = 0.02  # while one write is in flight, the others' ends wait
    gate = threading.Barrier(30)
    for n in range(30):
        box.hooks[f"t{n:02d}"] = gate.wait  # the jobs end together
    assert box.deliver(pack)
    assert box.completed == {(f"t{n:02d}", DUE_S): 1 for n in range(30)}
    assert box.run_once.records == 0  # no firing paid its own two writes
    assert box.store.pack_writes <= 3, box.store.pack_writes  # a claim, then two group writes
    assert ran(box, pack.pack) == frozenset(range(30))
    assert box.new_messages() == []  # nothing retried


def test_a_duplicate_of_a_delivered_pack_runs_nothing() -> None:
    box, pack = box_with(5)
    assert box.deliver(pack)
    assert box.deliver(pack)  # SQS delivered it twice
    assert box.once_each() and len(box.completed) == 5
    assert box.new_messages() == []


def test_a_duplicate_while_the_pack_runs_leaves_each_firing_to_its_holder() -> None:
    box, pack = box_with(10)
    release = threading.Event()
    box.hooks["t05"] = lambda: release.wait(10)
    first = threading.Thread(target=box.deliver, args=(pack,))
    first.start()
    wait_until(lambda: len(ran(box, pack.pack)) == 9)
    assert box.deliver(pack)  # the same message, to another callback, while t05 runs
    release.set()
    first.join()
    retries = box.new_messages()
    assert [m.firings[0].timer_id for m in retries] == ["t05"]  # asked again, alone, later
    box.queue.messages.extend((m, box.clock.now() + 900) for m in retries)
    box.deliver_all()
    assert box.once_each() and len(box.completed) == 10
    assert box.started[("t05", DUE_S)] == 1


def test_after_a_crash_mid_pack_only_the_firing_that_was_killed_runs_again() -> None:
    box, pack = box_with(10)

    def die() -> None:  # t05's job: the others end and are recorded, then the process dies
        wait_until(lambda: len(ran(box, pack.pack)) == 9)
        box.store.dead = True
        raise Crash

    box.hooks["t05"] = die
    box.deliver_dying(pack)
    assert box.completed[("t05", DUE_S)] == 0
    del box.hooks["t05"]
    box.clock.advance(901 + 10)  # its lease (the function's 900 s) has run out
    assert box.deliver(pack, receive_count=2)  # the message comes back after its timeout
    assert box.once_each() and len(box.completed) == 10
    assert box.started[("t05", DUE_S)] == 2  # killed mid-way, run again: as a retry must
    assert box.run_once.records == 2  # only t05 went through a record of its own


def test_a_redelivery_before_the_dead_callbacks_lease_ends_waits_for_it() -> None:
    box, pack = box_with(4)

    def die() -> None:
        wait_until(lambda: len(ran(box, pack.pack)) == 3)
        box.store.dead = True
        raise Crash

    box.hooks["t02"] = die
    box.deliver_dying(pack)
    del box.hooks["t02"]
    box.clock.advance(60)
    assert box.deliver(pack, receive_count=2)  # too early: t02 is asked again, a minute on
    (retry,) = box.new_visible()
    assert retry[0].firings[0].timer_id == "t02" and retry[1] == box.clock.now() + 60
    box.queue.messages.append(retry)
    box.deliver_all(rounds=30)  # until the dead callback's lease (900 s) has ended
    assert box.once_each() and len(box.completed) == 4


def test_a_crash_after_every_job_ran_runs_none_again() -> None:
    box, pack = box_with(6)
    assert box.deliver(pack)  # every end recorded, then the delete never happened
    box.clock.advance(1000)
    assert box.deliver(pack, receive_count=2)
    assert box.once_each() and len(box.completed) == 6


def test_a_failed_firing_is_retried_alone_once_and_not_by_a_duplicate_of_its_pack() -> None:
    box, pack = box_with(6)
    failures = [ConnectionError("target unreachable")]

    def fail_once() -> None:
        if failures:
            raise failures.pop()

    box.hooks["t03"] = fail_once
    assert box.deliver(pack)
    (retry,) = box.new_messages()
    assert retry.firings[0].timer_id == "t03" and retry.attempts_before == 1
    assert box.deliver(pack)  # a duplicate of the pack: t03 is its retry's now
    assert box.new_messages() == []
    box.queue.messages.append((retry, box.clock.now() + 10))
    box.deliver_all()
    assert box.once_each() and len(box.completed) == 6
    assert box.started[("t03", DUE_S)] == 2


def test_a_pack_of_at_least_once_timers_writes_nothing() -> None:
    box, pack = box_with(8, delivery="atLeastOnce")
    assert box.deliver(pack)
    assert len(box.completed) == 8
    assert box.store.pack_writes == 0 and box.run_once.records == 0


def test_a_mixed_pack_records_only_its_deduplicated_firings() -> None:
    box = PackBox()
    for n in range(6):
        box.put(f"t{n:02d}", delivery="deduplicated" if n % 2 else "atLeastOnce")
    box.tick()
    (pack,) = [m for m in box.new_messages() if m.scheduled_s == DUE_S]
    assert box.deliver(pack)
    positions = {f.timer_id: n for n, f in enumerate(pack.firings)}
    assert ran(box, pack.pack) == {positions[t] for t in ("t01", "t03", "t05")}
    assert box.deliver(pack)  # a duplicate: at-least-once ones run again, the others not
    assert {k[0]: v for k, v in box.completed.items()} == {
        "t00": 2, "t01": 1, "t02": 2, "t03": 1, "t04": 2, "t05": 1
    }  # fmt: skip


def test_a_forged_or_foreign_pack_reference_is_refused_unrun() -> None:
    box, pack = box_with(3)
    forged = Message(pack.body.replace(str(pack.pack), "0:1:zz"), pack.scheduled_s, ())
    assert box.deliver(forged)  # signed anew by the test: a body the service never writes
    assert not box.completed
