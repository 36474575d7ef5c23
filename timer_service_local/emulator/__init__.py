"""The local stack's AWS endpoint: moto in a process of its own, every change journaled.

``python -m timer_service_local.emulator --state-dir DIR`` serves DynamoDB, SQS, S3 (and the
rest of moto) on 127.0.0.1 and keeps DynamoDB items, queued messages and S3 objects in ``DIR``:

- every change is a record in ``emulator.journal`` (:mod:`timer_service_local.journal`): the
  resulting item (a transaction's items on one line), a message sent, deleted or moved to a
  dead-letter queue, an object written, or a call that defines a table, queue or bucket; the
  record is on disk before the request that made it is answered;
- ``emulator.snapshot`` holds the same records for the whole state; on start the snapshot and
  then the journal are replayed, a fresh snapshot is written and the journal starts over (also
  whenever it grows past ``COMPACT_AT_BYTES``);
- TTL is honoured: expired items are deleted every ``TTL_SWEEP_S``.

What is not kept: receipt handles and visibility (every message is visible again after a
restart; a message received but not yet deleted is delivered again) and moto features this
service does not use. The process exits when its standard input closes, so it never outlives
the stack that started it; :class:`EmulatorProcess` starts and stops it.

The modules: :mod:`.records` (a change as a record, and the state records add up to),
:mod:`.capture` (the wrappers on moto that record each change), :mod:`.backends` (moto's
backends from records and back), :mod:`.persistence` (journal, restore, compaction),
:mod:`.ttl` (the TTL sweep), :mod:`.server` (the process's entry point) and :mod:`.process`
(the stack's handle on that process).
"""

from __future__ import annotations

from timer_service_local.emulator.persistence import Persistence, StateInUseError
from timer_service_local.emulator.process import EmulatorProcess
from timer_service_local.emulator.server import main

__all__ = ["EmulatorProcess", "Persistence", "StateInUseError", "main"]
