"""Cron conformance cases transcribed from outside sources, as data.

Each case names its ``source`` (a URL, or ``owner/repo path``) and holds an expression's six
fields without ``cron(...)``. Instants are ISO local times in the case's zone (an explicit
offset where a fall-back makes a wall time ambiguous). A case whose source says otherwise
than this project carries ``differs``: why we follow another authority (AWS's docs first, then
Quartz, whose cron EventBridge's derives from). The sources disagree with one another in places;
those cases say so too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fires:
    """The next fire times after ``after`` (or at it, when ``inclusive``)."""

    source: str
    expression: str
    after: str
    expected: tuple[str, ...]
    tz: str = "UTC"
    inclusive: bool = False
    until: str | None = None  # every fire up to this instant (inclusive) is listed
    ends: bool = False  # no fire follows the last listed one
    differs: str = ""


@dataclass(frozen=True)
class Before:
    """The fire times before the minute that holds ``before`` (or up to its end, when
    ``inclusive``), most recent first: a library's ``prev``."""

    source: str
    expression: str
    before: str
    expected: tuple[str, ...]
    inclusive: bool = False
    ends: bool = False  # no fire precedes the last listed one
    differs: str = ""


@dataclass(frozen=True)
class Last:
    """The last fire time in ``[start, end)``, or None."""

    source: str
    expression: str
    start: str
    end: str
    expected: str | None
    differs: str = ""


@dataclass(frozen=True)
class Valid:
    """An expression EventBridge accepts."""

    source: str
    expression: str
    differs: str = ""


@dataclass(frozen=True)
class Invalid:
    """An expression EventBridge refuses; ``field`` is the position the message must name."""

    source: str
    expression: str
    field: int | None
    differs: str = ""


@dataclass(frozen=True)
class Expands:
    """The values a library expands each plain field to (None: not stated by the source)."""

    source: str
    expression: str
    minutes: tuple[int, ...] | None = None
    hours: tuple[int, ...] | None = None
    days_of_month: tuple[int, ...] | None = None
    months: tuple[int, ...] | None = None
    days_of_week: tuple[int, ...] | None = None
    years: tuple[int, ...] | None = None
    differs: str = ""


Case = Fires | Before | Last | Valid | Invalid | Expands


def span(low: int, high: int, step: int = 1) -> tuple[int, ...]:
    """``low`` to ``high`` inclusive, as the sources write ``arr(s, e, step)``."""
    return tuple(range(low, high + 1, step))


def field_cases(
    source: str, field: int, valid: list[str], invalid: list[str], differs: dict[str, str]
) -> list[Case]:
    """A validator's per-field regex cases, each set into an otherwise valid expression.

    ``differs`` maps a value to why this project decides it the other way round.
    """
    templates = {
        1: "{} 12 * * ? *",
        2: "0 {} * * ? *",
        3: "0 12 {} * ? *",
        4: "0 12 1 {} ? *",
        5: "0 12 ? * {} *",
        6: "0 12 1 1 ? {}",
    }
    question = {3: "0 12 ? * MON *", 5: "0 12 1 * ? *"}  # '?' needs a value in the other day

    def expression(value: str) -> str:
        return (
            question[field]
            if value == "?" and field in question
            else templates[field].format(value)
        )

    cases: list[Case] = []
    for value in valid:
        if value in differs:
            cases.append(Invalid(source, expression(value), field, differs[value]))
        else:
            cases.append(Valid(source, expression(value)))
    for value in invalid:
        # An empty field leaves five: the message is about the count, not one field.
        position = field if value else None
        if value in differs:
            cases.append(Valid(source, expression(value), differs[value]))
        else:
            cases.append(Invalid(source, expression(value), position))
    return cases
