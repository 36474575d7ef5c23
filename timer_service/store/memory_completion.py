"""A timer's history in the in-memory store (runs, job state, completion, its failing streak
and run marks), with the DynamoDB adapter's semantics."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from timer_service.keys import IndexKey
from timer_service.models import Timer
from timer_service.runs import Run
from timer_service.store.base import decode_job_state, encode_job_state

__all__ = ["MemoryCompletion"]


class MemoryCompletion:
    """Completion in process memory (mixed into :class:`InMemoryTimerStore`)."""

    _lock: threading.RLock
    timers: dict[tuple[str, str], Timer]
    job_states: dict[tuple[str, str], Any]
    # Timers deleted on completion: (incarnation, until when their runs are shown).
    completed: dict[tuple[str, str], tuple[int, int]]
    runs: dict[tuple[str, str], dict[str, Run]]
    running: dict[tuple[str, str], tuple[str, int]]  # overlap: skip: (firing id, until)
    writes: int
    reads: int

    def _drop(self, key: IndexKey) -> None: ...  # the store's

    def _forget_feed(self, owner: str, timer_id: str) -> None: ...  # the store's (MemoryFeeds)

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
            self._forget_feed(timer.owner, timer.id)
            for key in remove:
                self._drop(key)
            self.job_states.pop((timer.owner, timer.id), None)
            self.completed[(timer.owner, timer.id)] = (current.created_s, runs_until_s)
            return True

    def record_failure(self, timer: Timer) -> int | None:
        with self._lock:
            current = self._at_version(timer)
            if current is None:
                return None
            self.writes += 1
            failures = current.failures + 1
            self.timers[(timer.owner, timer.id)] = current.model_copy(update={"failures": failures})
            return failures

    def clear_failures(self, timer: Timer, *, failures: int) -> bool:
        with self._lock:
            current = self._at_version(timer)
            if current is None or current.failures != failures:
                return False
            self.writes += 1
            self.timers[(timer.owner, timer.id)] = current.model_copy(update={"failures": 0})
            return True

    def claim_run(self, timer: Timer, firing_id: str, *, now_s: int, until_s: int) -> bool:
        with self._lock:
            self.writes += 1
            key = (timer.owner, timer.id)
            holder = self.running.get(key)
            if self._at_version(timer) is None:
                return False
            if holder is not None and holder[0] != firing_id and holder[1] >= now_s:
                return False
            self.running[key] = (firing_id, until_s)
            return True

    def release_run(self, timer: Timer, firing_id: str) -> None:
        with self._lock:
            key = (timer.owner, timer.id)
            if self.running.get(key, ("",))[0] == firing_id:
                self.writes += 1
                del self.running[key]

    def _at_version(self, timer: Timer) -> Timer | None:
        current = self.timers.get((timer.owner, timer.id))
        return current if current is not None and current.version == timer.version else None

    def completed_incarnation(self, owner: str, timer_id: str) -> int | None:
        with self._lock:
            self.reads += 1
            found = self.completed.get((owner, timer_id))
            return None if found is None else found[0]

    def put_run(self, run: Run, *, expires_s: int) -> None:
        with self._lock:
            self.runs.setdefault((run.owner, run.timer_id), {})[run.sort_key] = run
            self.writes += 1

    def list_runs(
        self, owner: str, timer_id: str, *, incarnation: int, limit: int, before: str | None
    ) -> tuple[list[Run], str | None]:
        with self._lock:
            self.reads += 1
            prefix = f"{incarnation:010d}#"
            keys = sorted(
                (k for k in self.runs.get((owner, timer_id), {}) if k.startswith(prefix)),
                reverse=True,
            )
            if before is not None:
                keys = [k for k in keys if k < before]
            page = [self.runs[(owner, timer_id)][k] for k in keys[:limit]]
        return page, (page[-1].sort_key if len(keys) > limit else None)

    def get_job_state(self, owner: str, timer_id: str) -> dict[str, Any] | None:
        with self._lock:
            self.reads += 1
            blob = self.job_states.get((owner, timer_id))
        return None if blob is None else decode_job_state(blob)

    def put_job_state(self, owner: str, timer_id: str, state: dict[str, Any]) -> None:
        blob = encode_job_state(state)
        with self._lock:
            self.job_states[(owner, timer_id)] = blob
            self.writes += 1
