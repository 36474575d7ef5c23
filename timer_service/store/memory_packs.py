"""The in-memory store's pack ledger items (:mod:`timer_service.pack_ledger`)."""

from __future__ import annotations

import threading
from dataclasses import replace

from timer_service.pack_ledger import PackClaim, PackRecord, PackRef

__all__ = ["MemoryPacks"]


class MemoryPacks:
    _lock: threading.RLock

    def __init__(self) -> None:
        self.packs: dict[tuple[int, int], dict[str, PackRecord]] = {}
        self.resent: dict[tuple[int, int], set[bytes]] = {}
        self.pack_writes = 0

    def claim_pack(
        self, ref: PackRef, members: bytes, *, token: str, now_s: float, until_s: float
    ) -> PackClaim:
        with self._lock:
            minute = self.packs.setdefault((ref.shard, ref.minute), {})
            before = minute.get(ref.pack_id)
            if before is not None and before.held(now_s):
                return PackClaim(False, before)
            self.pack_writes += 1
            base = before or PackRecord(ref, members)
            minute[ref.pack_id] = replace(
                base, members=base.members or members, token=token, lease_until_s=until_s
            )
            return PackClaim(True, before)

    def take_pack_member(self, ref: PackRef, position: int, *, now_s: float) -> bool:
        with self._lock:
            self.pack_writes += 1
            minute = self.packs.setdefault((ref.shard, ref.minute), {})
            record = minute.get(ref.pack_id) or PackRecord(ref, b"")
            if record.held(now_s) and position not in record.handed:
                return False
            minute[ref.pack_id] = replace(record, handed=record.handed | {position})
            return True

    def record_pack(self, ref: PackRef, *, ran: set[int], handed: set[int]) -> None:
        with self._lock:
            minute = self.packs.setdefault((ref.shard, ref.minute), {})
            record = minute.get(ref.pack_id) or PackRecord(ref, b"")
            self.pack_writes += 1
            minute[ref.pack_id] = replace(
                record, ran=record.ran | ran, handed=record.handed | handed
            )

    def get_pack(self, ref: PackRef) -> PackRecord | None:
        with self._lock:
            return self.packs.get((ref.shard, ref.minute), {}).get(ref.pack_id)

    def mark_resent(self, shard: int, minute: int, member: bytes, *, now_s: int) -> None:
        with self._lock:
            self.pack_writes += 1
            self.resent.setdefault((shard, minute), set()).add(member)

    def resent_marks(self, shard: int, minute: int) -> set[bytes]:
        with self._lock:
            return set(self.resent.get((shard, minute), ()))

    def packs_of(self, shard: int, minute: int) -> list[PackRecord]:
        with self._lock:
            return list(self.packs.get((shard, minute), {}).values())
