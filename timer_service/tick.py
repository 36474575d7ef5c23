"""The per-shard tick: read the minutes that are due from the time index and enqueue firings.

Protocol, per shard and minute (DESIGN.md):

1. one conditional update takes the lease and raises ``claimed`` to now + lookahead;
2. each minute from ``done + 1`` is read, strongly consistent: its absolute-minute partition
   and, for each rate base in use (a fixed set: see time_index), that base's slot of the minute;
3. cron firings get their next item written (one write each); rate and one-shot firings
   cost no write; late firings follow each timer's misfire policy; heartbeat items are
   checked against their deadlines (:mod:`timer_service.pings`);
4. firings go to the queue in batches of ten with per-message delays (a ``fireAll`` timer's
   late ones paced, one a second, see ``apply_misfire_policy``), each starting its W3C trace as
   it is packed (:mod:`timer_service.tracing`);
5. one update sets ``done`` and gives the lease back. A crash before it re-sends the minutes
   on the next tick: delivery is at least once, and every firing carries its id for dedupe.

A timer created during a tick is not lost: the API writes its item, then reads ``claimed`` and
sends any firing in a claimed minute itself. When the ticker's read also saw the item, both
send: such firings are marked *raced* on both sides (the API's always; the ticker's when the
item was written by the API recently enough, see ``_firings``), and delivery runs a raced
firing once, by a conditional write on its id. Other firings cost no write.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from timer_service.change_log import ChainCopies
from timer_service.clock import Clock
from timer_service.dispatch import DispatchQueue, Firing
from timer_service.errors import InvalidScheduleError
from timer_service.jitter import jitter_offset
from timer_service.keys import minute_partition, rate_partition
from timer_service.metrics import Metrics, NullMetrics
from timer_service.models import MisfirePolicy, ShardState
from timer_service.pings import deadline_checks
from timer_service.settings import Settings
from timer_service.store.base import TimerStore
from timer_service.time_index import IndexEntry, fire_times_in_minute, is_last_firing, successor

__all__ = [
    "CATCH_UP_PER_TICK",
    "MISFIRE_THRESHOLD_S",
    "TickEngine",
    "TickReport",
    "TickSettings",
    "apply_misfire_policy",
    "last_firings",
    "retirements",
    "scheduled_firings",
]

logger = logging.getLogger(__name__)

MISFIRE_THRESHOLD_S = 60  # a firing later than this when sent is a misfire
# fireAll catch-up: a tick sends at most this many of one timer's late firings, one a second,
# so they are spread over the minute before the next tick (which sends the next ones).
CATCH_UP_PER_TICK = 60
# The longest an API request takes from writing an index item to reading the shard's claim
# (API Gateway stops requests at 29 s), with room for clock differences between functions.
RACE_SLACK_S = 120
# A retiring base waits this much longer than its cycle: a writer that put an item under it
# (in an API request, at most ~30 s) has cleared the mark by then.
RETIRE_GRACE_MIN = 2


@dataclass(frozen=True)
class TickSettings:
    lookahead_minutes: int = 1
    catch_up_window_s: int = 3600  # fireAll re-sends missed firings this far back
    max_minutes_per_tick: int = 120  # a long outage is caught up over several ticks
    lease_s: float = 90.0
    concurrency: int = 8

    @classmethod
    def from_settings(cls, settings: Settings) -> TickSettings:
        return cls(
            lookahead_minutes=settings.lookahead_minutes,
            catch_up_window_s=settings.catch_up_window_s,
        )


@dataclass(frozen=True)
class TickReport:
    shard: int
    first_minute: int | None = None
    last_minute: int | None = None
    sent: int = 0
    late: int = 0
    not_sent: int = 0  # misfires the timers' policies chose not to send
    successors: int = 0
    busy: bool = False  # another ticker held the lease


@dataclass(frozen=True)
class _Due:
    entry: IndexEntry
    firing: Firing


class TickEngine:
    """Runs ticks for any shard; one instance per process, its token names its leases."""

    def __init__(
        self,
        *,
        store: TimerStore,
        queue: DispatchQueue,
        clock: Clock,
        settings: TickSettings | None = None,
        metrics: Metrics | None = None,
        token: str | None = None,
    ) -> None:
        self._store = store
        self._queue = queue
        self._clock = clock
        self._settings = settings or TickSettings()
        self._metrics = metrics or NullMetrics()
        self._token = token or uuid.uuid4().hex

    def tick(self, shard: int) -> TickReport:
        started_s = self._clock.now()
        now_minute = int(started_s // 60)
        target = now_minute + self._settings.lookahead_minutes
        state = self._store.begin_tick(
            shard,
            token=self._token,
            now_s=started_s,
            lease_s=self._settings.lease_s,
            claim=target,
            first=now_minute,
        )
        if state is None:
            self._metrics.count("TickLeaseBusy")
            return TickReport(shard=shard, busy=True)
        assert state.done is not None
        first = state.done + 1
        last = min(target, state.done + self._settings.max_minutes_per_tick)
        due: list[_Due] = []
        successors = 0
        copies = ChainCopies(self._store, shard, int(started_s))
        bases = sorted(state.bases)
        found_bases: set[int] = set()
        with ThreadPoolExecutor(max_workers=self._settings.concurrency) as pool:
            for minute in range(first, last + 1):
                partitions = [minute_partition(shard, minute)] + [
                    rate_partition(shard, base, minute % base) for base in bases
                ]
                parts = list(pool.map(self._store.query_index, partitions))
                found_bases.update(
                    base for base, part in zip(bases, parts[1:], strict=True) if part
                )
                entries = [e for part in parts for e in part if e.kind != "heartbeat"]
                # the tick began before this read: a write since then is in the change log;
                # a minute a ticker claimed before and did not record done may have been sent
                again = state.claimed_before is not None and minute <= state.claimed_before
                found, nexts = self._firings(
                    entries,
                    minute,
                    self._settings.lookahead_minutes,
                    int(started_s),
                    copies.ok,
                    sent_again=again,
                )
                due += found
                beats = [e for e in parts[0] if e.kind == "heartbeat"]
                if beats:  # their deadlines are in their states: one batched read
                    states = self._store.get_heartbeats([e.ping_hash for e in beats if e.ping_hash])
                    checks, moved = deadline_checks(beats, states, minute, read_s=self._clock.now())
                    due += [_Due(entry, firing) for entry, firing in checks]
                    nexts += moved
                # Written before the next minute is read: a cron may fire again inside this tick.
                successors += sum(pool.map(self._store.put_successor, nexts))
        sent, not_sent, late = apply_misfire_policy(
            [(d.firing, d.entry.misfire_policy) for d in due],
            now_s=self._clock.now(),
            catch_up_window_s=self._settings.catch_up_window_s,
            catch_up_windows={
                (d.entry.owner, d.entry.timer_id): d.entry.catch_up_window_s
                for d in due
                if d.entry.catch_up_window_s is not None
            },
        )
        if sent:
            self._queue.send(sent)
        mark, unmark, retire = retirements(state, found_bases, last if last >= first else None)
        self._store.end_tick(
            shard,
            token=self._token,
            done=max(last, state.done),
            mark=None if unmark else mark,  # both change one attribute: marks wait a tick
            unmark=unmark,
        )
        for base, marked_minute in retire:
            if self._store.retire_base(shard, base, marked_minute=marked_minute):
                self._metrics.count("RateBasesRetired")
        elapsed_ms = (self._clock.now() - started_s) * 1000
        self._metrics.count("FiringsDispatched", len(sent))
        self._metrics.count("FiringsLate", late)
        self._metrics.count("FiringsNotSent", not_sent)
        self._metrics.count("TickDuration", elapsed_ms, unit="Milliseconds")
        if not_sent:
            logger.warning(
                "misfires not sent per policy", extra={"shard": shard, "count": not_sent}
            )
        return TickReport(
            shard=shard,
            first_minute=first if last >= first else None,
            last_minute=last if last >= first else None,
            sent=len(sent),
            late=late,
            not_sent=not_sent,
            successors=successors,
        )

    @staticmethod
    def _firings(
        entries: Sequence[IndexEntry],
        minute: int,
        lookahead_minutes: int,
        read_s: int,
        copy_ok: Callable[[IndexEntry], bool] = lambda entry: True,
        *,
        sent_again: bool = False,
    ) -> tuple[list[_Due], list[IndexEntry]]:
        due: list[_Due] = []
        nexts: list[IndexEntry] = []
        # The API sends a firing itself only when, just after writing its item, it reads a
        # claim of the firing's minute. No claim of `minute` happens before (minute -
        # lookahead) * 60, and the read follows the write within one API request: an item
        # the API wrote before this horizon cannot have been sent by it as well.
        race_horizon_s = (minute - lookahead_minutes) * 60 - RACE_SLACK_S
        for entry in entries:
            times = fire_times_in_minute(entry, minute)
            if not times:
                continue
            try:
                following = successor(entry)
            except InvalidScheduleError as exc:  # stored under older rules: fires, then stops
                logger.warning("no next firing of %s: %s", entry.timer_id, exc.message)
                following = None
            usable = entry.snapshot is not None and copy_ok(entry)
            if following is not None:  # its copy known good as of this tick, or none
                following = (
                    replace(following, copy_s=read_s)
                    if usable
                    else replace(following, snapshot=None, copy_s=None)
                )
                nexts.append(following)
            raced = entry.api_written_s is not None and entry.api_written_s >= race_horizon_s
            for fire_s in times:  # several for a rate of seconds
                due += [
                    _Due(entry, firing)
                    for firing in scheduled_firings(
                        entry.owner,
                        entry.timer_id,
                        entry.version,
                        fire_s,
                        following=following,
                        raced=raced,
                        jitter_s=entry.jitter_s,
                        last=is_last_firing(entry, fire_s, following),
                        incarnation=entry.created_s,
                        snapshot=entry.snapshot if usable else None,
                        snap_s=read_s,
                        shard=entry.shard,
                        sent_again=sent_again,
                    )
                ]
        return due, nexts


def scheduled_firings(
    owner: str,
    timer_id: str,
    version: int,
    fire_s: int,
    *,
    following: IndexEntry | None,
    raced: bool,
    jitter_s: int,
    last: bool,
    incarnation: int | None = None,
    snapshot: str | None = None,
    snap_s: int | None = None,
    shard: int | None = None,
    sent_again: bool = False,
) -> list[Firing]:
    """The firing of a timer's scheduled second, as the ticker or the API's hand-off sends it:
    with its jitter offset, and, when it is the timer's last, what completes the timer. A
    ticker's firing carries its timer's definition (``snapshot``, read at ``snap_s``) unless it
    is raced: the API may have sent it with no copy of the write that made it. Unless raced,
    a ticker's (``shard`` given) is packed with a ledger item (``delivery: deduplicated`` paid
    per pack, timer_service.pack_ledger), or marked as ``sent_again`` (a minute it may have
    sent before)."""
    ticked = shard is not None and not raced
    firing = Firing(
        owner=owner,
        timer_id=timer_id,
        version=version,
        scheduled_s=fire_s,
        next_key=None if following is None else following.key,
        raced=raced,
        jitter_s=jitter_offset(owner, timer_id, fire_s, jitter_s),
        incarnation=incarnation,
        snapshot=None if raced else snapshot,
        snap_s=None if raced or snapshot is None else snap_s,
        shard=None if raced or snapshot is None else shard,
        ledger=shard if ticked and not sent_again else None,
        resent_shard=shard if ticked and sent_again else None,
    )
    return last_firings(firing, jitter_s, last=last)


def last_firings(firing: Firing, jitter_s: int, *, last: bool) -> list[Firing]:
    """``firing``, marked as its timer's last when it is; with jitter, the completion comes
    apart, after the whole window: an earlier firing's offset may run it after this one."""
    if not last:
        return [firing]
    if not jitter_s:
        return [replace(firing, last=True)]
    done = replace(firing, jitter_s=0, last=True, complete_only=True)
    return [firing, replace(done, deliver_at_s=firing.scheduled_s + jitter_s + 1)]


