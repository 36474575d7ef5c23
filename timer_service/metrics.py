"""The metrics port: what the core counts and times; the default records nothing."""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

__all__ = ["Metrics", "NullMetrics", "RecordingMetrics"]


class Metrics(Protocol):
    """Counters and durations, named once here and in each adapter."""

    def count(self, name: str, value: float = 1, *, unit: str = "Count") -> None: ...


class NullMetrics:
    """Records nothing."""

    def count(self, name: str, value: float = 1, *, unit: str = "Count") -> None:
        return None


class RecordingMetrics:
    """Keeps totals in memory, for tests and the load harness."""

    def __init__(self) -> None:
        self.totals: defaultdict[str, float] = defaultdict(float)

    def count(self, name: str, value: float = 1, *, unit: str = "Count") -> None:
        self.totals[name] += value
