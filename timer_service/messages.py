"""The dispatch queue's messages: what a body holds, how firings share one, and its signature.

A body is one firing (``{"o","i","v","s",...}``, see :meth:`Firing.to_json`); or a pack of
firings (``{"p": [...]}``: due in the same second, or redriven together), with the seed its
members' trace ids derive from (``"T"``, see :mod:`timer_service.tracing`), the second and
shard its members' copies were read at (``"K"``, ``"Z"``) and those copies deflated together by
position (``"Q"``: a release before this one reads the members alone and reads their timers,
as it did before copies travelled; ``tests/unit/test_pack_readers.py``); or one firing sent
again after a failed delivery, with the deliveries it had so far (``{..., "a": 3}``). Every
message the service sends carries an HMAC-SHA256 of its body, keyed by a secret only the
service's functions hold, in the message attribute ``sig``: the callback runs only messages
whose signature holds, so a message that someone else put on the queue (a tenant's ``sqs`` job
aimed at it, a stray script with send rights) is never run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from timer_service.firing import Firing
from timer_service.pack_ledger import PackRef
from timer_service.tracing import new_seed, new_trace_id, trace_id_of

__all__ = [
    "PACK_MAX_BYTES",
    "PACK_MAX_FIRINGS",
    "SIGNATURE_ATTRIBUTE",
    "Message",
    "MessageSigner",
    "due_now",
    "firings_in",
    "messages_of",
    "read",
    "retry_message",
]

PACK_MAX_FIRINGS = 100  # firings due in one second that share a message
PACK_MAX_BYTES = 60_000  # a message stays within one 64 KB billing chunk
MAX_INFLATED_BYTES = 256 * 1024  # more than any pack's members inflate to
SIGNATURE_ATTRIBUTE = "sig"
_PACK_OVERHEAD = len('{"P":"","T":"","p":[]}') + 64  # a pack's own bytes: seed, reference
# a pack member's text without its copy and closing brace; its copy; whether the copy has a
# second and shard of its own (not its pack's stamp)
_Parts = tuple[str, str | None, bool]
_REPEATED_COPY = 8  # bytes a copy repeated in a pack adds to its deflated copies, about


@dataclass(frozen=True)
class Message:
    """One queue message: one firing, or a pack of firings due in the same second."""

    body: str
    scheduled_s: int  # when it is due: the earliest of its firings' (``Firing.due_s``)
    firings: tuple[Firing, ...]
    attempts_before: int = 0  # a firing sent again: the deliveries it had before this message
    pack: PackRef | None = None  # a ticker's first send of a pack: its ledger item's reference


def messages_of(firings: Sequence[Firing], *, deflate: bool = False) -> list[Message]:
    """Firings as queue messages. Firings due in the same second travel together, up to
    ``PACK_MAX_FIRINGS`` (and one 64 KB billing chunk) a message: at scale that divides the
    SQS requests of the ticker and the callbacks, and the callback invocations, by up to 100.
    Raced and manual firings travel alone (their delivery claims them by message); backfilled
    ones, all due now whatever their seconds, travel together like a redrive."""
    messages: list[Message] = []
    by_second: dict[tuple[int, int | None, int | None], list[Firing]] = {}
    backfilled: list[Firing] = []
    for firing in firings:
        if firing.raced or firing.manual:
            messages.append(_message([firing]))
        elif firing.backfill:
            backfilled.append(firing)
        elif firing.ledger is not None and firing.resent_shard is None:
            # a ticker's first send: packs of one shard and minute share a ledger item
            key = (firing.due_s, firing.ledger, firing.scheduled_s // 60)
            by_second.setdefault(key, []).append(firing)
        else:
            by_second.setdefault((firing.due_s, None, None), []).append(firing)
    for (_, shard, minute), group in by_second.items():
        messages += _packs(group, shard, minute, deflate=deflate)
    return messages + _packs(backfilled, deflate=deflate)


def due_now(firings: Sequence[Firing], *, deflate: bool = False) -> list[Message]:
    """Firings to be delivered now whenever they were due (a redrive), packed together up to
    ``PACK_MAX_FIRINGS`` a message whatever their seconds: 1,000 letters are one send."""
    return _packs(list(firings), deflate=deflate)


def _packs(
    group: list[Firing],
    shard: int | None = None,
    minute: int | None = None,
    *,
    deflate: bool = False,
) -> list[Message]:
    packs: list[list[tuple[Firing, _Parts]]] = []
    size = 0
    # a tick's firings share their copies' second and shard: the pack carries them once
    stamp = next((found for found in map(_stamp_of, group) if found is not None), None)
    in_pack: set[str] = set()  # the copies of the pack so far: a repeat deflates to a few bytes
    for firing in group:
        parts = _parts_of(firing, trace=False, stamp=stamp)
        length = len(parts[0]) + 2  # its text whole, and a comma
        copy, own = parts[1], parts[2]
        if copy is not None and own:
            length += len(',"x":') + len(json.dumps(copy))
        elif copy is not None and copy not in in_pack:  # deflated, in base64: at most this
            length += (len(json.dumps(copy)) + 1) * 4 // 3 + 4
        elif copy is not None:
            length += _REPEATED_COPY
        if not packs or len(packs[-1]) == PACK_MAX_FIRINGS or size + length > PACK_MAX_BYTES:
            packs.append([])
            size = _PACK_OVERHEAD
            in_pack.clear()
        packs[-1].append((firing, parts))
        if copy is not None and not own:
            in_pack.add(copy)
        size += length
    return [
        message
        for members in packs
        for message in _within_bounds(members, shard, minute, stamp=stamp, deflate=deflate)
    ]


def _within_bounds(
    members: list[tuple[Firing, _Parts]],
    shard: int | None,
    minute: int | None,
    *,
    stamp: tuple[int, int] | None,
    deflate: bool,
) -> list[Message]:
    """The pack of ``members``, or its halves' when its body is over ``PACK_MAX_BYTES`` (its
    copies deflated less than estimated)."""
    message = _message(
        [firing for firing, _ in members],
        None if shard is None or minute is None else PackRef.new(shard, minute),
        texts=[parts for _, parts in members],
        stamp=stamp,
        deflate=deflate,
    )
    if len(message.body) <= PACK_MAX_BYTES or len(members) == 1:
        return [message]
    half = len(members) // 2
    return [
        *_within_bounds(members[:half], shard, minute, stamp=stamp, deflate=deflate),
        *_within_bounds(members[half:], shard, minute, stamp=stamp, deflate=deflate),
    ]


def _stamp_of(firing: Firing) -> tuple[int, int] | None:
    if firing.snapshot is None or firing.snap_s is None or firing.shard is None:
        return None
    return firing.snap_s, firing.shard


def _message(
    members: list[Firing],
    pack: PackRef | None = None,
    *,
    texts: list[_Parts] | None = None,
    stamp: tuple[int, int] | None = None,
    deflate: bool = False,
) -> Message:
    """Members without a trace get one: a lone firing its own id, a pack's member the one its
    seed and position derive (no bytes of its own; ``texts``: the members' bodies without
    their trace ids, when known). A pack of one has no ledger item: its firing's own record
    costs the same."""
    second = min(firing.due_s for firing in members)
    if len(members) == 1:
        (firing,) = members
        if firing.trace_id is None:
            firing = replace(firing, trace_id=new_trace_id())
        return Message(firing.to_message(), second, (firing,))
    seed = new_seed()
    traced: list[Firing] = []
    parts: list[_Parts] = []
    for position, member in enumerate(members):
        if texts is not None and member.trace_id is None:
            parts.append(texts[position])  # a derived trace id costs no bytes
        else:
            parts.append(_parts_of(member, trace=True, stamp=stamp))
        trace_id = member.trace_id or trace_id_of(seed, position)
        # its place in the pack's item, as a copy of it sent on alone carries it
        origin = member.origin if pack is None else pack.member(position)
        traced.append(replace(member, trace_id=trace_id, origin=origin))
    fields = []
    if stamp is not None and any(_stamp_of(member) == stamp for member in members):
        fields += [f'"K":{stamp[0]}', f'"Z":{stamp[1]}']
    if pack is not None:
        fields.append(f'"P":"{pack}"')
    if any(member.trace_id is None for member in members):
        fields.append(f'"T":"{seed}"')
    copies, bodies = _copies(parts)
    if copies is not None:
        fields.append(f'"Q":"{copies}"')
    listed = "[" + ",".join(bodies) + "]"
    packed = _deflated(listed) if deflate else listed
    fields.append(f'"q":"{packed}"' if len(packed) < len(listed) else f'"p":{listed}')
    return Message("{" + ",".join(fields) + "}", second, tuple(traced), pack=pack)


def _parts_of(firing: Firing, *, trace: bool, stamp: tuple[int, int] | None) -> _Parts:
    body = firing.to_json(trace=trace, stamp=stamp)
    own = "k" in body
    copy = body.pop("x", None)
    return json.dumps(body, separators=(",", ":"))[:-1], copy, own


def _copies(parts: list[_Parts]) -> tuple[str | None, list[str]]:
    """The copies of members that carry their pack's stamp, in one list by position
    (``null``: none), deflated (``"Q"``); and the members' texts, the rest of the copies in
    them. Copies of one tick share most of their bytes (timers of a template, all of them):
    1,000 firings' fit one 64 KB chunk, as they did before copies travelled. A release before
    this one reads the members alone, as ones without copies: it reads their timers."""
    copies: list[str | None] = []
    bodies = []
    for text, copy, own in parts:
        copies.append(None if own else copy)
        if copy is None or not own:
            bodies.append(text + "}")
        else:
            bodies.append(f'{text},"x":{json.dumps(copy)}}}')
    if all(copy is None for copy in copies):
        return None, bodies
    return _deflated(json.dumps(copies, separators=(",", ":"))), bodies


def _deflated(text: str) -> str:
    """A pack's members deflated, in base64: SQS bills each 64 KB of a call, and members of
    one second share most of their bytes (their second, owner, copy, field names)."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    return base64.b64encode(deflate.compress(text.encode()) + deflate.flush()).decode()


