"""The in-memory store's change log of its timers (:mod:`timer_service.change_log`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

__all__ = ["MemoryChanges"]


class MemoryChanges:
    _lock: threading.RLock

    def __init__(self) -> None:
        self.changes: dict[int, list[tuple[int, str, str]]] = {}
        self.change_reads = 0

    def record_changes(self, shards: Sequence[int], owner: str, timer_id: str, now_s: int) -> None:
        with self._lock:
            for shard in set(shards):
                self.changes.setdefault(shard, []).append((now_s, owner, timer_id))

    def changes_since(self, shard: int, since_s: int) -> dict[tuple[str, str], int]:
        with self._lock:
            self.change_reads += 1
            found: dict[tuple[str, str], int] = {}
            for second, owner, timer_id in self.changes.get(shard, ()):
                if second >= since_s:
                    key = (owner, timer_id)
                    found[key] = max(second, found.get(key, second))
            return found
