"""The TimerStore contract for packs' ledger items (timer_service.pack_ledger), on memory and on
DynamoDB (moto): a claim wins on a new item or an expired lease and loses to a held one, each
time showing the item as it was; ran and handed positions add up; marks and packs are found
by their shard and minute only."""

from __future__ import annotations

from tests.contract.conftest import T0
from timer_service.pack_ledger import PackRef
from timer_service.store.base import TimerStore

MINUTE = T0 // 60
REF = PackRef(3, MINUTE, "00112233445566ff")
MEMBERS = bytes(range(18))  # three members of six bytes


def test_a_claim_wins_a_new_item_loses_to_a_held_lease_and_takes_an_expired_one(
    store: TimerStore,
) -> None:
    first = store.claim_pack(REF, MEMBERS, token="a", now_s=T0, until_s=T0 + 900)
    assert first.won and first.before is None
    busy = store.claim_pack(REF, b"other", token="b", now_s=T0 + 899, until_s=T0 + 1800)
    assert not busy.won and busy.before is not None
    assert busy.before.token == "a" and busy.before.members == MEMBERS
    store.record_pack(REF, ran={0}, handed=set())
    store.record_pack(REF, ran={2}, handed={1})
    taken = store.claim_pack(REF, b"other", token="c", now_s=T0 + 901, until_s=T0 + 1800)
    assert taken.won and taken.before is not None
    assert taken.before.ran == {0, 2} and taken.before.handed == {1}
    record = store.get_pack(REF)
    assert record is not None
    assert record.members == MEMBERS  # a claim never changes the members
    assert record.token == "c" and record.lease_until_s == T0 + 1800
    assert record.held(T0 + 1800) and not record.held(T0 + 1801)
    assert record.position(MEMBERS[6:12]) == 1 and record.position(b"\0" * 6) is None


def test_marks_and_packs_are_found_by_shard_and_minute(store: TimerStore) -> None:
    other = PackRef(3, MINUTE + 1, "aaaaaaaaaaaaaaaa")
    store.claim_pack(REF, MEMBERS, token="a", now_s=T0, until_s=T0 + 900)
    store.claim_pack(other, MEMBERS, token="a", now_s=T0, until_s=T0 + 900)
    store.mark_resent(3, MINUTE, b"\x01" * 6, now_s=T0)
    store.mark_resent(3, MINUTE, b"\x02" * 6, now_s=T0)
    store.mark_resent(4, MINUTE, b"\x03" * 6, now_s=T0)
    assert store.resent_marks(3, MINUTE) == {b"\x01" * 6, b"\x02" * 6}
    assert store.resent_marks(3, MINUTE + 1) == set()
    assert [p.ref for p in store.packs_of(3, MINUTE)] == [REF]
    assert [p.ref for p in store.packs_of(3, MINUTE + 1)] == [other]
    assert store.packs_of(4, MINUTE) == [] and store.get_pack(PackRef(4, 1, "0" * 16)) is None


def test_a_tick_learns_what_the_tick_before_it_claimed(store: TimerStore) -> None:
    begun = store.begin_tick(7, token="a", now_s=T0, lease_s=90, claim=MINUTE + 1, first=MINUTE)
    assert begun is not None and begun.claimed_before is None and begun.done == MINUTE - 1
    # it died before recording its minutes done; the next finds what it claimed
    again = store.begin_tick(7, token="b", now_s=T0 + 91, lease_s=90, claim=MINUTE + 2, first=0)
    assert again is not None and again.claimed_before == MINUTE + 1
    assert again.done == MINUTE - 1 and again.claimed == MINUTE + 2 and again.lease_owner == "b"
    store.end_tick(7, token="b", done=MINUTE + 2)
    steady = store.begin_tick(7, token="c", now_s=T0 + 120, lease_s=90, claim=MINUTE + 3, first=0)
    assert steady is not None and steady.claimed_before == steady.done == MINUTE + 2


def test_a_member_is_taken_unless_a_holder_keeps_it_and_a_claim_then_sees_it(
    store: TimerStore,
) -> None:
    assert store.take_pack_member(REF, 1, now_s=T0)  # no item yet: a copy alone takes it
    claim = store.claim_pack(REF, MEMBERS, token="a", now_s=T0, until_s=T0 + 900)
    assert claim.won and claim.before is not None and claim.before.handed == {1}
    record = store.get_pack(REF)
    assert record is not None and record.members == MEMBERS  # written by the claim
    assert not store.take_pack_member(REF, 2, now_s=T0 + 10)  # held: the holder keeps it
    assert store.take_pack_member(REF, 1, now_s=T0 + 10)  # handed on already: taken
    assert store.take_pack_member(REF, 2, now_s=T0 + 901)  # the holder's lease ended
