"""Placement of timers on shards: a stable hash over the active shards."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from timer_service.models import ShardRegistry

if TYPE_CHECKING:
    from timer_service.store.base import TimerStore

__all__ = ["choose_shard", "set_shard_count"]


def choose_shard(owner: str, timer_id: str, registry: ShardRegistry) -> int:
    """The active shard a new timer goes to; the same answer for the same registry."""
    active = sorted(registry.active)
    digest = hashlib.blake2b(f"{owner}#{timer_id}".encode(), digest_size=8).digest()
    return active[int.from_bytes(digest, "big") % len(active)]


def set_shard_count(store: TimerStore, shards: int) -> tuple[int, ...]:
    """Shards 0..N-1 active; the others drain (they keep ticking). The draining ones, as now."""
    current = store.get_registry()
    active = tuple(range(shards))
    draining = tuple(n for n in current.all if n not in active)
    if current.active != active or current.draining != draining:
        store.put_registry(ShardRegistry(active=active, draining=draining))
    return draining
