"""One delivery of a pack with a ledger item, and the runs of firings that point at one
(:mod:`timer_service.pack_ledger` has the protocol)."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from timer_service.clock import Clock
from timer_service.errors import TimerServiceError
from timer_service.firing import Firing
from timer_service.flow import FlowWait
from timer_service.metrics import Metrics, NullMetrics
from timer_service.pack_ledger import (
    LEASE_MARGIN_S,
    MemberHasher,
    PackClaim,
    PackRecord,
    PackRef,
    Remaining,
    busy_delay_s,
    judge,
    parse_origin,
)
from timer_service.store.base import TimerStore

__all__ = ["HandedOn", "PackBusy", "PackLedger", "PackSession"]

logger = logging.getLogger(__name__)

RunOnce = Callable[[str, Callable[[], None]], None]
WRITE_ATTEMPTS = 3  # a group write's tries
DEFAULT_LEASE_S = 900.0  # no Lambda context (local, tests): the longest a Lambda may run


class PackBusy(FlowWait):
    """Another callback holds the firing's pack: asked again later, alone, same attempt."""

    code = "pack_busy"

    def __init__(self, delay_s: int) -> None:
        TimerServiceError.__init__(self, "its pack is being delivered by another callback")
        self.delay_s = delay_s


class HandedOn(TimerServiceError):
    """A copy of this member was already sent on alone: this delivery of it has nothing to do."""

    code = "handed_on"


@dataclass(frozen=True)
class PackLedger:
    """The callbacks' side of the ledger: sessions for packs, checks for firings alone."""

    store: TimerStore
    clock: Clock
    hasher: MemberHasher
    remaining: Remaining = lambda: None
    metrics: Metrics = field(default_factory=NullMetrics)

    def session(self, ref: PackRef, firings: Sequence[Firing], run_once: RunOnce) -> PackSession:
        return PackSession(self, ref, [f.firing_id for f in firings], run_once)

    def lease_until_s(self) -> float:
        left = self.remaining()
        return self.clock.now() + (DEFAULT_LEASE_S if left is None else left) + LEASE_MARGIN_S

    def checked(self, run_once: RunOnce, firing: Firing) -> RunOnce:
        """``run_once`` for a firing alone that a pack may hold too: its own record first, then
        inside it the pack's item (its ``origin``'s, or for a re-sent copy the minute's packs,
        after marking it)."""
        if firing.origin is None and firing.resent_shard is None:
            return run_once

        def run(firing_id: str, action: Callable[[], None]) -> None:
            def guarded() -> None:
                verdict, delay = self._verdict(firing)
                if verdict == "ran":
                    self.metrics.count("DuplicatesDropped")
                    return
                if verdict == "busy":
                    raise PackBusy(delay)
                action()

            run_once(firing_id, guarded)

        return run

    def _verdict(self, firing: Firing) -> tuple[str, int]:
        now_s = self.clock.now()
        if firing.origin is not None:
            ref, position = parse_origin(firing.origin)
            return self._judged(self.store.get_pack(ref), ref, position, now_s)
        assert firing.resent_shard is not None
        shard, minute = firing.resent_shard, firing.scheduled_s // 60
        member = self.hasher(firing.firing_id)
        self.store.mark_resent(shard, minute, member, now_s=int(now_s))
        for record in self.store.packs_of(shard, minute):
            place = record.position(member)
            if place is not None:
                return self._judged(record, record.ref, place, now_s)
        return "run", 0

    def _judged(
        self, record: PackRecord | None, ref: PackRef, position: int, now_s: float
    ) -> tuple[str, int]:
        """The verdict on member ``position``; one to run first takes it from the pack (a
        conditional write: a pack claimed since then, or still held, keeps it, later)."""
        verdict = judge(record, position, now_s)
        if verdict == "run" and not self.store.take_pack_member(ref, position, now_s=now_s):
            verdict = "busy"
        return verdict, busy_delay_s(record, now_s)


