"""``delivery: deduplicated`` paid per pack: one ledger item for the firings of a ticker's pack.

A firing that must run once used to cost two idempotency writes of its own (powertools: in
progress, then completed). A pack the ticker sends for the first time carries a reference
(``P`` in its body: shard, minute, a random id), and its deduplicated members share one item,
``pk = dd#{shard}#{minute}``, ``sk = p#{id}``:

1. **claim** (one conditional update, the first time a deduplicated member is to run): it holds
   the members' keyed hashes in order and a lease until the callback's deadline; it wins when
   the item is new or its lease ran out (the callback that held it died);
2. **ran / handed** (number sets of member positions, added as jobs end, several at a time: one
   write carries every member that ended while the previous write was in flight): a member is
   *ran* once its job completed and *handed* once a copy of it was sent on alone (a retry, a
   flow-control wait, a hold-over past SQS's 15 minutes, a dead letter).

What a member does then (``PackSession``):

- the claim won, new item: it runs; one whose hash a *re-sent* copy marked (below) runs through
  its own idempotency record instead;
- the claim won over a dead callback's item: ran and handed members are not run again; the
  others (killed mid-way, or ended but not yet recorded) run through their own records;
- the claim lost (another callback holds the pack: a duplicate message): ran members are done;
  the others go back to the queue alone (``PackBusy``), carrying the pack's reference.

A firing alone that carries a reference (``origin``) runs through its own record and asks the
pack's item first: ran, done; held and not handed, later; else it runs. A copy of a minute a
ticker sends again (it died before recording the minute done: ``resent``) has no reference:
it marks its hash in the minute's partition (``r#{hash}``) and then reads the minute's packs;
a pack claims first and then reads the marks. Whichever write comes second, its read sees the
other, so a re-sent copy and its pack's copy never both run outside one idempotency record.
A pack's item costs about 1 KB: a claim and a few group writes for up to 100 firings, where
their own records would cost 200 writes. Tested in ``tests/unit/test_pack_ledger*.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "HASH_BYTES",
    "PACK_KEEP_S",
    "MemberHasher",
    "PackClaim",
    "PackRecord",
    "PackRef",
    "judge",
    "pack_partition",
]

HASH_BYTES = 6  # a member's keyed hash: 48 bits, so 100 members fit in one 1 KB write unit
PACK_KEEP_S = 7 * 86400  # as long as a firing's own idempotency record
BUSY_RETRY_S = 20  # a member of a pack another callback holds is asked again this much later
MAX_BUSY_WAIT_S = 60
LEASE_MARGIN_S = 10  # the holder's deadline, plus the clocks' disagreement

_REF = re.compile(r"^(\d{1,6}):(\d{1,10}):([0-9a-f]{16})$")


@dataclass(frozen=True)
class PackRef:
    """Where a pack's ledger item is: its shard, the minute its firings were read for, an id."""

    shard: int
    minute: int
    pack_id: str

    @classmethod
    def new(cls, shard: int, minute: int) -> PackRef:
        return cls(shard, minute, secrets.token_hex(8))

    @classmethod
    def parse(cls, text: str) -> PackRef:
        """ValueError unless ``text`` is a reference the ticker writes."""
        found = _REF.match(text) if isinstance(text, str) else None
        if found is None:
            raise ValueError(f"not a pack reference: {text!r}")
        return cls(int(found[1]), int(found[2]), found[3])

    def __str__(self) -> str:
        return f"{self.shard}:{self.minute}:{self.pack_id}"

    def member(self, position: int) -> str:
        """A member's origin, as a firing sent on alone carries it."""
        return f"{self}:{position}"


def parse_origin(text: str) -> tuple[PackRef, int]:
    """A firing's ``origin`` (``shard:minute:id:position``); ValueError otherwise."""
    ref, sep, position = text.rpartition(":") if isinstance(text, str) else ("", "", "")
    if not sep or not position.isdigit() or len(position) > 3:
        raise ValueError(f"not a pack member: {text!r}")
    return PackRef.parse(ref), int(position)


def pack_partition(shard: int, minute: int) -> str:
    return f"dd#{shard}#{minute}"


@dataclass(frozen=True)
class PackRecord:
    """A pack's ledger item as read."""

    ref: PackRef
    members: bytes  # HASH_BYTES per member, in the pack's order
    ran: frozenset[int] = frozenset()
    handed: frozenset[int] = frozenset()
    token: str = ""
    lease_until_s: float = 0.0

    def position(self, member_hash: bytes) -> int | None:
        for n in range(len(self.members) // HASH_BYTES):
            if self.members[n * HASH_BYTES : (n + 1) * HASH_BYTES] == member_hash:
                return n
        return None

    def held(self, now_s: float) -> bool:
        return self.lease_until_s >= now_s


@dataclass(frozen=True)
class PackClaim:
    """What a claim found: ``won`` (the lease is this callback's now), and the item as it was
    before (None: it is new)."""

    won: bool
    before: PackRecord | None = None


@dataclass(frozen=True)
class MemberHasher:
    """Members' hashes, keyed (by the message signing key) so that no tenant can choose an id
    whose hash is another firing's."""

    key: bytes = field(repr=False)

    def __call__(self, firing_id: str) -> bytes:
        digest = hmac.new(self.key, firing_id.encode(), hashlib.sha256).digest()
        return digest[:HASH_BYTES]

    def members(self, firing_ids: list[str]) -> bytes:
        return b"".join(self(firing_id) for firing_id in firing_ids)


Verdict = str  # "run" | "ran" | "busy"


def busy_delay_s(record: PackRecord | None, now_s: float) -> int:
    """How long a member of a pack another callback holds waits to be asked again: until its
    lease ends (by then the holder ran it, sent it on, or died), at most a minute (a holder
    alive records its end long before its lease ends)."""
    if record is None:
        return BUSY_RETRY_S
    return max(5, min(MAX_BUSY_WAIT_S, math.ceil(record.lease_until_s - now_s) + 1))


def judge(record: PackRecord | None, position: int | None, now_s: float) -> Verdict:
    """What a firing that is (or may be) member ``position`` of ``record`` does through its own
    idempotency record: ``ran`` (its job completed in the pack: done), ``busy`` (the pack's
    holder may still run it: later) or ``run``."""
    if record is None or position is None:
        return "run"
    if position in record.ran:
        return "ran"
    if position in record.handed or not record.held(now_s):
        return "run"
    return "busy"


Remaining = Callable[[], float | None]
"""Seconds the callback has left (the Lambda context's), None when it is not known."""
