"""The timers a batch of firings needs, read at their firings' seconds, and a timer's job state.

The read of a timer is delivery's check that its firing is still wanted
(:mod:`timer_service.delivery`): made strongly consistent at or after the firing's second, once
for the firings of a batch that are due together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from timer_service.clock import Clock
from timer_service.firing import Firing
from timer_service.models import Timer
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

    def timer_for(self, firing: Firing) -> Timer | None:
        """Wait for the firing's second (if it is at most MAX_EARLY_WAIT_S away), then its
        timer as it is now; None when deleted."""
        wait_s = firing.due_s - self._clock.now()
        if 0 < wait_s <= MAX_EARLY_WAIT_S:
            self._sleep(wait_s)
        with self._lock:  # a pack's firings run at once: the first reads for all of them
            if self._needs_read(firing, self._clock.now()):
                self._read_due()
            return self._timers.get((firing.owner, firing.timer_id))

    def _needs_read(self, firing: Firing, now_s: float) -> bool:
        """Not read since the firing became due; a firing too far ahead to be waited for
        (a skewed clock) counts as due now."""
        read_at_s = self._read_at_s.get((firing.owner, firing.timer_id))
        if firing.due_s - now_s > MAX_EARLY_WAIT_S:
            return read_at_s is None
        return firing.due_s <= now_s and (read_at_s is None or read_at_s < firing.due_s)

    def _read_due(self) -> None:
        now_s = self._clock.now()
        due = {(f.owner, f.timer_id) for f in self._firings if self._needs_read(f, now_s)}
        found = self._store.get_timers(sorted(due))
        self.reads += 1
        for key in due:
            self._read_at_s[key] = now_s
            if key in found:
                self._timers[key] = found[key]
            else:
                self._timers.pop(key, None)
