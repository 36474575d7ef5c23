"""Injected time sources: the system clock in production, a settable one in tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "FixedClock", "SystemClock", "format_utc", "from_epoch"]


class Clock(Protocol):
    """Anything that tells the current time as epoch seconds (float)."""

    def now(self) -> float: ...


class SystemClock:
    """Wall-clock time of this machine."""

    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock that only moves when told to; for deterministic tests."""

    def __init__(self, epoch_s: float) -> None:
        self._now = float(epoch_s)

    def now(self) -> float:
        return self._now

    def set(self, epoch_s: float) -> None:
        self._now = float(epoch_s)

    def advance(self, seconds: float) -> None:
        self._now += seconds


def from_epoch(epoch_s: float) -> datetime:
    """An aware UTC datetime for epoch seconds."""
    return datetime.fromtimestamp(epoch_s, tz=UTC)


def format_utc(epoch_s: float) -> str:
    """ISO 8601 UTC with a ``Z`` suffix and whole seconds, e.g. ``2026-11-22T14:05:37Z``."""
    return from_epoch(int(epoch_s)).strftime("%Y-%m-%dT%H:%M:%SZ")
