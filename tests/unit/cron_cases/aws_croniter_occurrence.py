"""Cases from siddarth-patil/aws-croniter's occurrence and date-helper tests."""

from __future__ import annotations

from tests.unit.cron_cases import Before, Case, Fires, Invalid

_REPO = "siddarth-patil/aws-croniter"
OCCURRENCE = f"{_REPO} tests/test_occurrence.py"
UTILS = f"{_REPO} tests/test_utils.py"

_MAR4 = (
    "2020-07-25T17:23", "2020-07-25T17:24", "2020-07-25T17:25", "2020-07-25T18:23",
    "2020-07-25T18:24", "2020-07-25T18:25", "2020-11-25T17:23", "2020-11-25T17:24",
    "2020-11-25T17:25", "2020-11-25T18:23",
)  # fmt: skip
_OCCURRENCE_FILE: list[Case] = [
    # next(inclusive=True) from 17:23:57 counts the minute that holds it: 17:23 itself.
    Fires(
        OCCURRENCE, "23 17 25 7 ? 2020", "2020-07-25T17:23", ("2020-07-25T17:23",), inclusive=True
    ),
    Fires(
        OCCURRENCE, "23,24,25 17,18 25 MAR/4 ? 2020,2021,2023,2028", "2020-05-09T22:30:57", _MAR4
    ),
    Fires(
        OCCURRENCE,
        "15 10 ? * 6L 2002-2025",
        "2020-05-09T22:30:57",
        (
            "2020-05-29T10:15",
            "2020-06-26T10:15",
            "2020-07-31T10:15",
            "2020-08-28T10:15",
            "2020-09-25T10:15",
            "2020-10-30T10:15",
            "2020-11-27T10:15",
            "2020-12-25T10:15",
            "2021-01-29T10:15",
            "2021-02-26T10:15",
        ),
    ),
    Fires(
        OCCURRENCE,
        "0 */3 */1 * ? *",
        "2020-12-07T15:57:37",
        ("2020-12-07T18:00", "2020-12-07T21:00", "2020-12-08T00:00", "2020-12-08T03:00"),
    ),
    Fires(
        OCCURRENCE,
        "15 12 ? * sun,mon *",
        "2020-12-07T15:57:37",
        ("2020-12-13T12:15", "2020-12-14T12:15", "2020-12-20T12:15", "2020-12-21T12:15"),
    ),
    Fires(
        OCCURRENCE,
        "10 7/5 7 * ? 2020,2021",
        "2020-12-07T15:57:37",
        ("2020-12-07T17:10", "2020-12-07T22:10", "2021-01-07T07:10", "2021-01-07T12:10"),
    ),
    Fires(
        OCCURRENCE,
        "0-29/5 22 09 05 ? 2020,2021,2022",
        "2020-05-09T22:30:57",
        (
            "2021-05-09T22:00",
            "2021-05-09T22:05",
            "2021-05-09T22:10",
            "2021-05-09T22:15",
            "2021-05-09T22:20",
            "2021-05-09T22:25",
            "2022-05-09T22:00",
            "2022-05-09T22:05",
            "2022-05-09T22:10",
            "2022-05-09T22:15",
            "2022-05-09T22:20",
            "2022-05-09T22:25",
        ),
    ),
    Fires(
        OCCURRENCE,
        "30 9 L-2 * ? *",
        "2020-05-09T22:30:57",
        (
            "2020-05-29T09:30",
            "2020-06-28T09:30",
            "2020-07-29T09:30",
            "2020-08-29T09:30",
            "2020-09-28T09:30",
            "2020-10-29T09:30",
            "2020-11-28T09:30",
        ),
    ),
    Fires(
        OCCURRENCE,
        "30 9 3W * ? *",
        "2020-07-31T22:30:57",
        ("2020-08-03T09:30", "2020-09-03T09:30", "2020-10-02T09:30"),
    ),
    Fires(
        OCCURRENCE,
        "0 0 31W * ? 2020",
        "2020-04-30T22:30:57",
        ("2020-05-29T00:00", "2020-07-31T00:00", "2020-08-31T00:00"),
    ),
    Fires(
        OCCURRENCE, "0 0 31W * ? *", "2020-12-30T22:30:57", ("2020-12-31T00:00", "2021-01-29T00:00")
    ),
    Fires(
        OCCURRENCE,
        "5,4 * * * ? *",
        "2020-04-30T22:30:57",
        (
            "2020-04-30T23:04",
            "2020-04-30T23:05",
            "2020-05-01T00:04",
            "2020-05-01T00:05",
            "2020-05-01T01:04",
            "2020-05-01T01:05",
            "2020-05-01T02:04",
            "2020-05-01T02:05",
            "2020-05-01T03:04",
            "2020-05-01T03:05",
        ),
    ),
    Fires(
        OCCURRENCE,
        "15 12 ? AUG,JUL mon,sun *",
        "2020-12-07T15:57:37",
        (
            "2021-07-04T12:15",
            "2021-07-05T12:15",
            "2021-07-11T12:15",
            "2021-07-12T12:15",
            "2021-07-18T12:15",
            "2021-07-19T12:15",
            "2021-07-25T12:15",
            "2021-07-26T12:15",
            "2021-08-01T12:15",
            "2021-08-02T12:15",
        ),
    ),
    Before(
        OCCURRENCE,
        "23,24,25 17,18 25 MAR/4 ? 2019,2020,2021,2023,2028",
        "2020-05-09T22:30:57",
        (
            "2020-03-25T18:25",
            "2020-03-25T18:24",
            "2020-03-25T18:23",
            "2020-03-25T17:25",
            "2020-03-25T17:24",
            "2020-03-25T17:23",
            "2019-11-25T18:25",
            "2019-11-25T18:24",
            "2019-11-25T18:23",
            "2019-11-25T17:25",
        ),
    ),
    Before(
        OCCURRENCE,
        "23 17 25 7 ? 2020",
        "2020-07-25T17:23:57",
        ("2020-07-25T17:23",),
        inclusive=True,
        ends=True,
    ),
]

