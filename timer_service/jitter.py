"""Jitter: a timer's firings spread over ``[0, jitterSeconds]`` after their scheduled second.

The offset is derived from the timer (owner and id) and the scheduled second alone, so it is
the same in every process, after a retry and after a restart, and a firing never runs before
its scheduled time. Timers that share a second get different offsets: a thousand timers at
:00 with ``jitterSeconds: 60`` spread over the minute instead of landing at once.
"""

from __future__ import annotations

import hashlib

__all__ = ["MAX_JITTER_S", "jitter_offset"]

# SQS holds a message at most 15 minutes; a longer wait is sent on again (delivery_policy).
MAX_JITTER_S = 900


def jitter_offset(owner: str, timer_id: str, scheduled_s: int, jitter_s: int) -> int:
    """Seconds after ``scheduled_s`` that this firing runs: uniform in ``[0, jitter_s]``.

    >>> jitter_offset("o", "t", 1_800_000_000, 0)
    0
    >>> jitter_offset("o", "t", 1_800_000_000, 30) == jitter_offset("o", "t", 1_800_000_000, 30)
    True
    """
    if jitter_s <= 0:
        return 0
    digest = hashlib.sha256(f"{owner}\0{timer_id}\0{scheduled_s}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (jitter_s + 1)
