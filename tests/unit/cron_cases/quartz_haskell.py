"""Cases from Quartz, whose cron EventBridge's derives from, and from
kushagarr/aws-eventbridge-cron (Haskell).

Quartz's expressions have a seconds field first; here it is dropped. Quartz's range rules are
read from its CronExpression.addToSet: a range whose end is before its start runs on past the
field's end (60 minutes, 24 hours, 31 days, 12 months, 7 days), the step continuing across, and
a year range may not run backwards. Its getTimeAfter skips a month too short for ``L-n``.
"""

from __future__ import annotations

from tests.unit.cron_cases import Case, Expands, Fires, Invalid, Valid, span

QUARTZ_TEST = "quartz-scheduler/quartz quartz/src/test/java/org/quartz/CronExpressionTest.java"
QUARTZ_CODE = "quartz-scheduler/quartz quartz/src/main/java/org/quartz/CronExpression.java"
_HS = "kushagarr/aws-eventbridge-cron"
HS_CRON = f"{_HS} test/AWS/EventBridge/CronSpec.hs"
HS_SCHEDULE = f"{_HS} test/AWS/EventBridge/ScheduleSpec.hs"
HS_DOW = f"{_HS} test/AWS/EventBridge/DayOfWeekSpec.hs"
HS_DOM = f"{_HS} test/AWS/EventBridge/DayOfMonthSpec.hs"
HS_MINUTES = f"{_HS} test/AWS/EventBridge/MinutesSpec.hs"
HS_HOURS = f"{_HS} test/AWS/EventBridge/HoursSpec.hs"
HS_MONTHS = f"{_HS} test/AWS/EventBridge/MonthsSpec.hs"
HS_YEARS = f"{_HS} test/AWS/EventBridge/YearsSpec.hs"

L_NEAREST = (
    "Quartz takes L-nW (the weekday nearest n days before the last); AWS's docs do not list "
    "it and the public validators' patterns refuse it: refused"
)
ALIAS = "the library also takes THUR/THURS; AWS's docs name days SUN-SAT only: refused"
WRAP = (
    "the library refuses a backwards month range; Quartz wraps it (addToSet), as do "
    "aws-croniter's NOV-FEB and AWS's own example 20-2"
)

