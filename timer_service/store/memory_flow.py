"""Flow control's slots and rates in the in-memory store, with the DynamoDB adapter's
semantics."""

from __future__ import annotations

import threading

__all__ = ["MemoryFlow"]


class MemoryFlow:
    """Slots and rates in process memory (mixed into :class:`InMemoryTimerStore`)."""

    _lock: threading.RLock
    writes: int
    slots: dict[tuple[str, str], dict[str, int]]  # (owner, key) -> holder -> until
    rates: dict[tuple[str, str, int], int]  # (owner, key, second) -> runs started

    def acquire_slot(
        self, owner: str, key: str, holder: str, *, limit: int, now_s: int, until_s: int
    ) -> bool:
        with self._lock:
            holders = self.slots.setdefault((owner, key), {})
            self.writes += 1
            if holder not in holders and len(holders) >= limit:
                for expired in [h for h, until in holders.items() if until < now_s]:
                    del holders[expired]
                if len(holders) >= limit:
                    return False
            holders[holder] = until_s
            return True

    def release_slot(self, owner: str, key: str, holder: str) -> None:
        with self._lock:
            self.writes += 1
            self.slots.get((owner, key), {}).pop(holder, None)

    def take_rate(self, owner: str, key: str, second: int, *, limit: int, count: int = 1) -> bool:
        with self._lock:
            self.writes += 1
            taken = self.rates.get((owner, key, second), 0)
            if taken + count > limit:
                return False
            self.rates[(owner, key, second)] = taken + count
            return True
