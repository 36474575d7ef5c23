"""Per-owner request limits for the local stack, as a deployed stack's usage plan applies them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter"]


@dataclass
class _Bucket:
    tokens: float
    updated_s: float


class RateLimiter:
    """A token bucket per owner: ``rate`` requests a second on average, ``burst`` at once."""

    def __init__(
        self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def check(self, owner: str) -> float | None:
        """Take a token for ``owner``; None when allowed, else the seconds until one is free."""
        now_s = self._clock()
        with self._lock:
            bucket = self._buckets.setdefault(owner, _Bucket(float(self.burst), now_s))
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now_s - bucket.updated_s) * self.rate
            )
            bucket.updated_s = now_s
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return (1 - bucket.tokens) / self.rate