class PackSession:
    """A pack's deduplicated members, run once each against one ledger item: claimed when the
    first of them is to run, their ends written a group at a time."""

    def __init__(
        self, ledger: PackLedger, ref: PackRef, firing_ids: list[str], run_once: RunOnce
    ) -> None:
        self._ledger = ledger
        self._ref = ref
        self._ids = firing_ids
        self._run_once = run_once
        self._lock = threading.Lock()
        self._claimed: tuple[PackClaim, frozenset[int]] | None = None
        self._changed = threading.Condition(threading.Lock())
        self._pending_ran: set[int] = set()
        self._pending_handed: set[int] = set()
        self._writing = False
        self._token = secrets.token_hex(8)  # this delivery's: a claim retried finds itself
        self.writes = 0

    def runner(self, position: int) -> RunOnce:
        def run(firing_id: str, action: Callable[[], None]) -> None:
            self._run(position, firing_id, action)

        return run

    def handed(self, position: int) -> None:
        """A copy of member ``position`` went on alone (only once this pack holds the item)."""
        if self._claimed is not None and self._claimed[0].won:
            self._note(handed={position})

    def close(self) -> None:
        """Every end noted is written (before the message is deleted)."""
        with self._changed:
            while self._writing:
                self._changed.wait()
            if not self._pending_ran and not self._pending_handed:
                return
            self._writing = True
        self._write_all()

    # --- internals ----------------------------------------------------------------------

    def _run(self, position: int, firing_id: str, action: Callable[[], None]) -> None:
        claim, marked = self._claim()
        before = claim.before
        if not claim.won:  # a duplicate of a message another callback is delivering
            if before is not None and position in before.ran:
                self._ledger.metrics.count("DuplicatesDropped")
                return
            if before is not None and position in before.handed:
                raise HandedOn("a copy of it was sent on alone")
            raise PackBusy(busy_delay_s(before, self._ledger.clock.now()))
        if before is not None:  # taken over from a callback that died
            if position in before.ran:
                self._ledger.metrics.count("DuplicatesDropped")
                return
            if position in before.handed:
                raise HandedOn("a copy of it was sent on alone")
            self._run_once(firing_id, action)  # it may have run: its own record decides
        elif position in marked:  # a re-sent copy of it is about: one record for both
            self._run_once(firing_id, action)
        else:
            action()
        self._note(ran={position})

    def _claim(self) -> tuple[PackClaim, frozenset[int]]:
        with self._lock:
            if self._claimed is None:
                ledger = self._ledger
                members = ledger.hasher.members(self._ids)
                claim = ledger.store.claim_pack(
                    self._ref,
                    members,
                    token=self._token,
                    now_s=ledger.clock.now(),
                    until_s=ledger.lease_until_s(),
                )
                before = claim.before
                if not claim.won and before is not None and before.token == self._token:
                    claim = PackClaim(True, before)  # ours, a try whose answer was lost: taken over
                marked: frozenset[int] = frozenset()
                if claim.won and claim.before is None:
                    marks = ledger.store.resent_marks(self._ref.shard, self._ref.minute)
                    record = PackRecord(self._ref, members)
                    marked = frozenset(p for p in map(record.position, marks) if p is not None)
                ledger.metrics.count("PacksClaimed" if claim.won else "PacksBusy")
                self._claimed = (claim, marked)
            return self._claimed

    def _note(self, *, ran: set[int] | None = None, handed: set[int] | None = None) -> None:
        with self._changed:
            self._pending_ran |= ran or set()
            self._pending_handed |= handed or set()
            if self._writing:
                return  # the write in flight is followed by one with these
            self._writing = True
        # a thread of its own: the member's worker goes on to the pack's next member at once
        threading.Thread(target=self._write_all, name="pack-ends", daemon=True).start()

    def _write_all(self) -> None:
        """Write what is pending until nothing is (the one writer thread), each write
        tried three times (on top of the SDK's retries). A write that still fails is logged and
        counted (``PackWritesFailed``); the message is deleted all the same (its jobs ran), and a
        duplicate or a redelivery of it would run those members again, as powertools runs a
        firing again whose completing write failed."""
        try:
            while True:
                with self._changed:
                    ran, handed = self._pending_ran, self._pending_handed
                    if not ran and not handed:
                        return
                    self._pending_ran, self._pending_handed = set(), set()
                for attempt in range(WRITE_ATTEMPTS):
                    try:
                        self._ledger.store.record_pack(self._ref, ran=ran, handed=handed)
                        self.writes += 1
                        break
                    except Exception:
                        if attempt + 1 < WRITE_ATTEMPTS:
                            time.sleep(0.1 * 3**attempt)
                            continue
                        logger.exception("pack %s: ends not recorded: %s", self._ref, sorted(ran))
                        self._ledger.metrics.count("PackWritesFailed")
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()
