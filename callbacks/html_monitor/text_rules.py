"""Text conditions on the extracted text: ``extractText``, ``blockText`` and ``triggerText``.

Every match runs under one time budget per check (the ``regex`` package's ``timeout``), so a
pattern that backtracks for ever fails the check with a message naming the field instead of
stalling the callback.

- ``extractText``: only the parts of the text matching these patterns are monitored, one per
  line, in the order they appear; a pattern with groups contributes its groups (joined by a
  space), one without its whole match.
- ``blockText``: while a line matches one of these, no change is recorded.
- ``triggerText``: a change notifies only when an added line matches one of these.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "TEXT_BUDGET_S",
    "Budget",
    "PatternTimeout",
    "extract_matches",
    "first_match",
    "without_matching",
]

TEXT_BUDGET_S = 1.0  # all of one check's text-condition matching
MAX_EXTRACTED = 5_000  # lines extractText may keep


class PatternTimeout(ValueError):
    """A pattern used up the check's matching budget."""


class Budget:
    """The time left for one check's pattern matching."""

    def __init__(self, seconds: float = TEXT_BUDGET_S) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def left(self, field: str) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self.spent(field)
        return remaining

    def spent(self, field: str) -> PatternTimeout:
        return PatternTimeout(
            f"{field} took over {self.seconds:g} s on this page; simplify the patterns"
        )


def _compiled(patterns: Sequence[str]) -> list[Any]:
    """Each pattern on its own: joined, a backreference would count another pattern's groups."""
    import regex

    return [regex.compile(pattern, regex.MULTILINE) for pattern in patterns]


def first_match(
    lines: Iterable[str], patterns: Sequence[str], budget: Budget, field: str
) -> str | None:
    """The first line that matches one of ``patterns``, or None."""
    if not patterns:
        return None
    compiled = _compiled(patterns)
    for line in lines:
        if _matches(compiled, line, budget, field):
            return line
    return None


def _matches(compiled: list[Any], line: str, budget: Budget, field: str) -> bool:
    try:
        return any(p.search(line, timeout=budget.left(field)) is not None for p in compiled)
    except TimeoutError as exc:
        raise budget.spent(field) from exc


def extract_matches(text: str, patterns: Sequence[str], budget: Budget) -> str:
    """The parts of ``text`` that ``patterns`` match, one per line, in text order."""
    import regex

    found: list[tuple[int, int, str]] = []
    for order, pattern in enumerate(patterns):
        compiled = regex.compile(pattern, regex.MULTILINE)
        try:
            for match in compiled.finditer(text, timeout=budget.left("extractText")):
                groups = [group for group in match.groups() if group]
                part = " ".join(groups) if compiled.groups else match.group(0)
                part = " ".join(part.split())
                if part:
                    found.append((match.start(), order, part))
                if len(found) > MAX_EXTRACTED:
                    raise PatternTimeout(f"extractText matched over {MAX_EXTRACTED} parts")
        except TimeoutError as exc:
            raise budget.spent("extractText") from exc
    found.sort()
    return "\n".join(part for _, _, part in found)


def without_matching(
    lines: Iterable[str], patterns: Sequence[str], budget: Budget, field: str
) -> list[str]:
    """``lines`` without those that match one of ``patterns``."""
    if not patterns:
        return list(lines)
    compiled = _compiled(patterns)
    return [line for line in lines if not _matches(compiled, line, budget, field)]
