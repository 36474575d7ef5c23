"""The metrics port: what the core counts and times; the default records nothing."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Metrics", "NullMetrics"]


class Metrics(Protocol):
    """Counters and durations, named once here and in each adapter."""

    def count(self, name: str, value: float = 1, *, unit: str = "Count") -> None: ...


class NullMetrics:
    """Records nothing."""

    def count(self, name: str, value: float = 1, *, unit: str = "Count") -> None:
        return None
