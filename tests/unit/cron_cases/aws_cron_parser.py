"""Cases from beemhq/aws-cron-parser (TypeScript).

Its ``next`` is strictly after an instant, its ``prev`` before the minute that holds it; UTC.
"""

from __future__ import annotations

from tests.unit.cron_cases import Before, Case, Expands, Fires, span

_TS = "beemhq/aws-cron-parser"
NEXT_TS = f"{_TS} src/tests/lib/next.test.ts"
PREV_TS = f"{_TS} src/tests/lib/prev.test.ts"
PARSE_TS = f"{_TS} src/tests/lib/parse.test.ts"
BOTH_TS = f"{_TS} src/tests/awsCronParser.test.ts"

MAY_9 = "2020-05-09T22:30:57"
DEC_7 = "2020-12-07T15:57:37"

MAR4 = (
    "2020-07-25T17:23", "2020-07-25T17:24", "2020-07-25T17:25", "2020-07-25T18:23",
    "2020-07-25T18:24", "2020-07-25T18:25", "2020-11-25T17:23", "2020-11-25T17:24",
    "2020-11-25T17:25", "2020-11-25T18:23",
)  # fmt: skip
LAST_FRIDAYS = (
    "2020-05-29T10:15", "2020-06-26T10:15", "2020-07-31T10:15", "2020-08-28T10:15",
    "2020-09-25T10:15", "2020-10-30T10:15", "2020-11-27T10:15", "2020-12-25T10:15",
    "2021-01-29T10:15", "2021-02-26T10:15",
)  # fmt: skip
EVERY_3_HOURS = ("2020-12-07T18:00", "2020-12-07T21:00", "2020-12-08T00:00", "2020-12-08T03:00")
SUN_MON = ("2020-12-13T12:15", "2020-12-14T12:15", "2020-12-20T12:15", "2020-12-21T12:15")
HOURS_7_5 = ("2020-12-07T17:10", "2020-12-07T22:10", "2021-01-07T07:10", "2021-01-07T12:10")
MAY_9_22 = (
    "2021-05-09T22:00", "2021-05-09T22:05", "2021-05-09T22:10", "2021-05-09T22:15",
    "2021-05-09T22:20", "2021-05-09T22:25", "2022-05-09T22:00", "2022-05-09T22:05",
    "2022-05-09T22:10", "2022-05-09T22:15", "2022-05-09T22:20", "2022-05-09T22:25",
)  # fmt: skip
L_2 = (
    "2020-05-29T09:30", "2020-06-28T09:30", "2020-07-29T09:30", "2020-08-29T09:30",
    "2020-09-28T09:30", "2020-10-29T09:30", "2020-11-28T09:30",
)  # fmt: skip
PREV_MAR4 = (
    "2020-03-25T18:25", "2020-03-25T18:24", "2020-03-25T18:23", "2020-03-25T17:25",
    "2020-03-25T17:24", "2020-03-25T17:23", "2019-11-25T18:25", "2019-11-25T18:24",
    "2019-11-25T18:23", "2019-11-25T17:25",
)  # fmt: skip