# DateUtils.get_days_of_month_from_days_of_week(year, month, days_of_week) -> days, set into a
# cron for that month: the days it fires on.
_DAYS_OF_WEEK = [
    (2023, 9, "2", (4, 11, 18, 25)),
    (2023, 9, "7", (2, 9, 16, 23, 30)),
    (2024, 2, "2L", (26,)),
    (2023, 11, "4#2", (8,)),
    (2023, 11, "6#3", (17,)),
    (2023, 12, "2,3", (4, 5, 11, 12, 18, 19, 25, 26)),
    (2023, 2, "1", (5, 12, 19, 26)),
    (2023, 4, "7L", (29,)),
    (2023, 6, "3#1", (6,)),
]
# DateUtils.get_days_of_month_for_W(year, month, day) -> the nearest weekday, or none.
_NEAREST_WEEKDAY = [
    (2024, 2, 29, (29,)),
    (2023, 2, 28, (28,)),
    (2023, 6, 3, (2,)),
    (2023, 6, 17, (16,)),
    (2023, 4, 5, (5,)),
    (2023, 12, 25, (25,)),
    (2023, 12, 26, (26,)),
]


def _month_cases() -> list[Case]:
    cases: list[Case] = []
    for year, month, dow, days in _DAYS_OF_WEEK:
        cases.append(
            Fires(
                UTILS,
                f"0 0 ? {month} {dow} {year}",
                f"{year}-{month:02d}-01T00:00",
                tuple(f"{year}-{month:02d}-{day:02d}T00:00" for day in days),
                inclusive=True,
                ends=True,
            )
        )
    for year, month, day, days in _NEAREST_WEEKDAY:
        cases.append(
            Fires(
                UTILS,
                f"0 0 {day}W {month} ? {year}",
                f"{year}-{month:02d}-01T00:00",
                tuple(f"{year}-{month:02d}-{d:02d}T00:00" for d in days),
                inclusive=True,
                ends=True,
            )
        )
    # (2024, 2, 35) -> []: 35W is out of range for every month.
    cases.append(Invalid(UTILS, "0 0 35W 2 ? 2024", 3))
    return cases


CASES: list[Case] = [*_OCCURRENCE_FILE, *_month_cases()]