def _inflated(packed: Any) -> Any:
    if not isinstance(packed, str):
        raise ValueError("a pack's members are not text")
    try:
        inflate = zlib.decompressobj(-15)
        text = inflate.decompress(base64.b64decode(packed, validate=True), MAX_INFLATED_BYTES)
    except (binascii.Error, zlib.error) as exc:
        raise ValueError(f"a pack's members do not inflate: {exc}") from exc
    if inflate.unconsumed_tail:
        raise ValueError("a pack's members inflate past any pack's size")
    return json.loads(text)


def retry_message(firing: Firing, *, attempts_before: int) -> Message:
    """One firing sent again, alone, carrying the deliveries it had so far."""
    if attempts_before:  # a retry reads its timer: the copy would only cost bytes
        firing = replace(firing, snapshot=None, snap_s=None, shard=None)
    body = json.dumps({**firing.to_json(), "a": attempts_before}, separators=(",", ":"))
    return Message(body, firing.due_s, (firing,), attempts_before)


def read(body: str) -> Message:
    """The message a body holds; ValueError when it is not one the service writes."""
    try:
        value = json.loads(body)
        if isinstance(value, dict) and ("q" in value or isinstance(value.get("p"), list)):
            listed = _inflated(value["q"]) if "q" in value else value["p"]
            if not isinstance(listed, list):
                raise ValueError("a pack's members are not a list")
            pack = None if value.get("P") is None else PackRef.parse(value["P"])
            stamp = {"k": int(value["K"]), "z": int(value["Z"])} if "K" in value else {}
            copies = _copies_of(value, len(listed), bool(stamp))
            firings = tuple(
                _member(m, value.get("T"), n, pack, stamp, copies[n]) for n, m in enumerate(listed)
            )
            if not firings:
                raise ValueError("an empty pack")
            return Message(body, min(f.due_s for f in firings), firings, pack=pack)
        firing = Firing.from_json(value)
        attempts = int(value.get("a", 0))
    except (KeyError, TypeError, AttributeError, RecursionError) as exc:  # nested too deep
        raise ValueError(f"not a firing message: {exc!r}") from exc
    if attempts < 0:
        raise ValueError("negative attempts")
    return Message(body, firing.due_s, (firing,), attempts)