_QUARTZ: list[Case] = [
    # testLastDayOffset: 2010-10-29 is L-2, the 28th is not; L-1 is the 30th.
    Fires(QUARTZ_TEST, "15 10 L-2 * ? 2010", "2010-10-27T00:00", ("2010-10-29T10:15",)),
    Fires(QUARTZ_TEST, "15 10 L-1 * ? 2010", "2010-10-27T00:00", ("2010-10-30T10:15",)),
    Invalid(QUARTZ_TEST, "15 10 L-5W * ? 2010", 3, differs=L_NEAREST),
    Invalid(QUARTZ_TEST, "15 10 L-1W * ? 2010", 3, differs=L_NEAREST),
    # testQtz259 / testQtz259LW: successive L-2 and LW fire times never repeat.
    Fires(
        QUARTZ_TEST,
        "0 0 L-2 * ? *",
        "2026-01-01T00:00",
        (
            "2026-01-29T00:00",
            "2026-02-26T00:00",
            "2026-03-29T00:00",
            "2026-04-28T00:00",
            "2026-05-29T00:00",
            "2026-06-28T00:00",
        ),
    ),
    Fires(
        QUARTZ_TEST,
        "0 0 LW * ? *",
        "2026-01-01T00:00",
        (
            "2026-01-30T00:00",
            "2026-02-27T00:00",
            "2026-03-31T00:00",
            "2026-04-30T00:00",
            "2026-05-29T00:00",
            "2026-06-30T00:00",
        ),
    ),
    # QUARTZ-574: a month that does not exist.
    Invalid(QUARTZ_TEST, "* * * Foo ? *", 4),
    Invalid(QUARTZ_TEST, "* * * Jan-Foo ? *", 4),
    # QUARTZ-621: both day fields given.
    Invalid(QUARTZ_TEST, "0 * * * * *", None),
    Invalid(QUARTZ_TEST, "0 * 4 * * *", None),
    Invalid(QUARTZ_TEST, "0 * * * 4 *", None),
    # QUARTZ-640: L and LW cannot be combined with other days.
    Invalid(QUARTZ_TEST, "43 9 1,5,29,L * ? *", 3),
    Invalid(QUARTZ_TEST, "43 9 ? * SAT,SUN,L *", 5),
    Invalid(QUARTZ_TEST, "43 9 ? * 6,7,L *", 5),
    Valid(QUARTZ_TEST, "43 9 ? * 5L *"),
    # QTZ-96: W after a day past 31.
    Invalid(QUARTZ_TEST, "0/5 * 32W 1 ? *", 3),
    # Issue #58: an increment past the field, or none after the slash.
    Invalid(QUARTZ_TEST, "/120 8-18 ? * 2-6 *", 1),
    Invalid(QUARTZ_TEST, "0/120 8-18 ? * 2-6 *", 1),
    Invalid(QUARTZ_TEST, "/ 8-18 ? * 2-6 *", 1),
    Invalid(QUARTZ_TEST, "0/ 8-18 ? * 2-6 *", 1),
    Invalid(QUARTZ_TEST, "0 /120 ? * 2-6 *", 2),
    Invalid(QUARTZ_TEST, "0 0/120 ? * 2-6 *", 2),
    Invalid(QUARTZ_TEST, "0 / ? * 2-6 *", 2),
    Invalid(QUARTZ_TEST, "0 0/ ? * 2-6 *", 2),
    Invalid(QUARTZ_TEST, "0 0 /120 * ? *", 3),
    Invalid(QUARTZ_TEST, "0 0 0/120 * ? *", 3),
    Invalid(QUARTZ_TEST, "0 0 / * ? *", 3),
    Invalid(QUARTZ_TEST, "0 0 0/ * ? *", 3),
    Invalid(QUARTZ_TEST, "0 0 ? /120 2-6 *", 4),
    Invalid(QUARTZ_TEST, "0 0 ? 0/120 2-6 *", 4),
    Invalid(QUARTZ_TEST, "0 0 ? / 2-6 *", 4),
    Invalid(QUARTZ_TEST, "0 0 ? 0/ 2-6 *", 4),
    Invalid(QUARTZ_TEST, "0 0 ? * /120 *", 5),
    Invalid(QUARTZ_TEST, "0 0 ? * 0/120 *", 5),
    Invalid(QUARTZ_TEST, "0 0 ? * / *", 5),
    Invalid(QUARTZ_TEST, "0 0 ? * 0/ *", 5),
    # addToSet: ranges wrap in every field but the year, a step carrying across the wrap.
    Fires(
        QUARTZ_CODE,
        "58-2 * * * ? *",
        "2026-01-05T10:57",
        (
            "2026-01-05T10:58",
            "2026-01-05T10:59",
            "2026-01-05T11:00",
            "2026-01-05T11:01",
            "2026-01-05T11:02",
            "2026-01-05T11:58",
        ),
    ),
    Fires(
        QUARTZ_CODE,
        "0 22-2/2 * * ? *",
        "2026-01-05T12:00",
        ("2026-01-05T22:00", "2026-01-06T00:00", "2026-01-06T02:00", "2026-01-06T22:00"),
    ),
    Fires(
        QUARTZ_CODE,
        "0 0 28-3 * ? *",
        "2026-02-26T00:00",
        (
            "2026-02-28T00:00",
            "2026-03-01T00:00",
            "2026-03-02T00:00",
            "2026-03-03T00:00",
            "2026-03-28T00:00",
        ),
    ),
    Fires(
        QUARTZ_CODE,
        "0 0 28-3/2 * ? *",
        "2026-01-27T00:00",  # days 28, 30, 1, 3
        (
            "2026-01-28T00:00",
            "2026-01-30T00:00",
            "2026-02-01T00:00",
            "2026-02-03T00:00",
            "2026-02-28T00:00",
            "2026-03-01T00:00",
            "2026-03-03T00:00",
            "2026-03-28T00:00",
            "2026-03-30T00:00",
        ),
    ),
    Fires(
        QUARTZ_CODE,
        "0 0 1 NOV-FEB/2 ? *",
        "2026-06-01T00:00",  # months 11 and 1
        ("2026-11-01T00:00", "2027-01-01T00:00", "2027-11-01T00:00"),
    ),
    Fires(
        QUARTZ_CODE,
        "0 0 ? * SAT-SUN *",
        "2026-01-05T00:00",
        ("2026-01-10T00:00", "2026-01-11T00:00", "2026-01-17T00:00"),
    ),
    Fires(
        QUARTZ_CODE,
        "0 0 ? * FRI-MON/2 *",
        "2026-01-05T00:00",  # days 6 and 1: FRI, SUN
        ("2026-01-09T00:00", "2026-01-11T00:00", "2026-01-16T00:00"),
    ),
    # Steps on the 1-7 day numbers: 2/3 is days 2 and 5 (MON, THU), */2 is 1, 3, 5, 7.
    Fires(
        QUARTZ_CODE,
        "0 10 ? * 2/3 *",
        "2026-01-04T00:00",
        ("2026-01-05T10:00", "2026-01-08T10:00", "2026-01-12T10:00", "2026-01-15T10:00"),
    ),
    Fires(
        QUARTZ_CODE,
        "0 0 ? * */2 *",
        "2026-01-05T00:00",
        ("2026-01-06T00:00", "2026-01-08T00:00", "2026-01-10T00:00", "2026-01-11T00:00"),
    ),
    Invalid(QUARTZ_CODE, "0 0 ? * */8 *", 5),
    Invalid(QUARTZ_CODE, "0 0 1 1 ? 2030-2027", 6),
    Fires(
        QUARTZ_CODE,
        "0 0 1 1 ? 2027-2030",
        "2026-06-01T00:00",
        ("2027-01-01T00:00", "2028-01-01T00:00", "2029-01-01T00:00", "2030-01-01T00:00"),
        ends=True,
    ),
    # getTimeAfter: a month whose last day minus the offset falls before the 1st has no fire.
    Fires(
        QUARTZ_CODE,
        "0 0 L-30 * ? 2026",
        "2026-01-01T00:00",
        (
            "2026-01-01T00:00",
            "2026-03-01T00:00",
            "2026-05-01T00:00",
            "2026-07-01T00:00",
            "2026-08-01T00:00",
            "2026-10-01T00:00",
            "2026-12-01T00:00",
        ),
        inclusive=True,
        ends=True,
    ),
    Fires(
        QUARTZ_CODE,
        "0 0 L-29 * ? 2026",
        "2026-01-01T00:00",
        ("2026-01-02T00:00", "2026-03-02T00:00", "2026-04-01T00:00", "2026-05-02T00:00"),
        inclusive=True,
    ),
    Fires(
        QUARTZ_CODE,
        "0 0 L-0 * ? 2026",
        "2026-01-01T00:00",
        ("2026-01-31T00:00", "2026-02-28T00:00"),
    ),
    Invalid(QUARTZ_CODE, "0 0 L-31 * ? *", 3),
]

