"""cron(...) conforms to EventBridge Scheduler: cases from AWS's docs and public libraries.

The cases live in ``tests/unit/cron_cases`` as data, each citing its source. Where a source
disagrees with AWS's docs, or with the other sources, the case records the decision in
``differs``; ``test_conformance_deliberate_differences_are_few`` keeps that list short.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.unit.cron_cases import (
    Before,
    Case,
    Expands,
    Fires,
    Invalid,
    Last,
    Valid,
    aws_cron_parser,
    aws_croniter,
    aws_croniter_occurrence,
    aws_docs,
    pyawscron,
    quartz_haskell,
    validators,
)
from timer_service.errors import InvalidScheduleError
from timer_service.schedules import Timing, parse_schedule

CASES: list[Case] = [
    *aws_docs.CASES,
    *aws_cron_parser.CASES,
    *pyawscron.CASES,
    *aws_croniter.CASES,
    *aws_croniter_occurrence.CASES,
    *validators.CASES,
    *quartz_haskell.CASES,
]
FIELD_NAMES = ["minutes", "hours", "day-of-month", "month", "day-of-week", "year"]
EARLIEST = "1970-01-01T00:00+00:00"


def _case_id(case: Case) -> str:
    return f"{type(case).__name__}:{case.expression}"


def epoch(text: str, tz: str) -> int:
    """An ISO instant; without an offset it is a wall time in ``tz``."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return int(moment.timestamp())


def show(fire_s: int, tz: str) -> str:
    return datetime.fromtimestamp(fire_s, tz=ZoneInfo(tz)).isoformat(timespec="minutes")


def timing(case: Case, tz: str = "UTC", **bounds: int) -> Timing:
    return Timing(parse_schedule(f"cron({case.expression})"), tz, **bounds)


def check_fires(case: Fires) -> None:
    after_s = epoch(case.after, case.tz) + (0 if case.inclusive else 1)
    expected = [show(epoch(text, case.tz), case.tz) for text in case.expected]
    if case.until is not None:
        bounded = timing(case, case.tz, end_s=epoch(case.until, case.tz))
        fires = bounded.next_fires(after_s, len(expected) + 1)
    else:
        fires = timing(case, case.tz).next_fires(after_s, len(expected) + int(case.ends))
    assert [show(s, case.tz) for s in fires] == expected


def check_before(case: Before) -> None:
    """The fires from the oldest listed one up to ``before`` are exactly those listed."""
    minute_s = epoch(case.before, "UTC") // 60 * 60
    oldest = EARLIEST if case.ends else case.expected[-1]
    bounded = timing(case, end_s=minute_s + (59 if case.inclusive else -1))
    fires = bounded.next_fires(epoch(oldest, "UTC"), len(case.expected) + 1)
    assert [show(s, "UTC") for s in reversed(fires)] == [
        show(epoch(text, "UTC"), "UTC") for text in case.expected
    ]


def check_last(case: Last) -> None:
    start_s, end_s = epoch(case.start, "UTC"), epoch(case.end, "UTC")
    fires = list(timing(case, start_s=start_s, end_s=end_s - 1).iter_from(start_s))
    last = show(fires[-1], "UTC") if fires else None
    assert last == (None if case.expected is None else show(epoch(case.expected, "UTC"), "UTC"))


def check_invalid(case: Invalid) -> None:
    with pytest.raises(InvalidScheduleError) as raised:
        parse_schedule(f"cron({case.expression})")
    assert raised.value.field == "schedule"
    if case.field is not None:
        name = FIELD_NAMES[case.field - 1]
        assert f"field {case.field} ({name})" in raised.value.message, raised.value.message


def check_expands(case: Expands) -> None:
    from timer_service.cron import parse_cron_fields

    fields = parse_cron_fields(case.expression.split(), expression=case.expression)
    for name in ("minutes", "hours", "days_of_month", "months", "days_of_week", "years"):
        expected = getattr(case, name)
        if expected is not None:
            assert sorted(getattr(fields, name)) == sorted(set(expected)), name


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_conformance_case_matches_its_source(case: Case) -> None:
    match case:
        case Fires():
            check_fires(case)
        case Before():
            check_before(case)
        case Last():
            check_last(case)
        case Valid():
            parse_schedule(f"cron({case.expression})")
        case Invalid():
            check_invalid(case)
        case Expands():
            check_expands(case)


def test_conformance_cases_cite_a_source_and_are_several_hundred() -> None:
    assert all(case.source for case in CASES)
    assert len(CASES) >= 500


def test_conformance_deliberate_differences_are_few() -> None:
    differing = Counter(case.differs for case in CASES if case.differs)
    assert sum(differing.values()) <= 25, differing
