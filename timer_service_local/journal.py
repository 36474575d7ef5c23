"""An append-only journal of JSON lines, and atomic file replacement: the local stack's durability.

Each ``append`` writes one line (a whole change: every item of a transaction, every firing a
tick handed over) and ``sync`` makes it durable; concurrent writers share one ``fdatasync``
(group commit), so a change is on disk before the request that made it is answered, at the
cost of about one sync (0.2 ms here) per request. ``read`` keeps every complete line before the
first torn or corrupt one: a crash loses at most the change that was being written, which no
caller had been told was done.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["Journal", "dumps", "loads", "read_journal", "write_atomically"]

logger = logging.getLogger(__name__)

_BYTES = "__bytes__"


def _encode(value: object) -> object:
    if isinstance(value, bytes | bytearray):
        return {_BYTES: base64.b64encode(value).decode()}
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _decode(value: dict[str, Any]) -> object:
    if len(value) == 1 and isinstance(value.get(_BYTES), str):
        return base64.b64decode(value[_BYTES])
    return value


def dumps(record: object) -> bytes:
    """One line of JSON (bytes kept as base64, never a failed write)."""
    return json.dumps(record, separators=(",", ":"), default=_encode).encode() + b"\n"


def loads(line: bytes | str) -> Any:
    return json.loads(line, object_hook=_decode)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old file or the new, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; a no-op where directories cannot open)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """The records of the journal at ``path``, up to the first line that is not whole JSON."""
    if not path.exists():
        return
    with open(path, "rb") as file:
        for number, line in enumerate(file, start=1):
            if not line.endswith(b"\n"):
                logger.warning("%s: dropping a torn last record (line %d)", path, number)
                return
            try:
                record = loads(line)
            except ValueError:
                logger.warning("%s: line %d is corrupt; the journal ends there", path, number)
                return
            yield record


class Journal:
    """Appends records to ``path``; ``sync(ticket)`` returns once that record is durable."""

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._durable = durable
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0  # tickets handed out
        self._synced = 0  # tickets known durable
        self.bytes = os.fstat(self._fd).st_size

    def append(self, record: dict[str, Any]) -> int:
        """Write ``record`` as one line; a ticket for :meth:`sync`."""
        # Callers that need records in the order of their changes call this under their lock.
        line = dumps(record)
        with self._write_lock:
            os.write(self._fd, line)
            self._written += 1
            self.bytes += len(line)
            return self._written

    def sync(self, ticket: int | None = None) -> None:
        """Return once record ``ticket`` (default: every record written so far) is durable."""
        if not self._durable:
            return
        target = self._written if ticket is None else ticket
        if self._synced >= target:
            return
        with self._sync_lock:
            if self._synced >= target:  # a concurrent sync covered it
                return
            upto = self._written
            os.fdatasync(self._fd)
            self._synced = upto

    def write(self, record: dict[str, Any]) -> None:
        """Append and sync."""
        self.sync(self.append(record))

    def replace(self, records: list[dict[str, Any]]) -> None:
        """Start over with exactly ``records`` (compaction), atomically."""
        data = b"".join(dumps(record) for record in records)
        with self._write_lock, self._sync_lock:
            write_atomically(self.path, data)
            os.close(self._fd)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            self.bytes = len(data)
            self._synced = self._written

    def close(self) -> None:
        with self._write_lock, self._sync_lock:
            if self._fd >= 0:
                if self._durable:
                    os.fdatasync(self._fd)
                os.close(self._fd)
                self._fd = -1
