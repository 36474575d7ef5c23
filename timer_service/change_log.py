"""Each shard's log of writes to its timers: what delivery checks a timer's copy against.

A firing the ticker sent carries its timer's definition as the ticker read it from the index
(:mod:`timer_service.snapshots`) and the second of that read. Every write of an existing timer
(a replace, a pause or resume, a relabelling, a delete, a move between shards, a completion
that deletes) first records the timer and its second in its shard's log; delivery reads the log
once for the firings of a pack, strongly consistent, at their second. A firing whose timer is in
the log from a second before its read on is delivered as before, from a strong read of the
timer; the others run from their copy. So nothing runs after a DELETE or pause returned, and a
replaced timer's firings carry its new definition, as when every firing read its timer.

Entries are kept ``KEEP_S``; a firing older than ``TRUST_S`` when delivered (held over a long
jitter or pacing wait) reads its timer, as do retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = [
    "CLOCK_SLACK_S",
    "KEEP_S",
    "TRUST_S",
    "VALIDATE_S",
    "WRITE_WINDOW_S",
    "ChainCopies",
    "change_partition",
    "change_sort_key",
    "note_write",
]

KEEP_S = 3600  # an entry's life (DynamoDB's TTL removes it later still)
TRUST_S = 1200  # a copy older than this when delivered is not trusted: the timer is read
CLOCK_SLACK_S = 5  # between the ticker's clock and the API's: a write this close counts
# A write noted at ``now_s`` commits before ``now_s + WRITE_WINDOW_S``: it is made within its
# function's run (the API's 29 s, the callbacks' 3 minutes), so it is noted at that second, and a
# copy read while a slow write was under way is not trusted either.
WRITE_WINDOW_S = 190
VALIDATE_S = 3000  # a ticker checks the copies of chain items this old at most (< KEEP_S)


class _Reader(Protocol):
    def changes_since(self, shard: int, since_s: int) -> dict[tuple[str, str], int]: ...


class _Item(Protocol):
    @property
    def owner(self) -> str: ...
    @property
    def timer_id(self) -> str: ...
    @property
    def copy_s(self) -> int | None: ...


class _Log(Protocol):
    def record_changes(
        self, shards: Sequence[int], owner: str, timer_id: str, now_s: int
    ) -> None: ...


def note_write(store: _Log, shards: Sequence[int], owner: str, timer_id: str, now_s: int) -> None:
    """Before writing the timer: its shards' logs hold it until the write has surely landed."""
    store.record_changes(shards, owner, timer_id, now_s + WRITE_WINDOW_S)


def change_partition(shard: int) -> str:
    return f"chg#{shard}"


def change_sort_key(second: int, owner: str, timer_id: str) -> str:
    return f"{second:011d}#{owner}#{timer_id}"


class ChainCopies:
    """Whether a chain item's copy (one a ticker wrote: ``copy_s`` set) still holds: no write
    of its timer in the shard's change log since it was known good. One log read a tick, made
    when the first such item is met."""

    def __init__(self, store: _Reader, shard: int, read_s: int) -> None:
        self._store = store
        self._shard = shard
        self._read_s = read_s
        self._changes: dict[tuple[str, str], int] | None = None

    def ok(self, entry: _Item) -> bool:
        if entry.copy_s is None:  # written with the timer: its being read is the proof
            return True
        if entry.copy_s < self._read_s - VALIDATE_S:
            return False
        if self._changes is None:
            self._changes = self._store.changes_since(
                self._shard, self._read_s - VALIDATE_S - CLOCK_SLACK_S
            )
        written_s = self._changes.get((entry.owner, entry.timer_id))
        return written_s is None or written_s < entry.copy_s - CLOCK_SLACK_S
