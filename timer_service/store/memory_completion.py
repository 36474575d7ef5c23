"""The completion part of the in-memory store, with the DynamoDB adapter's semantics."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from timer_service.keys import IndexKey
from timer_service.models import Timer

__all__ = ["MemoryCompletion"]


class MemoryCompletion:
    """Completion in process memory (mixed into :class:`InMemoryTimerStore`)."""

    _lock: threading.RLock
    timers: dict[tuple[str, str], Timer]
    job_states: dict[tuple[str, str], Any]
    # Timers deleted on completion: (incarnation, until when their runs are shown).
    completed: dict[tuple[str, str], tuple[int, int]]
    writes: int
    reads: int

    def _drop(self, key: IndexKey) -> None: ...  # the store's

    def _relabel(
        self, owner: str, timer_id: str, old: Mapping[str, str], new: Mapping[str, str]
    ) -> None: ...  # the store's (MemoryLabels)

    def complete_timer(
        self,
        timer: Timer,
        *,
        completed_s: int,
        delete: bool,
        remove: Sequence[IndexKey],
        runs_until_s: int,
    ) -> bool:
        with self._lock:
            current = self.timers.get((timer.owner, timer.id))
            if current is None or current.version != timer.version or current.completed_s:
                return False
            self.writes += 1
            if not delete:
                done = current.model_copy(update={"completed_s": completed_s, "firing_weight": 0})
                self.timers[(timer.owner, timer.id)] = done
                return True
            del self.timers[(timer.owner, timer.id)]
            self._relabel(timer.owner, timer.id, timer.labels, {})
            for key in remove:
                self._drop(key)
            self.job_states.pop((timer.owner, timer.id), None)
            self.completed[(timer.owner, timer.id)] = (current.created_s, runs_until_s)
            return True

    def completed_incarnation(self, owner: str, timer_id: str) -> int | None:
        with self._lock:
            self.reads += 1
            found = self.completed.get((owner, timer_id))
            return None if found is None else found[0]
