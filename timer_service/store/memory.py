"""A dict-backed TimerStore with the DynamoDB adapter's semantics, for tests and simulation."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from timer_service.errors import VersionConflictError
from timer_service.keys import IndexKey
from timer_service.models import ShardRegistry, Timer
from timer_service.time_index import IndexEntry

__all__ = ["InMemoryTimerStore"]


class InMemoryTimerStore:
    """TimerStore in process memory; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.timers: dict[tuple[str, str], Timer] = {}
        self.index: dict[str, dict[str, IndexEntry]] = {}
        self._registry = ShardRegistry()
        self.writes = 0  # write requests made: what a cost model counts

    def get_timer(self, owner: str, timer_id: str) -> Timer | None:
        with self._lock:
            return self.timers.get((owner, timer_id))

    def save_timer(
        self,
        timer: Timer,
        *,
        expected_version: int | None,
        remove: Sequence[IndexKey],
        index: IndexEntry | None,
    ) -> None:
        with self._lock:
            self._check_version(timer.owner, timer.id, expected_version)
            self.timers[(timer.owner, timer.id)] = timer
            for key in remove:
                self._drop(key)
            if index is not None:
                self.index.setdefault(index.key.pk, {})[index.key.sk] = index
            self.writes += 1

    def delete_timer(
        self, owner: str, timer_id: str, *, expected_version: int, remove: Sequence[IndexKey]
    ) -> None:
        with self._lock:
            self._check_version(owner, timer_id, expected_version)
            del self.timers[(owner, timer_id)]
            for key in remove:
                self._drop(key)
            self.writes += 1

    def list_timers(
        self, owner: str, *, limit: int, after_id: str | None
    ) -> tuple[list[Timer], str | None]:
        with self._lock:
            ids = sorted(tid for (o, tid) in self.timers if o == owner)
        if after_id is not None:
            ids = [tid for tid in ids if tid > after_id]
        page = [self.timers[(owner, tid)] for tid in ids[:limit]]
        return page, (page[-1].id if len(ids) > limit else None)

    def get_index_entry(self, key: IndexKey) -> IndexEntry | None:
        with self._lock:
            return self.index.get(key.pk, {}).get(key.sk)

    def get_registry(self) -> ShardRegistry:
        return self._registry

    def put_registry(self, registry: ShardRegistry) -> None:
        self._registry = registry

    def _check_version(self, owner: str, timer_id: str, expected: int | None) -> None:
        current = self.timers.get((owner, timer_id))
        actual = None if current is None else current.version
        if actual != expected:
            raise VersionConflictError(timer_id, expected=expected, actual=actual)

    def _drop(self, key: IndexKey) -> None:
        partition = self.index.get(key.pk)
        if partition is not None:
            partition.pop(key.sk, None)
            if not partition:
                del self.index[key.pk]
