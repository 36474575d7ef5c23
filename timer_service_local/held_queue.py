"""Holds firings in process and releases each to the real queue shortly before it is due.

For the local stack only: moto's SQS slows down sharply as delayed messages pile up (a batch
send takes ~0.6 s with 1,000 queued), so the dispatch queue is kept near empty. In AWS the
ticker sends straight to SQS with per-message delays.

With a journal, holding is durable: ``send`` returns once the held firings are on disk (the
tick marks its minute done only after that), and each release is recorded once the queue has
taken the firings. After a crash, :meth:`HeldDispatchQueue.start` takes back every firing
held and not released, passing them through ``recover`` (the local stack applies each timer's
misfire policy there) before holding them again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from timer_service.clock import Clock
from timer_service.dispatch import DispatchError, DispatchQueue, Firing
from timer_service_local.journal import Journal, read_journal

__all__ = ["HeldDispatchQueue", "held_firings"]

logger = logging.getLogger(__name__)

COMPACT_AT_BYTES = 8 * 1024 * 1024


def held_firings(path: Path) -> list[Firing]:
    """The firings a journal at ``path`` holds: sent by a tick and not yet released."""
    held: dict[int, str] = {}
    for record in read_journal(path):
        for number, message in record.get("h", []):
            held[number] = message
        for number in record.get("r", []):
            held.pop(number, None)
    return [Firing.from_message(message) for _, message in sorted(held.items())]


class HeldDispatchQueue:
    """A DispatchQueue that forwards each firing ``release_ahead_s`` before its time."""

    def __init__(
        self,
        inner: DispatchQueue,
        *,
        clock: Clock,
        release_ahead_s: float = 0.3,
        journal: Path | None = None,
        recover: Callable[[list[Firing]], list[Firing]] | None = None,
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._ahead = release_ahead_s
        self._heap: list[tuple[int, int, Firing]] = []
        self._numbers = itertools.count(1)
        self._changed = threading.Condition()
        self._releasing = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._release_loop, daemon=True, name="held-queue")
        self._journal_path = journal
        self._journal: Journal | None = None
        self._recover = recover
        self.recovered = 0  # firings taken back from the journal at start

    def start(self) -> HeldDispatchQueue:
        if self._journal_path is not None:
            firings = held_firings(self._journal_path)
            self.recovered = len(firings)
            if self._recover is not None and firings:
                firings = self._recover(firings)
            with self._changed:
                for firing in firings:
                    heapq.heappush(self._heap, (firing.due_s, next(self._numbers), firing))
                self._journal = Journal(self._journal_path)
                self._journal.replace([self._snapshot()])
        self._thread.start()
        return self

    def send(self, firings: Sequence[Firing]) -> None:
        horizon_s = self._clock.now() + self._ahead
        due = [firing for firing in firings if firing.due_s <= horizon_s]
        later = [firing for firing in firings if firing.due_s > horizon_s]
        if due:
            self._inner.send(due)
        if not later:
            return
        with self._changed:
            entries = [(firing.due_s, next(self._numbers), firing) for firing in later]
            ticket = None
            if self._journal is not None:
                ticket = self._journal.append(
                    {"h": [[number, firing.to_message()] for _, number, firing in entries]}
                )
            for entry in entries:
                heapq.heappush(self._heap, entry)
            self._changed.notify()
        if ticket is not None and self._journal is not None:
            self._journal.sync(ticket)  # durable before the tick marks its minute done

    @property
    def held(self) -> int:
        with self._changed:
            return len(self._heap)

    def stop(self) -> list[Firing]:
        """Stop releasing; the firings still held (kept in the journal, when there is one)."""
        with self._changed:
            self._stopping = True
            rest = [firing for _, _, firing in sorted(self._heap)]
            self._changed.notify()
        self._thread.join(timeout=5)
        with self._changed:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
        return rest

    def _snapshot(self) -> dict[str, list[list[object]]]:
        return {"h": [[number, firing.to_message()] for _, number, firing in sorted(self._heap)]}

    def release_due(self) -> int:
        """Hand the queue every firing due within ``release_ahead_s`` of now; how many. The
        release thread calls it as firings fall due; a caller that moved the clock may too:
        when it returns, what was due is on the queue and recorded as released."""
        with self._releasing:  # one release at a time, whole: taken, sent, recorded
            with self._changed:
                horizon = self._clock.now() + self._ahead
                batch = []
                while self._heap and self._heap[0][0] <= horizon:
                    batch.append(heapq.heappop(self._heap))
            if not batch:
                return 0
            try:
                self._inner.send([firing for _, _, firing in batch])
            except DispatchError:
                logger.exception("releasing %d firings failed; they are held again", len(batch))
                with self._changed:
                    for entry in batch:
                        heapq.heappush(self._heap, entry)
                return 0
            with self._changed:
                if self._journal is not None:  # the queue has them now (a lost record: resent)
                    self._journal.append({"r": [number for _, number, _ in batch]})
                    if self._journal.bytes > COMPACT_AT_BYTES:
                        self._journal.replace([self._snapshot()])
            return len(batch)

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
            self.release_due()