def _member(
    value: Any,
    seed: Any,
    position: int,
    pack: PackRef | None,
    stamp: dict[str, int],
    copy: str | None,
) -> Firing:
    """A pack's member, with the trace id its seed and position derive unless it has one, its
    copy the one the pack's copies give it (``copy``) unless it has its own, its copy's second
    and shard the pack's unless it has its own, and its place in the pack's ledger item when
    the pack has one."""
    if not isinstance(value, dict):
        raise ValueError("a pack's member is not an object")
    if copy is not None:
        if "x" in value or "k" in value or "z" in value:
            raise ValueError("a member with a copy in the pack's copies and one of its own")
        value = {**value, "x": copy}
    if stamp and value.get("x") is not None and "k" not in value:
        value = {**value, **stamp}
    firing = Firing.from_json(value)
    if pack is not None and firing.origin is not None:
        raise ValueError("a member of a pack with a ledger item names another")
    if firing.trace_id is None and isinstance(seed, str):
        firing = replace(firing, trace_id=trace_id_of(seed, position))
    if pack is not None:
        firing = replace(firing, origin=pack.member(position))
    return firing


def _copies_of(value: dict[str, Any], members: int, stamped: bool) -> list[str | None]:
    """A pack's copies by member (see ``_copies``); None for each when it has none."""
    if "Q" not in value:
        return [None] * members
    copies = _inflated(value["Q"])
    if not stamped or not isinstance(copies, list) or len(copies) != members:
        raise ValueError("a pack's copies are not one a member, with their stamp")
    if not all(copy is None or isinstance(copy, str) for copy in copies):
        raise ValueError("a pack's copy is not text")
    return copies


def pack_members(body: str) -> list[Any]:
    """The JSON objects of a pack body's members, as sent (deflated or not)."""
    value = json.loads(body)
    return list(_inflated(value["q"]) if "q" in value else value["p"])


def firings_in(body: str) -> list[Firing]:
    """The firings of a message body: one, or a pack's."""
    return list(read(body).firings)


class MessageSigner:
    """Signs message bodies and checks their signatures (HMAC-SHA256, url-safe base64)."""

    def __init__(self, key: str | bytes) -> None:
        secret = key.encode() if isinstance(key, str) else key
        if len(secret) < 16:
            raise ValueError("the message signing key must be at least 16 bytes")
        self._key = secret

    def sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def derived(self, label: str) -> bytes:
        """A key for another use, derived from this one (HMAC of ``label``)."""
        return hmac.new(self._key, label.encode(), hashlib.sha256).digest()

    def verify(self, body: str, signature: str | None) -> bool:
        return signature is not None and hmac.compare_digest(self.sign(body), signature)
