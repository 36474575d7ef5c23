"""Firings due in the same second share a queue message (a pack); the rest travel alone."""

from __future__ import annotations

import json

import pytest

from timer_service.clock import FixedClock
from timer_service.dispatch import (
    PACK_MAX_FIRINGS,
    Firing,
    InMemoryDispatchQueue,
    firings_in,
    messages_of,
)


def firing(n: int, second: int, **flags: bool) -> Firing:
    return Firing("owner", f"timer-{n}", 1, second, **flags)


def test_firings_of_one_second_share_a_message_and_come_back_whole() -> None:
    firings = [firing(n, 1000 + n % 2) for n in range(6)]
    messages = messages_of(firings)
    assert [m.scheduled_s for m in messages] == [1000, 1001]
    for message in messages:
        assert firings_in(message.body) == list(message.firings)
        assert all(f.scheduled_s == message.scheduled_s for f in message.firings)
    assert {f for m in messages for f in m.firings} == set(firings)


def test_a_lone_firing_keeps_the_single_message_format() -> None:
    (message,) = messages_of([firing(1, 1000)])
    assert "p" not in json.loads(message.body)
    assert Firing.from_message(message.body) == firing(1, 1000)


def test_raced_and_manual_firings_travel_alone() -> None:
    raced, manual = firing(1, 1000, raced=True), firing(2, 1000, manual=True)
    messages = messages_of([raced, manual, firing(3, 1000), firing(4, 1000)])
    alone = [m.firings for m in messages if len(m.firings) == 1]
    assert (raced,) in alone and (manual,) in alone
    assert max(len(m.firings) for m in messages) == 2


def test_packs_are_capped_by_count_and_by_size() -> None:
    many = [firing(n, 1000) for n in range(PACK_MAX_FIRINGS * 2 + 5)]
    assert [len(m.firings) for m in messages_of(many)] == [PACK_MAX_FIRINGS] * 2 + [5]
    wide = [Firing("o" * 500, f"t{n}-" + "x" * 120, 1, 1000) for n in range(100)]
    assert all(len(m.body) <= 60_000 for m in messages_of(wide))


def test_a_minute_of_firings_costs_a_few_sends() -> None:
    clock = FixedClock(1000.0)
    queue = InMemoryDispatchQueue(clock)
    queue.send([firing(n, 1060 + n % 60) for n in range(60_000)])  # 1,000 a second
    assert len(queue.sent) == 60_000
    assert queue.calls == 60  # 10 packs of 100 per SendMessageBatch, one per second


def test_paced_firings_are_sent_for_their_delivery_second_and_read_back_whole() -> None:
    paced = [Firing("owner", "t", 1, 900 + n, deliver_at_s=1000 + n) for n in range(3)]
    messages = messages_of(paced)
    assert sorted(m.scheduled_s for m in messages) == [1000, 1001, 1002]  # the delay's basis
    assert [f for m in messages for f in firings_in(m.body)] == paced


def test_backfilled_firings_of_many_seconds_share_messages() -> None:
    backfilled = [firing(1, 1000 + 60 * n, backfill=True) for n in range(250)]
    messages = messages_of(backfilled)
    assert [len(m.firings) for m in messages] == [100, 100, 50]
    assert [firings_in(m.body) for m in messages] == [list(m.firings) for m in messages]
    assert all(f.backfill for m in messages for f in m.firings)


def _as_read(firing: Firing) -> tuple[object, ...]:
    """What a firing is with the fields equality leaves out (a copy, its pack)."""
    return (firing, firing.snapshot, firing.snap_s, firing.shard, firing.origin, firing.trace_id)


def test_a_ticks_pack_carries_its_copies_stamp_and_its_ledger_item_once() -> None:
    from dataclasses import replace

    from timer_service.messages import pack_members

    ticked = [
        replace(firing(n, 1000), snapshot="1I1phcj4wOyvVAgA=", snap_s=940, shard=3, ledger=3)
        for n in range(4)
    ] + [replace(firing(9, 1000), ledger=3)]  # one without a copy (it reads its timer)
    other = replace(firing(5, 1000), snapshot="{}", snap_s=941, shard=3, ledger=3)
    (message,) = messages_of([*ticked, other])
    body = json.loads(message.body)
    assert body["K"] == 940 and body["Z"] == 3 and body["P"] == str(message.pack)
    assert sum("k" in member for member in pack_members(message.body)) == 1  # another second's
    assert [_as_read(f) for f in firings_in(message.body)] == [_as_read(f) for f in message.firings]
    read = firings_in(message.body)
    assert [f.origin for f in read] == [message.pack.member(n) for n in range(6)]  # type: ignore[union-attr]
    assert (read[0].snap_s, read[0].shard, read[4].snapshot) == (940, 3, None)
    assert (read[5].snap_s, read[5].snapshot) == (941, "{}")


def test_a_packs_members_travel_deflated_and_a_bad_deflate_is_no_message() -> None:
    import base64

    from timer_service.messages import pack_members, read

    firings = [firing(n, 1000) for n in range(100)]
    (plain_message,) = messages_of(firings)  # not asked: a release before reads it
    assert "p" in json.loads(plain_message.body)
    (message,) = messages_of(firings, deflate=True)
    plain = len(",".join(f.to_message() for f in firings))
    assert "q" in json.loads(message.body) and len(message.body) < plain / 4
    assert [m["i"] for m in pack_members(message.body)] == [f"timer-{n}" for n in range(100)]
    assert firings_in(message.body) == firings
    bomb = base64.b64encode(b"\x00" * 64).decode()  # not deflate
    from timer_service.messages import _deflated

    huge = _deflated("[" + " " * 300_000 + "]")  # a small body that inflates past any pack
    for bad in (
        f'{{"q":"{huge}"}}',
        f'{{"q":"{bomb}"}}',
        '{"q":"%%%"}',
        '{"q":1}',
        '{"q":"' + "A" * 8 + '"}',
    ):
        with pytest.raises(ValueError):
            read(bad)
