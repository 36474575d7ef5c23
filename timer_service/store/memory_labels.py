"""The label items of the in-memory store, with the DynamoDB adapter's semantics: one entry
per (owner, label, timer), changed with the timer's write, listed by id."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from timer_service.keys import label_partition

__all__ = ["MemoryLabels"]


class MemoryLabels:
    """Label items in process memory (mixed into :class:`InMemoryTimerStore`)."""

    _lock: threading.RLock
    reads: int

    def __init__(self) -> None:
        self.labelled: dict[str, set[str]] = {}  # a label's partition -> the ids it holds

    def _relabel(
        self, owner: str, timer_id: str, old: Mapping[str, str], new: Mapping[str, str]
    ) -> None:
        """The timer's label items from ``old`` to ``new`` (under the store's lock)."""
        for key, value in old.items():
            if new.get(key) != value:
                partition = label_partition(owner, key, value)
                ids = self.labelled.get(partition, set())
                ids.discard(timer_id)
                if not ids:
                    self.labelled.pop(partition, None)
        for key, value in new.items():
            self.labelled.setdefault(label_partition(owner, key, value), set()).add(timer_id)

    def list_labelled(
        self, owner: str, key: str, value: str, *, limit: int, after_id: str | None
    ) -> tuple[list[str], str | None]:
        with self._lock:
            self.reads += 1
            ids = sorted(self.labelled.get(label_partition(owner, key, value), ()))
        if after_id is not None:
            ids = [i for i in ids if i > after_id]
        return ids[:limit], (ids[limit - 1] if len(ids) > limit else None)
