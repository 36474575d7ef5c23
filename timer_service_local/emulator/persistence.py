"""The emulator's state directory: one journal line per request, the snapshot, the lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from timer_service_local.emulator.backends import dump, restore
from timer_service_local.emulator.records import CREATES, DELETES, State, append_call
from timer_service_local.journal import Journal, dumps, read_journal

__all__ = ["COMPACT_AT_BYTES", "Persistence", "StateInUseError"]

JOURNAL_FILE = "emulator.journal"
SNAPSHOT_FILE = "emulator.snapshot"
LOCK_FILE = "emulator.lock"
SNAPSHOT_FORMAT = 1
COMPACT_AT_BYTES = 32 * 1024 * 1024


class StateInUseError(RuntimeError):
    """Another emulator holds the state directory."""


class Persistence:
    """Journals every change moto makes while active; replays and compacts ``state_dir``."""

    def __init__(self, state_dir: Path, *, durable: bool = True) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = state_dir
        self._lock_file = open(state_dir / LOCK_FILE, "w")  # noqa: SIM115  (held for life)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock_file.close()
            raise StateInUseError(
                f"{state_dir} is in use by another local stack (stop it, or pass another "
                "--state-dir)"
            ) from exc
        self.lock = threading.RLock()  # one change at a time, recorded in the order applied
        self.journal = Journal(state_dir / JOURNAL_FILE, durable=durable)
        self.calls: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
        self._local = threading.local()
        self.restored: dict[str, int] = {}

    # --- recording ------------------------------------------------------------------------

    @contextlib.contextmanager
    def change(self) -> Iterator[None]:
        """One request: its records go on one line, durable before the request is answered."""
        if getattr(self._local, "records", None) is not None:  # nested: the outer one writes
            yield
            return
        with self.lock:
            self._local.records = []
            try:
                yield
            except BaseException:
                self._local.records = None
                raise
            records, self._local.records = self._local.records, None
            ticket = self._append(records) if records else None
        if ticket is not None:
            self.journal.sync(ticket)
            if self.journal.bytes > COMPACT_AT_BYTES:
                threading.Thread(target=self.compact, daemon=True).start()

    def record(self, record: dict[str, Any]) -> None:
        records = getattr(self._local, "records", None)
        if records is None:  # outside a request (a move to a dead-letter queue): a line of its own
            with self.lock:
                ticket = self._append([record])
            self.journal.sync(ticket)
        else:
            records.append(record)

    def _append(self, records: list[dict[str, Any]]) -> int:
        for record in records:
            if "c" in record:
                self._track(record)
        return self.journal.append({"r": records})

    def _track(self, record: dict[str, Any]) -> None:
        service, method = record["c"].split(".")
        resource = (service, record["a"], record["r"], record["n"])
        if method in DELETES:
            self.calls.pop(resource, None)
        elif method in CREATES:
            self.calls.setdefault(resource, [record])
        elif resource in self.calls and method != "purge_queue":
            append_call(self.calls[resource], record)

    @property
    def in_send(self) -> bool:
        return bool(getattr(self._local, "in_send", False))

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        """A message being sent: the queue's add_message it calls is not a dead-letter move."""
        self._local.in_send = True
        try:
            yield
        finally:
            self._local.in_send = False

    # --- start and compaction -------------------------------------------------------------

    def load(self) -> State:
        """The saved state: the snapshot, then the journal after it."""
        state = State()
        for path in (self.state_dir / SNAPSHOT_FILE, self.state_dir / JOURNAL_FILE):
            for line in read_journal(path):
                if "format" in line:
                    if line["format"] != SNAPSHOT_FORMAT:
                        raise ValueError(f"{path}: unknown format {line['format']!r}")
                    continue
                for record in line["r"]:
                    state.apply(record)
        return state

    def restore(self) -> dict[str, int]:
        """Load the saved state into moto, then compact; the counts restored."""
        state = self.load()
        restore(state)
        self.calls = dict(state.calls)
        self.restored = state.counts()
        self.compact()
        return self.restored

    def compact(self) -> None:
        """A snapshot of the current state; the journal starts over."""
        with self.lock:
            if self.journal.bytes == 0 and (self.state_dir / SNAPSHOT_FILE).exists():
                return
            path = self.state_dir / SNAPSHOT_FILE
            partial = path.with_name(path.name + ".partial")
            with open(partial, "wb") as file:
                file.write(dumps({"format": SNAPSHOT_FORMAT, "at": time.time()}))
                batch: list[dict[str, Any]] = []
                for record in dump(self.calls):
                    batch.append(record)
                    if len(batch) == 100:
                        file.write(dumps({"r": batch}))
                        batch = []
                if batch:
                    file.write(dumps({"r": batch}))
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, path)
            # A crash here replays the old journal over the new snapshot: the same end state.
            self.journal.replace([])

    def close(self) -> None:
        self.journal.close()
        self._lock_file.close()
