"""The timers a batch of firings needs, read at their firings' seconds, and a timer's job state.

The read of a timer is delivery's check that its firing is still wanted
(:mod:`timer_service.delivery`): made strongly consistent at or after the firing's second, once
for the firings of a batch that are due together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from timer_service.change_log import CLOCK_SLACK_S, TRUST_S
from timer_service.clock import Clock
from timer_service.firing import Firing
from timer_service.models import Timer
from timer_service.snapshots import timer_from_snapshot
from timer_service.store.base import TimerStore

__all__ = ["MAX_EARLY_WAIT_S", "StoredJobState", "TimerReads"]

MAX_EARLY_WAIT_S = 2.0  # a message may arrive up to a second early: wait it out


class StoredJobState:
    """A timer's job state in the timer store (see :class:`timer_service.job_types.JobState`)."""

    def __init__(self, store: TimerStore, owner: str, timer_id: str) -> None:
        self._store = store
        self._owner = owner
        self._timer_id = timer_id

    def load(self) -> dict[str, Any] | None:
        return self._store.get_job_state(self._owner, self._timer_id)

    def save(self, state: dict[str, Any]) -> None:
        self._store.put_job_state(self._owner, self._timer_id, state)


class TimerReads:
    """The timers of a batch's firings, each read strongly consistent at or after its
    firing's second: firings due together share one batched read."""

    def __init__(
        self,
        store: TimerStore,
        clock: Clock,
        sleep: Callable[[float], None],
        firings: Sequence[Firing],
    ) -> None:
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._firings = list(firings)
        self._timers: dict[tuple[str, str], Timer] = {}
        self._read_at_s: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self.reads = 0  # batched reads made
        self.log_reads = 0  # change-log reads made
        self.copies = 0  # firings run from their copy of the timer
        self._logs: dict[int, tuple[int, int, dict[tuple[str, str], int]]] = {}
        self._uncopied: set[tuple[str, str]] = set()
        self._judged: dict[str, Timer | None] = {}  # by firing id: its copy, or None
        # firings with copies not judged yet, the soonest due last
        self._pending = sorted(
            (f for f in self._firings if f.snapshot is not None),
            key=lambda f: f.due_s,
            reverse=True,
        )

    def timer_for(self, firing: Firing, *, attempt: int = 1) -> Timer | None:
        """Wait for the firing's second (if it is at most MAX_EARLY_WAIT_S away), then its
        timer as it is now; None when deleted. A first attempt of a firing the ticker sent
        with its timer's copy runs from the copy unless the shard's change log shows a write
        of the timer since the ticker read it (timer_service.change_log)."""
        wait_s = firing.due_s - self._clock.now()
        if 0 < wait_s <= MAX_EARLY_WAIT_S:
            self._sleep(wait_s)
        with self._lock:  # a pack's firings run at once: the first reads for all of them
            self._judge_due_copies()  # those found wanting are read together, below
            copy = self._trusted_copy(firing, attempt)
            if copy is not None:
                return copy
            self._uncopied.add((firing.owner, firing.timer_id))
            if self._needs_read(firing, self._clock.now()):
                self._read_due()
            return self._timers.get((firing.owner, firing.timer_id))

    def _judge_due_copies(self) -> None:
        """Judge the copies of every firing of the batch due by now, once each."""
        now_s = self._clock.now()
        while self._pending and self._pending[-1].due_s <= now_s:  # each firing once
            other = self._pending.pop()
            if other.firing_id in self._judged:
                continue
            self._judged[other.firing_id] = copy = self._judge(other)
            if copy is None:
                self._uncopied.add((other.owner, other.timer_id))

    def _trusted_copy(self, firing: Firing, attempt: int) -> Timer | None:
        if attempt != 1:
            return None
        if firing.firing_id not in self._judged:
            self._judged[firing.firing_id] = self._judge(firing)
        copy = self._judged[firing.firing_id]
        if copy is not None:
            self.copies += 1
        return copy

    def _judge(self, firing: Firing) -> Timer | None:
        """The firing's copy of its timer, if nothing wrote the timer since it was taken."""
        if firing.snapshot is None or firing.snap_s is None:
            return None
        if firing.shard is None or firing.incarnation is None:
            return None
        if firing.raced or firing.manual or firing.backfill or firing.heartbeat:
            return None
        if firing.last or firing.complete_only:  # completion writes at the timer's version
            return None
        now_s = self._clock.now()
        if now_s - firing.snap_s > TRUST_S or firing.due_s > now_s:
            return None
        try:
            timer = timer_from_snapshot(
                firing.snapshot,
                firing.owner,
                firing.timer_id,
                shard=firing.shard,
                created_s=firing.incarnation,
            )
        except ValueError:  # a copy this code cannot read (written by another release)
            return None
        if timer.firing_version != firing.version:
            return None
        since_s = firing.snap_s - CLOCK_SLACK_S
        changes = self._changes(firing.shard, since_s, now_s)
        if changes.get((firing.owner, firing.timer_id), since_s - 1) >= since_s:
            return None  # written since: read it
        return timer

    def _changes(self, shard: int, since_s: int, now_s: float) -> dict[tuple[str, str], int]:
        """The shard's log from ``since_s``, read at or after ``now_s``'s second: once for
        the firings of a pack (a minute earlier than asked, for the rest of its tick's)."""
        cached = self._logs.get(shard)
        if cached is not None and cached[0] <= since_s and cached[1] >= int(now_s):
            return cached[2]
        from_s = since_s - 60
        changes = self._store.changes_since(shard, from_s)
        self.log_reads += 1
        self._logs[shard] = (from_s, int(self._clock.now()), changes)
        return changes

    def _needs_read(self, firing: Firing, now_s: float) -> bool:
        """Not read since the firing became due; a firing too far ahead to be waited for
        (a skewed clock) counts as due now."""
        read_at_s = self._read_at_s.get((firing.owner, firing.timer_id))
        if firing.due_s - now_s > MAX_EARLY_WAIT_S:
            return read_at_s is None
        return firing.due_s <= now_s and (read_at_s is None or read_at_s < firing.due_s)

    def _read_due(self) -> None:
        now_s = self._clock.now()
        due = {
            (f.owner, f.timer_id)
            for f in self._firings
            if self._needs_read(f, now_s)
            and (f.snapshot is None or (f.owner, f.timer_id) in self._uncopied)
        }  # a firing with a copy is read only once the copy was found wanting
        found = self._store.get_timers(sorted(due))
        self.reads += 1
        for key in due:
            self._read_at_s[key] = now_s
            if key in found:
                self._timers[key] = found[key]
            else:
                self._timers.pop(key, None)
