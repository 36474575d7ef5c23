"""Heartbeat deadlines in the time index: the ping, arming, and the ticker's rule.

A heartbeat's deadline lives in its state item (:mod:`timer_service.heartbeat`), which a ping
moves with one conditional write and no read. The time index does not follow each ping: it
holds an item at (or before) the deadline's minute, which the ticker moves on when it reads it,
so a steady heartbeat costs the ticker one write per period whatever its pings. When the
ticker reads a heartbeat item in minute ``M`` (strongly consistent, with the states of that
minute's heartbeats, one batched read) and the state's deadline ``D``:

1. no state (deleted), never pinged, or ``D`` already missed: nothing (the next ping arms it);
2. ``D`` after ``M``: the item moves to ``D``'s minute;
3. ``D`` in ``M`` or before: the deadline is sent, due at ``D``, and a *guard* item is put at
   the minute of (read + period + grace), or ``M + 1``: any ping after this read moves the
   deadline to at least that, so the guard (or the item it moves to) watches the next deadline.

Delivery decides, at ``D``: one conditional write marks ``D`` missed if it is still the
deadline, then the job runs; a ping whose write landed first has moved the deadline, the mark
fails and nothing runs. So a ping racing the deadline wins when its write lands before the
deadline's delivery, and is recorded as a recovery when it lands after (DESIGN: "first write
wins"). Copies of one deadline (a guard read before the mark, a tick sent twice) share the
firing id and are marked *raced*: delivery runs one.

A ping that finds its heartbeat idle (never pinged, or missed) arms it: it puts an item at the
new deadline's minute and reads the shard's ``claimed``, as the API does for a new timer
(:mod:`timer_service.handoff`); if that minute was claimed it puts one at the first minute not
claimed, until one is. Then it clears the idle mark: a ping that died before that leaves it,
and the next ping arms again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from timer_service.clock import Clock, format_utc
from timer_service.errors import PingTokenNotFoundError, StoreError
from timer_service.firing import Firing
from timer_service.heartbeat import (
    HEARTBEAT_HISTORY,
    PING_TOKEN_PATTERN,
    HeartbeatState,
    PingResult,
    token_hash,
)
from timer_service.keys import IndexKey, index_sort_key, minute_partition
from timer_service.metrics import Metrics, NullMetrics
from timer_service.models import Timer
from timer_service.runs import Run, records
from timer_service.store.base import TimerStore
from timer_service.time_index import IndexEntry

__all__ = ["Heartbeats", "arm", "deadline_checks", "heartbeat_entry"]

_TOKEN_RE = re.compile(PING_TOKEN_PATTERN)
MAX_ARM_ATTEMPTS = 20  # claims move a minute a minute: an arm meets one or two at most


def heartbeat_entry(timer: Timer, ping_hash: str, fire_s: int) -> IndexEntry:
    """The heartbeat's index item in the minute of ``fire_s``."""
    return IndexEntry(
        key=IndexKey(
            minute_partition(timer.shard, fire_s // 60),
            index_sort_key(fire_s % 60, timer.owner, timer.id),
        ),
        shard=timer.shard,
        owner=timer.owner,
        timer_id=timer.id,
        version=timer.firing_version,
        kind="heartbeat",
        second=fire_s % 60,
        misfire_policy="fireOnce",
        fire_s=fire_s,
        ping_hash=ping_hash,
    )


def _moved(entry: IndexEntry, fire_s: int) -> IndexEntry:
    key = IndexKey(
        minute_partition(entry.shard, fire_s // 60),
        index_sort_key(fire_s % 60, entry.owner, entry.timer_id),
    )
    return replace(entry, key=key, fire_s=fire_s, second=fire_s % 60)


def deadline_checks(
    entries: Sequence[IndexEntry],
    states: Mapping[str, HeartbeatState],
    minute: int,
    *,
    read_s: float,
) -> tuple[list[tuple[IndexEntry, Firing]], list[IndexEntry]]:
    """The ticker's rule for the heartbeat items read in ``minute``: the deadlines to send,
    and the items to put (moved on, or guards); one action per heartbeat."""
    due: list[tuple[IndexEntry, Firing]] = []
    put: list[IndexEntry] = []
    seen: set[str] = set()
    for entry in entries:
        ping_hash = entry.ping_hash
        if ping_hash is None or ping_hash in seen:
            continue
        seen.add(ping_hash)
        state = states.get(ping_hash)
        if state is None or state.deadline_s is None or state.missed:
            continue
        deadline_s = state.deadline_s
        if deadline_s // 60 > minute:
            put.append(_moved(entry, deadline_s))
            continue
        firing = Firing(
            owner=entry.owner,
            timer_id=entry.timer_id,
            version=entry.version,
            scheduled_s=deadline_s,
            raced=True,
            heartbeat=True,
        )
        due.append((entry, firing))
        guard_minute = max(minute + 1, int(read_s + state.allow_s) // 60)
        put.append(_moved(entry, guard_minute * 60 + deadline_s % 60))
    return due, put


def arm(store: TimerStore, timer: Timer, ping_hash: str, deadline_s: int) -> None:
    """Put the heartbeat's item where a ticker will read it: the deadline's minute, or the
    first minute its shard has not claimed after the put (see the module's docstring)."""
    minute = deadline_s // 60
    for _ in range(MAX_ARM_ATTEMPTS):
        fire_s = deadline_s if minute == deadline_s // 60 else minute * 60 + deadline_s % 60
        store.put_successor(heartbeat_entry(timer, ping_hash, fire_s))
        claimed = store.get_shard_state(timer.shard).claimed
        if claimed is None or claimed < minute:
            return
        minute = claimed + 1
    raise StoreError(f"shard {timer.shard}: its claims kept ahead of a heartbeat's item")


class Heartbeats:
    """The ping: ``GET|POST /ping/{token}``, no caller identity, the token is the credential."""

    def __init__(
        self,
        *,
        store: TimerStore,
        clock: Clock,
        run_history_days: int = 30,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._history_days = run_history_days
        self._metrics = metrics or NullMetrics()

    def ping(self, token: str) -> PingResult:
        """Move the heartbeat's deadline to now + period + grace; arm it when it was idle, and
        record a recovery when it had missed its deadline."""
        if not _TOKEN_RE.fullmatch(token):
            raise PingTokenNotFoundError()
        now_s = int(self._clock.now())
        ping_hash = token_hash(token)
        old = self._store.ping_heartbeat(ping_hash, now_s=now_s)
        if old is None:
            raise PingTokenNotFoundError()
        self._metrics.count("HeartbeatPings")
        deadline_s = now_s + old.allow_s
        if old.idle_since_s is not None:
            timer = self._store.get_timer(old.owner, old.timer_id)
            if timer is not None and timer.ping_hash == ping_hash:
                arm(self._store, timer, ping_hash, deadline_s)
                if old.missed:
                    self._record_recovery(timer, old, now_s)
            self._store.clear_heartbeat_idle(ping_hash, idle_since_s=old.idle_since_s)
        return PingResult(status="up", deadline=format_utc(deadline_s), recovered=old.missed)

    def _record_recovery(self, timer: Timer, old: HeartbeatState, now_s: int) -> None:
        self._metrics.count("HeartbeatsRecovered")
        if not records(timer.history or HEARTBEAT_HISTORY, "ok"):
            return
        assert old.deadline_s is not None
        run = Run(
            owner=timer.owner,
            timer_id=timer.id,
            incarnation=timer.created_s,
            firing_id=f"{timer.owner}#{timer.id}@{format_utc(now_s)}~ping",
            scheduled_s=now_s,
            started_s=now_s,
            finished_s=now_s,
            attempt=1,
            outcome="ok",
            summary=f"pinged again, {now_s - old.deadline_s} s after the deadline it missed"
            f" ({format_utc(old.deadline_s)})",
            heartbeat="recovered",
        )
        try:
            self._store.put_run(run, expires_s=now_s + self._history_days * 86400)
        except StoreError:  # history is best effort, as delivery's
            self._metrics.count("RunHistoryWriteFailed")