def retirements(
    state: ShardState, found: set[int], last: int | None
) -> tuple[dict[int, int], list[int], list[tuple[int, int]]]:
    """Which rate bases to mark as retiring (base -> minute), to unmark, and to retire.

    A base read empty in every minute of a tick is marked at the tick's last minute; one
    found non-empty is unmarked. A base still marked, and empty, a full cycle of its slots plus
    RETIRE_GRACE_MIN after its mark is retired: every slot was read after the mark, and an
    item written before the mark was there to be found. A writer that puts an item under a
    marked base clears the mark first (TimerService, Rebalancer), so a retirement never
    strands an item: the retirement is conditional on the mark it saw.
    """
    if last is None:  # no minute was read
        return {}, [], []
    unmark = sorted(base for base in state.retiring if base in found)
    mark = {base: last for base in state.bases if base not in found and base not in state.retiring}
    retire = [
        (base, since)
        for base, since in sorted(state.retiring.items())
        if base not in found and last >= since + base + RETIRE_GRACE_MIN
    ]
    return mark, unmark, retire


def apply_misfire_policy(
    firings: Sequence[tuple[Firing, MisfirePolicy]],
    *,
    now_s: float,
    catch_up_window_s: int,
    catch_up_windows: Mapping[tuple[str, str], int] | None = None,
) -> tuple[list[Firing], int, int]:
    """Which firings to send: ``(to_send, not_sent, late)``.

    On-time firings are always sent. Late ones (over MISFIRE_THRESHOLD_S): ``fireOnce`` sends
    the latest per timer, ``fireAll`` those inside the timer's catch-up window
    (``catch_up_windows`` by ``(owner, id)``, else ``catch_up_window_s``; at least the latest),
    the newest CATCH_UP_PER_TICK of them, paced one a second from now, oldest first; ``skip``
    none. Nothing is dropped without being counted.
    """
    windows = catch_up_windows or {}
    send: list[Firing] = []
    late_by_timer: dict[tuple[str, str, int], list[Firing]] = defaultdict(list)
    policies: dict[tuple[str, str, int], MisfirePolicy] = {}
    for firing, policy in firings:
        if firing.complete_only or firing.scheduled_s >= now_s - MISFIRE_THRESHOLD_S:
            send.append(firing)
        else:
            timer_key = (firing.owner, firing.timer_id, firing.version)
            late_by_timer[timer_key].append(firing)
            policies[timer_key] = policy
    late = sum(len(group) for group in late_by_timer.values())
    for timer_key, group in late_by_timer.items():
        group.sort(key=lambda f: f.scheduled_s)
        policy = policies[timer_key]
        if policy == "fireAll":
            window_s = windows.get(timer_key[:2], catch_up_window_s)
            recent = [f for f in group if f.scheduled_s >= now_s - window_s] or group[-1:]
            start_s = int(now_s)
            send += [
                replace(firing, deliver_at_s=start_s + n)
                for n, firing in enumerate(recent[-CATCH_UP_PER_TICK:])
            ]
        elif policy == "fireOnce":
            send.append(group[-1])
        elif group[-1].last:  # skip: not run, but its timer completes
            send.append(replace(group[-1], complete_only=True))
    not_sent = sum(1 for f, _ in firings if not f.complete_only) - sum(
        1 for f in send if not f.complete_only
    )
    return send, not_sent, late
