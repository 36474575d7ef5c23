"""Schedules: EventBridge syntax parsed into models, or refused saying what and where."""

from __future__ import annotations

from datetime import datetime

import pytest

from timer_service.errors import InvalidScheduleError
from timer_service.schedules import (
    AtSchedule,
    CronSchedule,
    RateSchedule,
    parse_schedule,
)

# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(1 minute)", RateSchedule(value=1, unit="minute")),
        ("rate(5 minutes)", RateSchedule(value=5, unit="minute")),
        ("rate(2 hours)", RateSchedule(value=2, unit="hour")),
        ("rate(1 day)", RateSchedule(value=1, unit="day")),
        ("at(2027-01-01T09:30:15)", AtSchedule(at=datetime(2027, 1, 1, 9, 30, 15))),
        (
            "cron(0/15 8-17 ? * MON-FRI *)",
            CronSchedule(
                minutes="0/15",
                hours="8-17",
                day_of_month="?",
                month="*",
                day_of_week="MON-FRI",
                year="*",
            ),
        ),
    ],
)
def test_parse_schedule_valid_expression_gives_model(expression: str, expected: object) -> None:
    assert parse_schedule(expression) == expected


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("rate(0 minutes)", "positive"),
        ("rate(5 weeks)", "rate(N second|seconds|minute|minutes"),
        ("rate(five minutes)", "rate(N second|seconds|minute|minutes"),
        ("cron(0 12 * * ? )", "6 fields"),
        ("cron(0 12 * * * *)", "exactly one of day-of-month (field 3) and day-of-week (field 5)"),
        ("cron(0 12 ? * ? *)", "exactly one of day-of-month"),
        ("cron(60 12 * * ? *)", "field 1 (minutes) '60': 60 is out of range 0-59"),
        ("cron(0 24 * * ? *)", "field 2 (hours) '24': 24 is out of range 0-23"),
        ("cron(0 12 32 * ? *)", "field 3 (day-of-month) '32'"),
        ("cron(0 12 * 13 ? *)", "field 4 (month) '13'"),
        ("cron(0 12 * FOO ? *)", "field 4 (month) 'FOO': 'FOO' is not a number or JAN-DEC"),
        ("cron(0 12 ? * 0 *)", "field 5 (day-of-week) '0': 0 is out of range 1-7"),
        ("cron(0 12 ? * MON#6 *)", "the number after # must be 1-5"),
        ("cron(0 12 * * ? 1969)", "field 6 (year) '1969'"),
        (
            "cron(0 12 * * ? 2030-2027)",
            "field 6 (year) '2030-2027': range 2030-2027 runs backwards",
        ),
        ("cron(0/0 12 * * ? *)", "the step after / must be a positive number"),
        ("cron(? 12 * * ? *)", "field 1 (minutes) '?'"),
        ("cron(0 12 1,L * ? *)", "L cannot be combined"),
        ("cron(0 0 30 2 ? *)", "never occurs"),
        ("at(2026-02-30T00:00:00)", "day is out of range"),
        ("at(2026-01-01 00:00:00)", "at(YYYY-MM-DDThh:mm:ss)"),
        ("every five minutes", "not a schedule expression"),
    ],
)
def test_parse_schedule_invalid_expression_says_what_and_where(expression: str, says: str) -> None:
    with pytest.raises(InvalidScheduleError) as raised:
        parse_schedule(expression)
    assert says in raised.value.message
    assert raised.value.field == "schedule"


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("cron(0 0 30 2 ? *)", "field 3 (day-of-month) '30' never occurs in month '2'"),
        ("cron(0 0 31W 4,6 ? *)", "field 3 (day-of-month) '31W' never occurs"),
        ("cron(0 0 L-29 FEB ? *)", "field 3 (day-of-month) 'L-29' never occurs"),
        ("cron(0 0 ? * 3#1,6#3 *)", "field 5 (day-of-week) '3#1,6#3': # cannot be combined"),
        ("cron(0 0 ? * 6L,2 *)", "field 5 (day-of-week) '6L': 6L cannot be combined"),
        ("cron(0 0 ? * L-2 *)", "field 5 (day-of-week) 'L-2': L-n is allowed only in day-of-month"),
        ("cron(0 0 L-31 * ? *)", "field 3 (day-of-month) 'L-31': L-n needs n from 0 to 30"),
        ("cron(0/60 0 * * ? *)", "field 1 (minutes) '0/60': the step after / must be"),
        ("cron(0 001 * * ? *)", "field 2 (hours) '001': '001' has more than 2 digit(s)"),
        ("cron(0 0 ? * *-MON *)", "field 5 (day-of-week) '*-MON': * cannot be one end of a range"),
    ],
)
def test_parse_schedule_cron_refusal_names_the_field_at_fault(expression: str, says: str) -> None:
    # The API answers an InvalidScheduleError with a 400 whose field is `schedule`; the message
    # is what tells the user which of the six cron fields to fix.
    with pytest.raises(InvalidScheduleError) as raised:
        parse_schedule(expression)
    assert says in raised.value.message


def test_expression_round_trips_through_model() -> None:
    for text in [
        "rate(1 minute)",
        "rate(3 days)",
        "cron(0 12 ? * MON-FRI *)",
        "at(2027-05-01T10:00:00)",
    ]:
        assert parse_schedule(text).expression == text
