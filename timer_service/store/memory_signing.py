"""An owner's webhook signing secrets in the in-memory store, with the DynamoDB adapter's
semantics (one record, replaced only from the version it was read at)."""

from __future__ import annotations

import threading

from timer_service.signing_secrets import OwnerSecrets

__all__ = ["MemorySigningSecrets"]


class MemorySigningSecrets:
    """Signing secrets in process memory (mixed into :class:`InMemoryTimerStore`)."""

    _lock: threading.RLock
    signing_secrets: dict[str, OwnerSecrets]
    writes: int
    reads: int

    def get_signing_secrets(self, owner: str) -> OwnerSecrets:
        with self._lock:
            self.reads += 1
            return self.signing_secrets.get(owner) or OwnerSecrets(owner)

    def put_signing_secrets(self, secrets: OwnerSecrets, *, expected_version: int) -> bool:
        with self._lock:
            stored = self.signing_secrets.get(secrets.owner)
            if (0 if stored is None else stored.version) != expected_version:
                return False
            self.signing_secrets[secrets.owner] = secrets
            self.writes += 1
            return True
