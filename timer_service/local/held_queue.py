"""Holds firings in process and releases each to the real queue shortly before it is due.

For the local stack only: moto's SQS slows down sharply as delayed messages pile up (a batch
send takes ~0.6 s with 1,000 queued), so the dispatch queue is kept near empty. In AWS the
ticker sends straight to SQS with per-message delays.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Sequence

from timer_service.clock import Clock
from timer_service.dispatch import DispatchError, DispatchQueue, Firing

__all__ = ["HeldDispatchQueue"]

logger = logging.getLogger(__name__)


class HeldDispatchQueue:
    """A DispatchQueue that forwards each firing ``release_ahead_s`` before its time."""

    def __init__(self, inner: DispatchQueue, *, clock: Clock, release_ahead_s: float = 0.3) -> None:
        self._inner = inner
        self._clock = clock
        self._ahead = release_ahead_s
        self._heap: list[tuple[int, int, Firing]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._release_loop, daemon=True, name="held-queue")

    def start(self) -> HeldDispatchQueue:
        self._thread.start()
        return self

    def send(self, firings: Sequence[Firing]) -> None:
        horizon_s = self._clock.now() + self._ahead
        due = []
        with self._changed:
            for firing in firings:
                if firing.scheduled_s <= horizon_s:
                    due.append(firing)
                else:
                    heapq.heappush(self._heap, (firing.scheduled_s, next(self._order), firing))
            self._changed.notify()
        if due:
            self._inner.send(due)

    @property
    def held(self) -> int:
        with self._changed:
            return len(self._heap)

    def stop(self) -> list[Firing]:
        """Stop releasing; the firings still held, for the caller to keep (they are past the
        shard's ``done`` watermark, so no tick will send them again)."""
        with self._changed:
            self._stopping = True
            rest = [firing for _, _, firing in sorted(self._heap)]
            self._heap.clear()
            self._changed.notify()
        self._thread.join(timeout=5)
        return rest

    def _release_loop(self) -> None:
        while True:
            with self._changed:
                if self._stopping:
                    return
                if not self._heap:
                    self._changed.wait(timeout=1.0)
                    continue
                wait_s = self._heap[0][0] - self._ahead - self._clock.now()
                if wait_s > 0:
                    self._changed.wait(timeout=min(wait_s, 1.0))
                    continue
                horizon = self._clock.now() + self._ahead
                batch = []
                while self._heap and self._heap[0][0] <= horizon:
                    batch.append(heapq.heappop(self._heap)[2])
            try:
                self._inner.send(batch)
            except DispatchError:
                logger.exception("releasing %d firings failed; they are held again", len(batch))
                with self._changed:
                    for firing in batch:
                        heapq.heappush(self._heap, (firing.scheduled_s, next(self._order), firing))
