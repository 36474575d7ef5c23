"""The construct's numeric props, checked before anything is built (a clear ValueError naming
the prop, not a failed deploy)."""

from __future__ import annotations

from collections.abc import Sequence

from timer_service.models import MAX_SHARDS

__all__ = ["check_props"]


def check_props(
    shards: int,
    draining: Sequence[int],
    lookahead: int,
    concurrency: int,
    max_attempts: int,
) -> None:
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards must be 1-{MAX_SHARDS}")
    if any(n < shards for n in draining):
        raise ValueError("draining_shards are numbered from `shards` up (0..shards-1 are active)")
    if not 1 <= lookahead <= 10:
        raise ValueError("lookahead_minutes must be 1-10")
    if not 2 <= concurrency <= 1000:
        raise ValueError("callback_max_concurrency must be 2-1000 (SQS event source limits)")
    if not 1 <= max_attempts <= 1000:
        raise ValueError("max_attempts must be 1-1000")
