"""Placement of timers on shards: a stable hash over the active shards."""

from __future__ import annotations

import hashlib

from timer_service.models import ShardRegistry

__all__ = ["choose_shard"]


def choose_shard(owner: str, timer_id: str, registry: ShardRegistry) -> int:
    """The active shard a new timer goes to; the same answer for the same registry."""
    active = sorted(registry.active)
    digest = hashlib.blake2b(f"{owner}#{timer_id}".encode(), digest_size=8).digest()
    return active[int.from_bytes(digest, "big") % len(active)]