_TYPESCRIPT: list[Case] = [
    Fires(NEXT_TS, "23,24,25 17,18 25 MAR/4 ? 2020,2021,2023,2028", MAY_9, MAR4),
    Fires(NEXT_TS, "15 10 ? * 6L 2002-2025", MAY_9, LAST_FRIDAYS),
    Fires(NEXT_TS, "0 */3 */1 * ? *", DEC_7, EVERY_3_HOURS),
    Fires(NEXT_TS, "15 12 ? * sun,mon *", DEC_7, SUN_MON),
    Fires(NEXT_TS, "10 7/5 7 * ? 2020,2021", DEC_7, HOURS_7_5),
    Fires(NEXT_TS, "0-29/5 22 09 05 ? 2020,2021,2022", MAY_9, MAY_9_22),
    Fires(NEXT_TS, "30 9 L-2 * ? *", MAY_9, L_2),
    Before(PREV_TS, "23,24,25 17,18 25 MAR/4 ? 2019,2020,2021,2023,2028", MAY_9, PREV_MAR4),
    Expands(
        PARSE_TS,
        "6 4/3 8,18-20,26-28 * ? 2020-2030",
        minutes=(6,),
        hours=(4, 7, 10, 13, 16, 19, 22),
        days_of_month=(8, 18, 19, 20, 26, 27, 28),
        months=span(1, 12),
        days_of_week=(),
        years=span(2020, 2030),
    ),
    Expands(
        PARSE_TS,
        "2/13 5-8,17,21-23 * NOV ? *",
        minutes=(2, 15, 28, 41, 54),
        hours=(5, 6, 7, 8, 17, 21, 22, 23),
        days_of_month=span(1, 31),
        months=(11,),
        days_of_week=(),
        years=span(1970, 2199),
    ),
    Expands(
        PARSE_TS,
        "1,24,50-55,58 * 25 MAR/4 ? 2020,2021,2023,2028",
        minutes=(1, 24, 50, 51, 52, 53, 54, 55, 58),
        hours=span(0, 23),
        days_of_month=(25,),
        months=(3, 7, 11),
        days_of_week=(),
        years=(2020, 2021, 2023, 2028),
    ),
    Expands(
        PARSE_TS,
        "* 14 6/10 FEB-JUN,OCT ? 2021/20",
        minutes=span(0, 59),
        hours=(14,),
        days_of_month=(6, 16, 26),
        months=(2, 3, 4, 5, 6, 10),
        days_of_week=(),
        years=span(2021, 2199, 20),
    ),
    # The library's days_of_week ['L', 6] is the special 6L: no plain weekday values.
    Expands(
        PARSE_TS,
        "15 10 ? * 6L 2002-2025",
        minutes=(15,),
        hours=(10,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(),
        years=span(2002, 2025),
    ),
    Expands(
        PARSE_TS,
        "*/5 10 ? * MON-FRI *",
        minutes=span(0, 55, 5),
        hours=(10,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=span(2, 6),
        years=span(1970, 2199),
    ),
    Expands(
        PARSE_TS,
        "0 */3 */1 * ? *",
        minutes=(0,),
        hours=span(0, 21, 3),
        days_of_month=span(1, 31),
        months=span(1, 12),
        days_of_week=(),
        years=span(1970, 2199),
    ),
    Expands(
        PARSE_TS,
        "15 12 ? * sun,mon *",
        minutes=(15,),
        hours=(12,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(1, 2),
        years=span(1970, 2199),
    ),
    Expands(
        PARSE_TS,
        "10 7/5 7 * ? 2020",
        minutes=(10,),
        hours=span(7, 22, 5),
        days_of_month=(7,),
        months=span(1, 12),
        days_of_week=(),
        years=(2020,),
    ),
    Expands(
        PARSE_TS,
        "0-29/5 22 09 05 ? 2020",
        minutes=span(0, 25, 5),
        hours=(22,),
        days_of_month=(9,),
        months=(5,),
        days_of_week=(),
        years=(2020,),
    ),
    # ['L', 2] is the special L-2.
    Expands(
        PARSE_TS,
        "30 9 L-2 * ? *",
        minutes=(30,),
        hours=(9,),
        days_of_month=(),
        months=span(1, 12),
        days_of_week=(),
        years=span(1970, 2199),
    ),
]

# awsCronParser.test.ts: [cron, next after MAY_9, prev before MAY_9].
_NEXT_AND_PREV = [
    ("1,24,50-55,58 * 25 MAR/4 ? 2020,2021,2023,2028", "2020-07-25T00:01", "2020-03-25T23:58"),
    ("9 * 7,9,11 3,5,7 ? 2021", "2021-03-07T00:09", None),
    ("9 * 7,9,11 5 ? 2021", "2021-05-07T00:09", None),
    ("9 * 7,9,11 5 ? 2020", "2020-05-09T23:09", "2020-05-09T22:09"),
    ("9 8-20 7,9,11 5 ? 2020", "2020-05-11T08:09", "2020-05-09T20:09"),
    ("9 8-20 ? 5 MON-WED,FRI 2020", "2020-05-11T08:09", "2020-05-08T20:09"),
    ("3 2-5 ? 4,6,8,10 TUE,THU,SAT 2020", "2020-06-02T02:03", "2020-04-30T05:03"),
    ("9 * L 5 ? 2019,2020", "2020-05-31T00:09", "2019-05-31T23:09"),
    ("19 4 L 9 ? 2019,2020", "2020-09-30T04:19", "2019-09-30T04:19"),
    ("19 4 3W 9 ? 2019,2020", "2020-09-03T04:19", "2019-09-03T04:19"),
    ("19 4 5W 9 ? 2019,2020", "2020-09-04T04:19", "2019-09-05T04:19"),
    ("9 8-20 ? 8 5#2 2019,2020", "2020-08-13T08:09", "2019-08-08T20:09"),
    ("9 8-20 ? 8 5#3 2019,2020", "2020-08-20T08:09", "2019-08-15T20:09"),
    ("9 8-20 ? 12 3#1 2019,2020", "2020-12-01T08:09", "2019-12-03T20:09"),
    ("9 8-20 ? 12 3#5 2019,2020", "2020-12-29T08:09", "2019-12-31T20:09"),
    ("0 0 1 1 ? *", "2021-01-01T00:00", "2020-01-01T00:00"),
    ("0 1 2 3 ? *", "2021-03-02T01:00", "2020-03-02T01:00"),
    ("7 1 2 3 ? *", "2021-03-02T01:07", "2020-03-02T01:07"),
    ("* * 2 3 ? *", "2021-03-02T00:00", "2020-03-02T23:59"),
]
for _cron, _next, _prev in _NEXT_AND_PREV:
    _TYPESCRIPT.append(Fires(BOTH_TS, _cron, MAY_9, (_next,)))
    if _prev is not None:  # the test leaves it undefined: none in the years listed
        _TYPESCRIPT.append(Before(BOTH_TS, _cron, MAY_9, (_prev,)))

CASES: list[Case] = _TYPESCRIPT
