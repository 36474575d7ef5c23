"""Packs paid per pack (timer_service.pack_ledger), as a review broke their first version: a
member sent on alone before or while its pack is claimed, a duplicate next to a holder's marks,
a group write or a claim whose answer was lost. Each job still completes once, on time."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.unit.pack_box import Crash, PackBox
from tests.unit.test_pack_ledger import DUE_S, ran, wait_until
from timer_service.errors import StoreError
from timer_service.messages import Message


def pack_of(box: PackBox) -> Message:
    box.tick()
    (pack,) = [m for m in box.new_messages() if m.scheduled_s == DUE_S]
    assert pack.pack is not None
    return pack


def flow_box() -> tuple[PackBox, Message]:
    """A deduplicated timer whose concurrencyKey's one slot another run holds, in a pack."""
    box = PackBox()
    box.put("k1", concurrencyKey="k", maxConcurrency=1)
    box.put("a0", delivery="atLeastOnce")
    box.put("a1", delivery="atLeastOnce")
    pack = pack_of(box)
    box.store.acquire_slot("alice", "k", "elsewhere", limit=1, now_s=DUE_S, until_s=DUE_S + 30)
    return box, pack


def test_a_member_sent_on_alone_by_flow_control_runs_once_whatever_copy_of_its_pack_follows() -> (
    None
):
    box, pack = flow_box()
    assert box.deliver(pack)  # k1 waits for its key: sent back alone
    ((copy, visible_s),) = box.new_visible()
    assert copy.firings[0].timer_id == "k1" and copy.firings[0].origin is not None
    box.store.release_slot("alice", "k", "elsewhere")
    box.clock.set(visible_s)
    assert box.deliver(copy)
    assert box.deliver(pack)  # an SQS duplicate of the pack, later
    box.clock.advance(1000)
    assert box.deliver(pack, receive_count=2)  # and one after a timeout
    box.deliver_all()
    assert box.completed[("k1", DUE_S)] == 1


# The function's death is a store that raises Crash: the pack's writer thread may meet it too
# (in Lambda it dies with the process), which pytest reports as an unhandled thread exception.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_member_sent_on_alone_then_its_packs_callback_dies_runs_once() -> None:
    box, pack = flow_box()

    def die() -> None:  # an atLeastOnce member meets the function's timeout
        wait_until(lambda: len(box.queue.messages) > box.taken)  # k1 has been sent back
        box.store.dead = True
        raise Crash

    box.hooks["a0"] = die
    box.deliver_dying(pack)
    del box.hooks["a0"]
    ((copy, visible_s),) = box.new_visible()
    box.store.release_slot("alice", "k", "elsewhere")
    box.clock.set(visible_s)
    assert box.deliver(copy)
    box.clock.advance(1000)
    assert box.deliver(pack, receive_count=2)
    box.deliver_all()
    assert box.completed[("k1", DUE_S)] == 1


def test_a_duplicate_leaves_the_holders_overlap_mark_and_flow_slot_alone() -> None:
    box = PackBox()
    box.put("o1", overlap="skip", concurrencyKey="c", maxConcurrency=1)
    box.put("o2")
    pack = pack_of(box)
    release = threading.Event()
    box.hooks["o1"] = lambda: release.wait(10)
    holder = threading.Thread(target=box.deliver, args=(pack,))
    holder.start()
    wait_until(lambda: box.started[("o1", DUE_S)] == 1)
    assert box.deliver(pack)  # a duplicate while o1 runs: it asks again later
    # o1 still holds its run's mark and its key's slot: nothing else of them starts
    assert not box.store.claim_run(
        box.store.get_timer("alice", "o1"),  # type: ignore[arg-type]
        "another-firing",
        now_s=DUE_S,
        until_s=DUE_S + 60,
    )
    assert not box.store.acquire_slot("alice", "c", "x", limit=1, now_s=DUE_S, until_s=DUE_S + 9)
    release.set()
    holder.join()
    box.deliver_all()
    assert box.once_each()


def test_a_group_write_that_fails_once_is_written_and_a_duplicate_runs_nothing() -> None:
    box = PackBox()
    for n in range(3):
        box.put(f"t{n}")
    pack = pack_of(box)
    failing = [StoreError("DynamoDB: ProvisionedThroughputExceededException")]
    record = box.store.record_pack

    def flaky(*args: Any, **kwargs: Any) -> None:
        if failing:
            raise failing.pop()
        record(*args, **kwargs)

    box.store.record_pack = flaky  # type: ignore[method-assign]
    assert box.deliver(pack)
    assert ran(box, pack.pack) == {0, 1, 2}
    assert box.deliver(pack)
    assert box.once_each() and len(box.completed) == 3


def test_a_claim_that_landed_but_whose_answer_was_lost_runs_the_pack_on_time() -> None:
    box = PackBox()
    for n in range(4):
        box.put(f"t{n}")
    pack = pack_of(box)
    claim = box.store.claim_pack
    lost = [True]

    def answer_lost(*args: Any, **kwargs: Any) -> Any:
        result = claim(*args, **kwargs)
        if lost:
            lost.pop()
            raise StoreError("DynamoDB: the connection was reset")
        return result

    box.store.claim_pack = answer_lost  # type: ignore[method-assign]
    assert box.deliver(pack)
    # the member whose claim failed is retried alone after its backoff; none waits for a lease
    assert all(visible_s <= DUE_S + 15 for _, visible_s in box.queue.messages[box.taken :])
    box.deliver_all()
    assert box.once_each() and len(box.completed) == 4