_HASKELL: list[Case] = [
    Valid(HS_CRON, "0 0 ? * 2#1 2025"),
    Fires(
        HS_CRON,
        "0/15 9 ? NOV SUN 2025",
        "2025-11-16T09:00",
        ("2025-11-16T09:00", "2025-11-16T09:15", "2025-11-16T09:30", "2025-11-16T09:45"),
        inclusive=True,
    ),
    Fires(HS_CRON, "0 9 5 NOV ? 2025", "2025-11-01T08:00", ("2025-11-05T09:00",), ends=True),
    Fires(
        HS_CRON,
        "0/15 9 ? NOV SUN 2025",
        "2025-11-16T09:07:30",
        ("2025-11-16T09:15", "2025-11-16T09:30", "2025-11-16T09:45"),
    ),
    Fires(
        HS_CRON,
        "0 0 1 JAN ? 2027-2028",
        "2026-12-31T23:00",
        ("2027-01-01T00:00", "2028-01-01T00:00"),
    ),
    Invalid(HS_CRON, "0 0 1 * 2 2025", None),
    # ScheduleSpec: a zone's own wall clock, its offset changing with DST.
    Fires(
        HS_SCHEDULE,
        "0 9 * * ? *",
        "2025-11-16T00:00+00:00",
        ("2025-11-16T03:30+00:00",),
        tz="Asia/Kolkata",
    ),
    Fires(
        HS_SCHEDULE,
        "0 9 * * ? *",
        "2025-11-01T09:00-04:00",
        ("2025-11-01T09:00-04:00", "2025-11-02T09:00-05:00"),
        tz="America/New_York",
        inclusive=True,
    ),
    Fires(
        HS_SCHEDULE,
        "0 9 * * ? *",
        "2025-11-16T08:30",
        ("2025-11-16T09:00", "2025-11-17T09:00"),
        tz="Asia/Kolkata",
        inclusive=True,
    ),
    Fires(
        HS_SCHEDULE,
        "0 9 * * ? *",
        "2025-11-16T03:30+00:00",
        ("2025-11-16T09:00",),
        tz="Asia/Kolkata",
        inclusive=True,
    ),
    Fires(
        HS_SCHEDULE,
        "0 9 * * ? *",
        "2025-11-01T12:00+00:00",
        ("2025-11-01T09:00-04:00", "2025-11-02T09:00-05:00"),
        tz="America/New_York",
    ),
    # DayOfWeekSpec
    *(
        Valid(HS_DOW, f"0 0 ? * {dow} *")
        for dow in [
            "*",
            "Mon",
            "3",
            "MON-FRI",
            "FRI-FRI",
            "TUE#2",
            "5#1",
            "SUN,WED",
            "sun",
            "MON",
            "tue",
            "Wed",
            "FRI",
            "Sat",
        ]
    ),
    Valid(HS_DOW, "0 0 1 * ? *"),  # '?' in day-of-week
    Invalid(HS_DOW, "0 0 ? * Thur *", 5, differs=ALIAS),
    Invalid(HS_DOW, "0 0 ? * thurs *", 5, differs=ALIAS),
    Invalid(HS_DOW, "0 0 ? * ?,MON *", 5),
    Invalid(HS_DOW, "0 0 ? * MON#1,FRI *", 5),
    Invalid(HS_DOW, "0 0 ? * MON#1,TUE#2 *", 5),
    Invalid(HS_DOW, "0 0 ? * FUNDAY *", 5),
    Invalid(HS_DOW, "0 0 ? * 3#6 *", 5),
    Invalid(HS_DOW, "0 0 ? * 9 *", 5),
    Fires(
        HS_DOW,
        "0 0 ? APR MON 2025",
        "2025-04-01T00:00",
        ("2025-04-07T00:00", "2025-04-14T00:00", "2025-04-21T00:00", "2025-04-28T00:00"),
        until="2025-04-30T23:59",
    ),
    Fires(HS_DOW, "0 0 ? FEB SUN#5 2025", "2025-01-01T00:00", (), ends=True),
    Fires(HS_DOW, "0 0 ? MAY THU#3 2025", "2025-05-01T00:00", ("2025-05-15T00:00",), ends=True),
    Fires(
        HS_DOW,
        "0 0 ? MAY MON,mon 2025",
        "2025-05-01T00:00",
        ("2025-05-05T00:00", "2025-05-12T00:00", "2025-05-19T00:00", "2025-05-26T00:00"),
        ends=True,
    ),
    # DayOfMonthSpec
    Valid(HS_DOM, "0 0 L * ? *"),
    Valid(HS_DOM, "0 0 L-2 * ? *"),
    Valid(HS_DOM, "0 0 15W * ? *"),
    Expands(HS_DOM, "0 0 1,5,10-12 * ? *", days_of_month=(1, 5, 10, 11, 12)),
    Invalid(HS_DOM, "0 0 ?,5 * ? *", 3),
    Fires(HS_DOM, "0 0 L MAR ? 2025", "2025-03-01T00:00", ("2025-03-31T00:00",), ends=True),
    Fires(
        HS_DOM,
        "0 0 1W MAR ? 2025",
        "2025-03-01T00:00",
        ("2025-03-03T00:00",),
        inclusive=True,
        ends=True,
    ),
    Fires(HS_DOM, "0 0 31W JAN ? 2021", "2021-01-01T00:00", ("2021-01-29T00:00",), ends=True),
    Fires(HS_DOM, "0 0 LW JAN ? 2021", "2021-01-01T00:00", ("2021-01-29T00:00",), ends=True),
    Fires(HS_DOM, "0 0 L-2 MAY ? 2024", "2024-05-01T00:00", ("2024-05-29T00:00",), ends=True),
    Invalid(HS_DOM, "0 0 L-29 FEB ? 2024", 3),
    # MinutesSpec, HoursSpec, MonthsSpec, YearsSpec
    *(Valid(HS_MINUTES, f"{minutes} 0 * * ? *") for minutes in ["*", "5", "10-12", "5/15"]),
    Expands(HS_MINUTES, "0,15,30 0 * * ? *", minutes=(0, 15, 30)),
    Expands(HS_MINUTES, "* 0 * * ? *", minutes=span(0, 59)),
    Invalid(HS_MINUTES, "75/5 0 * * ? *", 1),
    Invalid(HS_MINUTES, "10/0 0 * * ? *", 1),
    *(Valid(HS_HOURS, f"0 {hours} * * ? *") for hours in ["*", "7", "8-12", "3/4"]),
    Expands(HS_HOURS, "0 1,12,18 * * ? *", hours=(1, 12, 18)),
    Expands(HS_HOURS, "0 * * * ? *", hours=span(0, 23)),
    Invalid(HS_HOURS, "0 25/2 * * ? *", 2),
    Invalid(HS_HOURS, "0 3/0 * * ? *", 2),
    *(Valid(HS_MONTHS, f"0 0 1 {month} ? *") for month in ["*", "3", "Feb", "3-5", "6/2"]),
    Expands(HS_MONTHS, "0 0 1 Jan,4,Aug ? *", months=(1, 4, 8)),
    Expands(HS_MONTHS, "0 0 1 Jan,jan,1 ? *", months=(1,)),
    Expands(HS_MONTHS, "0 0 1 * ? *", months=span(1, 12)),
    Invalid(HS_MONTHS, "0 0 1 20 ? *", 4),
    Invalid(HS_MONTHS, "0 0 1 Foo ? *", 4),
    Expands(HS_MONTHS, "0 0 1 5-3 ? *", months=(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12), differs=WRAP),
    Invalid(HS_MONTHS, "0 0 1 0/2 ? *", 4),
    Invalid(HS_MONTHS, "0 0 1 5/0 ? *", 4),
    *(Valid(HS_YEARS, f"0 0 1 1 ? {years}") for years in ["*", "2025", "1975-1980", "2000/5"]),
    Expands(HS_YEARS, "0 0 1 1 ? 1970,2020,2199", years=(1970, 2020, 2199)),
    Expands(HS_YEARS, "0 0 1 1 ? 1970,1970,2199", years=(1970, 2199)),
    Expands(HS_YEARS, "0 0 1 1 ? *", years=span(1970, 2199)),
    Invalid(HS_YEARS, "0 0 1 1 ? 1969/2", 6),
    Invalid(HS_YEARS, "0 0 1 1 ? 1980/0", 6),
    Invalid(HS_YEARS, "0 0 1 1 ? 2250", 6),
    Invalid(HS_YEARS, "0 0 1 1 ? 2025-2020", 6),
]

CASES: list[Case] = [*_QUARTZ, *_HASKELL]
