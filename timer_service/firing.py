"""A firing: one timer version due at one second, the unit of delivery."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from timer_service.clock import format_utc
from timer_service.keys import IndexKey
from timer_service.tracing import fallback_trace_id

__all__ = ["Firing"]


@dataclass(frozen=True)
class Firing:
    """One firing of one timer version at one second; the unit of delivery."""

    owner: str
    timer_id: str
    version: int
    scheduled_s: int
    next_key: IndexKey | None = None  # cron: the successor item, removed if the timer is stale
    manual: bool = False  # POST /trigger
    raced: bool = False  # both the API and a ticker may have sent it: delivery claims it once
    backfill: bool = False  # POST /backfill: a past scheduled time, fired on request
    heartbeat: bool = False  # a heartbeat timer's deadline: runs only if no ping moved it
    # A paced catch-up firing is delivered at this second, after its scheduled one (tick.py).
    deliver_at_s: int | None = None
    jitter_s: int = 0  # its jitter offset: it runs this long after its scheduled second
    last: bool = False  # the timer's last scheduled firing: its delivery completes the timer
    complete_only: bool = False  # a last firing its misfire policy does not run: completes only
    # Its W3C trace (timer_service.tracing), given when it is first queued; not part of what
    # the firing is: the API's copy and a ticker's of one raced firing are one firing.
    trace_id: str | None = field(default=None, compare=False)
    # The incarnation of the timer it belongs to (its creation second): a timer deleted and
    # created again under the id does not run it. None: sent without one (an older message).
    incarnation: int | None = field(default=None, compare=False)
    # The timer's definition as the ticker read it from its index item (timer_service.snapshots)
    # and the second of that read: delivery runs it unless the shard's change log shows a
    # write of the timer since. None: delivery reads the timer.
    snapshot: str | None = field(default=None, compare=False)
    snap_s: int | None = field(default=None, compare=False)
    shard: int | None = field(default=None, compare=False)  # whose ticker sent it, with a copy
    # ``delivery: deduplicated`` by pack (timer_service.pack_ledger): the pack member a firing
    # sent on alone was (``shard:minute:id:position``); the shard of a ticker that sends it
    # again (a minute it may have sent before); the shard whose ticker packs it for the first
    # time (not sent: its pack's body carries the reference).
    origin: str | None = field(default=None, compare=False)
    resent_shard: int | None = field(default=None, compare=False)
    ledger: int | None = field(default=None, compare=False)

    @property
    def firing_id(self) -> str:
        """``{owner}#{id}@{scheduledAt}``: the same for every delivery of this firing."""
        suffix = "~manual" if self.manual else "~backfill" if self.backfill else ""
        return f"{self.owner}#{self.timer_id}@{format_utc(self.scheduled_s)}{suffix}"

    @property
    def trace(self) -> str:
        """Its W3C trace id: the one it was queued with, else (queued before firings carried
        one) one derived from its id, the same on each delivery."""
        return self.trace_id or fallback_trace_id(self.firing_id)

    @property
    def due_s(self) -> int:
        """The second the firing is to reach its job: its scheduled one plus its jitter offset,
        unless paced later."""
        if self.deliver_at_s is not None:
            return self.deliver_at_s
        return self.scheduled_s + self.jitter_s

    def to_message(self, *, trace: bool = True, stamp: tuple[int, int] | None = None) -> str:
        return json.dumps(self.to_json(trace=trace, stamp=stamp), separators=(",", ":"))

    @classmethod
    def from_message(cls, text: str) -> Firing:
        """The firing of a single-firing message (``messages.read`` reads packs too)."""
        return cls.from_json(json.loads(text))

    def to_json(
        self, *, trace: bool = True, stamp: tuple[int, int] | None = None
    ) -> dict[str, Any]:
        """The compact JSON object of the firing, as messages carry it (without its trace id
        when ``trace`` is False: a pack derives it, see timer_service.tracing; without its
        copy's second and shard when they are ``stamp``, its pack's)."""
        body: dict[str, Any] = {
            "o": self.owner,
            "i": self.timer_id,
            "v": self.version,
            "s": self.scheduled_s,
        }
        if self.next_key is not None:
            body["n"] = [self.next_key.pk, self.next_key.sk]
        if self.manual:
            body["m"] = 1
        if self.raced:
            body["r"] = 1
        if self.backfill:
            body["b"] = 1
        if self.heartbeat:
            body["h"] = 1
        if self.deliver_at_s is not None:
            body["d"] = self.deliver_at_s
        if self.jitter_s:
            body["j"] = self.jitter_s
        if self.last:
            body["l"] = 1
        if self.complete_only:
            body["c"] = 1
        if trace and self.trace_id is not None:
            body["t"] = self.trace_id
        if self.incarnation is not None:
            body["g"] = self.incarnation
        if self.snapshot is not None and self.snap_s is not None and self.shard is not None:
            body["x"] = self.snapshot
            if stamp != (self.snap_s, self.shard):
                body["k"] = self.snap_s
                body["z"] = self.shard
        if self.origin is not None:
            body["u"] = self.origin
        if self.resent_shard is not None:
            body["e"] = self.resent_shard
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Firing:
        next_key = body.get("n")
        return cls(
            owner=str(body["o"]),
            timer_id=str(body["i"]),
            version=int(body["v"]),
            scheduled_s=int(body["s"]),
            next_key=None if next_key is None else IndexKey(*next_key),
            manual=bool(body.get("m", 0)),
            raced=bool(body.get("r", 0)),
            backfill=bool(body.get("b", 0)),
            heartbeat=bool(body.get("h", 0)),
            deliver_at_s=None if body.get("d") is None else int(body["d"]),
            jitter_s=int(body.get("j", 0)),
            last=bool(body.get("l", 0)),
            complete_only=bool(body.get("c", 0)),
            trace_id=None if body.get("t") is None else str(body["t"]),
            incarnation=None if body.get("g") is None else int(body["g"]),
            snapshot=None if body.get("x") is None else str(body["x"]),
            snap_s=None if body.get("k") is None else int(body["k"]),
            shard=None if body.get("z") is None else int(body["z"]),
            origin=None if body.get("u") is None else _origin(body["u"]),
            resent_shard=None if body.get("e") is None else int(body["e"]),
        )


def _origin(value: Any) -> str:
    from timer_service.pack_ledger import parse_origin

    parse_origin(str(value))  # ValueError: not a message the service writes
    return str(value)
