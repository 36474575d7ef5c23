"""Cases from siddarth-patil/aws-croniter (Python), which merged pyawscron's evaluation with
grumBit/aws_cron_expression_validator's checks and added wrap-around ranges.

Its ``get_next``/``get_prev`` are strict; a ``None`` in its lists means no further fire.
"""

from __future__ import annotations

from tests.unit.cron_cases import Before, Case, Expands, Fires, Invalid, Last, Valid, span

_REPO = "siddarth-patil/aws-croniter"
CRON = f"{_REPO} tests/test_awscron.py"

L_DASH_WEEKDAY = (
    "day-of-week L-n is accepted by the library (and grumBit's), but neither AWS's docs nor "
    "Quartz give it a meaning (Quartz reads L and drops the rest): refused"
)
NEVER = (
    "the library accepts L-30 in February and finds no fire; a day-of-month that no chosen "
    "month has is refused here, as cron(0 0 30 2 ? *) is"
)

_EXPANDS: list[Case] = [
    Expands(
        CRON,
        "6 4/3 8,18-20,26-28 * ? 2020-2030",
        minutes=(6,),
        hours=(4, 7, 10, 13, 16, 19, 22),
        days_of_month=(8, 18, 19, 20, 26, 27, 28),
        months=span(1, 12),
        days_of_week=(),
        years=span(2020, 2030),
    ),
    Expands(
        CRON,
        "15 10 ? * 6L 2002-2025",
        minutes=(15,),
        hours=(10,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(),
        years=span(2002, 2025),
    ),
    Expands(
        CRON,
        "*/5 10 ? * MON-FRI *",
        minutes=span(0, 55, 5),
        hours=(10,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(2, 3, 4, 5, 6),
        years=span(1970, 2199),
    ),
    Expands(
        CRON,
        "0 */3 */1 * ? *",
        minutes=(0,),
        hours=span(0, 21, 3),
        days_of_month=span(1, 31),
        months=span(1, 12),
        days_of_week=(),
        years=span(1970, 2199),
    ),
    Expands(
        CRON,
        "15 12 ? * sun,mon *",
        minutes=(15,),
        hours=(12,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(1, 2),
        years=span(1970, 2199),
    ),
    Expands(
        CRON,
        "10 7/5 7 * ? 2020",
        minutes=(10,),
        hours=(7, 12, 17, 22),
        days_of_month=(7,),
        months=span(1, 12),
        days_of_week=(),
        years=(2020,),
    ),
    Expands(
        CRON,
        "0-29/5 22 09 05 ? 2020,2021,2022",
        minutes=span(0, 25, 5),
        hours=(22,),
        days_of_month=(9,),
        months=(5,),
        days_of_week=(),
        years=(2020, 2021, 2022),
    ),
    Expands(
        CRON,
        "30 9 L-2 * ? *",
        minutes=(30,),
        hours=(9,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(),
        years=span(1970, 2199),
    ),
    Expands(
        CRON,
        "30 9 L-21 * ? *",
        minutes=(30,),
        hours=(9,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(),
        years=span(1970, 2199),
    ),
    Expands(
        CRON,
        "30 9 3W * ? *",
        minutes=(30,),
        hours=(9,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(),
        years=span(1970, 2199),
    ),
    Expands(
        CRON,
        "0 8 ? * FRI-MON *",
        minutes=(0,),
        hours=(8,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(1, 2, 6, 7),
        years=span(1970, 2199),
    ),
    Expands(
        CRON,
        "0 8 ? * SAT-SUN *",
        minutes=(0,),
        hours=(8,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(1, 7),
        years=span(1970, 2199),
    ),
    Expands(
        CRON,
        "0 0 1 NOV-FEB ? *",
        minutes=(0,),
        hours=(0,),
        days_of_month=(1,),
        months=(1, 2, 11, 12),
        days_of_week=(),
        years=span(1970, 2199),
    ),
    Expands(
        CRON,
        "0 22-2 ? * MON *",
        minutes=(0,),
        hours=(0, 1, 2, 22, 23),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(2,),
        years=span(1970, 2199),
    ),
]

_VALID = [
    "30 9 L-2 * ? *", "0 18 ? * MON-FRI *", "0 18 ? * L *", "0 18 ? * SATL *", "0 18 L * ? *",
    "0 18 31W * ? *", "0 10 * * ? *", "15 12 * * ? *", "0 8 1 * ? *", "1/5 8-17 ? * Mon-Fri *",
    "0 9 ? * 2#1 *", "0 07/12 ? * * *", "10,20,30,40 07/12 ? * * *", "10 10,15,20,23 ? * * *",
    "10 10 15,30,31 * ? *", "10 10 15 JAN,JUL,DEC ? *", "10 10 31 04,09,12 ? *",
    "0,5 07/12 ? * 1,5,7 *", "0,5 07/12 ? * 1,5,7 2020,2021,2028,2199",
    "0,5 07/12 ? * 1,5,7 2020-2021,2028-2199", "0,5 07/12 ? * 1,5,7 2000-2199",
    "0 9-5 ? * MON-FRI *", "30 0 ? * MON *", "30 7 ? * MON#1 *", "30 0 1 JAN,APR,JUL,OCT ? *",
    "0 10 * * ? *", "5 12 * * ? *", "0 18 ? * MON-FRI *", "0 8 1 * ? *", "0/15 * * * ? *",
    "0/10 * ? * MON-FRI *", "0/5 8-17 ? * MON-FRI *", "15/50 10 * * ? *", "0 11-23/2 * * ? *",
    "0 11-23/4 ? * 2-6 *", "0 11-23/2 * * ? *", "0 0 1 1-12/3 ? *", "0 1-7/2,11-23/2 * * ? *",
    "0 1-7/2,11-23/2,10 * * ? *", "30 0 1 JAN-APR,JUL-OCT/2,DEC ? *", "15 10 ? * L 2019-2022",
    "15 10 ? * 6L 2019-2022", "15 10 ? * FRIL 2019-2022",
]  # fmt: skip

_INVALID = [
    ("0 18 ? * MON-FRI", None), ("0 18 * * * *", None), ("89 10 * * ? *", 1),
    ("65/15 10 * * ? *", 1), ("5/155 10 * * ? *", 1), ("0 65 * * ? *", 2),
    ("0 18 32W * ? *", 3), ("0 18 W * ? *", 3), ("10 10 31 04,09,13 ? *", 4),
    ("0 9 ? * 2#6 *", 5), ("0,5 07/12 ? * 01,05,8 *", 5), ("0,5 07/12 ? * 1 2000-2200", 6),
    ("15/30 10 * * ? 2400", 6), ("0 9 ? * ? *", None), ("0 18 3L * ? *", 3),
    ("0 18 L-31 * ? *", 3), ("0 1-7/2,11-23/2, * * ? *", 2),
]  # fmt: skip

_OCCURRENCES: list[Case] = [
    # get_all_schedule_bw_dates(from, to, exclude_ends)
    Fires(
        CRON,
        "0/23 * * * ? *",
        "2021-08-07T08:30:57",
        (
            "2021-08-07T08:46",
            "2021-08-07T09:00",
            "2021-08-07T09:23",
            "2021-08-07T09:46",
            "2021-08-07T10:00",
            "2021-08-07T10:23",
            "2021-08-07T10:46",
            "2021-08-07T11:00",
            "2021-08-07T11:23",
        ),
        until="2021-08-07T11:30:57",
    ),
    Fires(
        CRON,
        "1 2 3 4 ? 2022",
        "2021-08-07T08:30:57",
        ("2022-04-03T02:01",),
        until="2022-08-07T11:30:57",
    ),
    Fires(
        CRON,
        "0/23 * * * ? *",
        "2021-08-07T08:46:57",
        (
            "2021-08-07T09:00",
            "2021-08-07T09:23",
            "2021-08-07T09:46",
            "2021-08-07T10:00",
            "2021-08-07T10:23",
            "2021-08-07T10:46",
            "2021-08-07T11:00",
        ),
        until="2021-08-07T11:22:59",
    ),
    # get_next(from, n)
    Fires(
        CRON,
        "0/23 * * * ? *",
        "2021-08-07T08:30:57",
        (
            "2021-08-07T08:46",
            "2021-08-07T09:00",
            "2021-08-07T09:23",
            "2021-08-07T09:46",
            "2021-08-07T10:00",
            "2021-08-07T10:23",
            "2021-08-07T10:46",
            "2021-08-07T11:00",
            "2021-08-07T11:23",
            "2021-08-07T11:46",
        ),
    ),
    Fires(CRON, "0 12 15 * ? 2023", "2023-12-14T00:00", ("2023-12-15T12:00",), ends=True),
    Fires(
        CRON,
        "30 9 1/4 2 ? 2025",
        "2025-01-21T00:00",
        (
            "2025-02-01T09:30",
            "2025-02-05T09:30",
            "2025-02-09T09:30",
            "2025-02-13T09:30",
            "2025-02-17T09:30",
            "2025-02-21T09:30",
            "2025-02-25T09:30",
        ),
        ends=True,
    ),
    Invalid(CRON, "30 9 L-30 2 ? *", 3, differs=NEVER),
    Fires(
        CRON,
        "0 8 ? * FRI-MON *",
        "2026-06-05T12:00",
        ("2026-06-06T08:00", "2026-06-07T08:00", "2026-06-08T08:00", "2026-06-12T08:00"),
    ),
    Fires(
        CRON,
        "0 0 1 NOV-FEB ? *",
        "2026-06-05T00:00",
        ("2026-11-01T00:00", "2026-12-01T00:00", "2027-01-01T00:00", "2027-02-01T00:00"),
    ),
    Fires(
        CRON,
        "0 22-2 ? * MON *",
        "2026-06-08T12:00",
        (
            "2026-06-08T22:00",
            "2026-06-08T23:00",
            "2026-06-15T00:00",
            "2026-06-15T01:00",
            "2026-06-15T02:00",
        ),
    ),
    # get_prev(from, n)
    Before(
        CRON,
        "0/23 * * * ? *",
        "2021-08-07T11:50:57",
        (
            "2021-08-07T11:46",
            "2021-08-07T11:23",
            "2021-08-07T11:00",
            "2021-08-07T10:46",
            "2021-08-07T10:23",
            "2021-08-07T10:00",
            "2021-08-07T09:46",
            "2021-08-07T09:23",
            "2021-08-07T09:00",
            "2021-08-07T08:46",
        ),
    ),
    Before(
        CRON,
        "0/5 8-17 ? * MON-FRI *",
        "2021-08-16T08:50:57",
        (
            "2021-08-16T08:45",
            "2021-08-16T08:40",
            "2021-08-16T08:35",
            "2021-08-16T08:30",
            "2021-08-16T08:25",
            "2021-08-16T08:20",
            "2021-08-16T08:15",
            "2021-08-16T08:10",
            "2021-08-16T08:05",
            "2021-08-16T08:00",
        ),
    ),
    Before(CRON, "0 12 15 1 ? 2023", "2023-02-14T00:00", ("2023-01-15T12:00",), ends=True),
    Before(CRON, "0 8 ? * FRI-MON *", "2026-06-09T12:00", ("2026-06-08T08:00", "2026-06-07T08:00")),
    Before(
        CRON,
        "0 0 1 NOV-FEB ? *",
        "2027-03-01T00:00",
        ("2027-02-01T00:00", "2027-01-01T00:00", "2026-12-01T00:00", "2026-11-01T00:00"),
    ),
    Before(
        CRON,
        "0 22-2 ? * MON *",
        "2026-06-09T12:00",
        (
            "2026-06-08T23:00",
            "2026-06-08T22:00",
            "2026-06-08T02:00",
            "2026-06-08T01:00",
            "2026-06-08T00:00",
        ),
    ),
    # get_final_execution_time(from, to): the last fire in [from, to).
    Last(CRON, "0/30 * * * ? *", "2021-08-07T08:00", "2021-08-07T11:00", "2021-08-07T10:30"),
    Last(CRON, "0 12 15 * ? 2023", "2023-11-14T00:00", "2023-12-31T00:00", "2023-12-15T12:00"),
    Last(CRON, "0 12 15 * ? 2023", "2023-11-14T00:00", "2023-12-15T12:00", "2023-11-15T12:00"),
    Last(CRON, "0 12 15 * ? 2023", "2023-12-16T00:00", "2023-12-31T00:00", None),
    Last(CRON, "0 9 * * ? *", "2023-12-01T00:00", "2023-12-05T00:00", "2023-12-04T09:00"),
    Last(CRON, "0 8 ? * MON-FRI *", "2023-12-04T00:00", "2023-12-08T00:00", "2023-12-07T08:00"),
    Last(CRON, "0 12 L * ? *", "2023-11-01T00:00", "2023-12-31T00:00", "2023-11-30T12:00"),
    Last(CRON, "0 12 1 1 ? *", "2023-01-01T00:00", "2025-12-31T00:00", "2025-01-01T12:00"),
    Last(CRON, "0 10,14,18 * * ? *", "2023-12-01T09:00", "2023-12-01T19:00", "2023-12-01T18:00"),
    Last(CRON, "0 12 15 * ? 2023", "2023-12-15T12:00", "2023-12-31T00:00", "2023-12-15T12:00"),
    Last(CRON, "0 12 15 * ? 2023", "2023-12-15T12:00", "2023-12-15T12:00", None),
    Last(CRON, "0 12 15 * ? 2023", "2023-12-16T12:00", "2023-12-16T12:00", None),
    Last(CRON, "0 12 15 * ? 2023", "2023-12-15T11:59", "2023-12-15T12:01", "2023-12-15T12:00"),
]

CASES: list[Case] = [
    *_EXPANDS,
    *(Valid(CRON, text) for text in _VALID),
    Invalid(CRON, "15 10 ? * L-2 2019-2022", 5, differs=L_DASH_WEEKDAY),
    *(Invalid(CRON, text, field) for text, field in _INVALID),
    *_OCCURRENCES,
]
