"""A ticker that dies before recording its minutes done sends them again; with packs paid per
pack (timer_service.pack_ledger) the copies it sends again carry no pack of their own, and each
deduplicated firing still completes its job once, whichever copy comes first, at every point
of the first copy's delivery."""

from __future__ import annotations

import threading

from tests.unit.pack_box import Crash, PackBox
from tests.unit.test_pack_ledger import ran, wait_until
from tests.unit.world import T0
from timer_service.messages import Message

DUE_S = T0 + 60
COUNT = 5


def sent_twice() -> tuple[PackBox, Message, Message]:
    """The first tick dies after sending; the next sends its minutes again. The pack of
    12:01:00 as first sent (with a ledger item) and as sent again (without)."""
    box = PackBox()
    for n in range(COUNT):
        box.put(f"t{n:02d}")
    box.store.end_ticks_failing = 1
    box.tick()
    first = [m for m in box.new_messages() if m.scheduled_s == DUE_S]
    box.clock.set(T0 + 61)
    box.tick()
    again = [m for m in box.new_messages() if m.scheduled_s == DUE_S]
    assert len(first) == 1 and len(again) == 1, (first, again)
    assert first[0].pack is not None and again[0].pack is None
    assert all(f.resent_shard == 0 for f in again[0].firings)
    return box, first[0], again[0]


def test_the_first_copy_then_the_second() -> None:
    box, first, again = sent_twice()
    assert box.deliver(first)
    assert box.deliver(again)
    box.deliver_all()
    assert box.once_each() and len(box.completed) == COUNT


def test_the_second_copy_then_the_first() -> None:
    box, first, again = sent_twice()
    assert box.deliver(again)
    assert box.deliver(first)  # its claim reads the marks: its firings go through records
    box.deliver_all()
    assert box.once_each() and len(box.completed) == COUNT


def test_the_second_copy_while_the_first_runs() -> None:
    box, first, again = sent_twice()
    release = threading.Event()
    box.hooks["t02"] = lambda: release.wait(10)
    thread = threading.Thread(target=box.deliver, args=(first,))
    thread.start()
    wait_until(lambda: len(ran(box, first.pack)) == COUNT - 1)
    assert box.deliver(again)  # t02: its pack's holder runs it, asked again later
    release.set()
    thread.join()
    box.deliver_all()
    assert box.once_each() and len(box.completed) == COUNT
    assert box.started[("t02", DUE_S)] == 1


def test_the_second_copy_between_the_first_ones_claim_and_its_read_of_the_marks() -> None:
    box, first, again = sent_twice()
    # each side writes, then reads the other's: here both see each other
    box.store.after_claim = lambda: box.deliver(again)
    assert box.deliver(first)
    box.deliver_all()
    assert box.once_each() and len(box.completed) == COUNT


def test_the_second_copy_after_the_first_ones_callback_died() -> None:
    box, first, again = sent_twice()

    def die() -> None:
        wait_until(lambda: len(ran(box, first.pack)) == COUNT - 1)
        box.store.dead = True
        raise Crash

    box.hooks["t02"] = die
    box.deliver_dying(first)
    del box.hooks["t02"]
    assert box.deliver(again)  # t02 waits for the dead callback's lease
    box.clock.advance(1000)
    assert box.deliver(first, receive_count=2)  # the first copy back after its timeout
    box.deliver_all()
    assert box.once_each() and len(box.completed) == COUNT
