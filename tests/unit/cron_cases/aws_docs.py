"""Cases from AWS's own documentation: EventBridge's cron reference and EventBridge Scheduler's
schedule types (its field table, wildcards and limits are the same text).

The docs give meanings ("Run at 10:00 am (UTC+0) every day"); each case pins that meaning to
concrete instants worked out on the calendar.
"""

from __future__ import annotations

from tests.unit.cron_cases import Case, Fires, Invalid, Valid

# Read from awsdocs/amazon-eventbridge-user-guide doc_source/eb-create-rule-schedule.md @ 896fdda,
# the source of this page (the repository was archived after that commit).
CRON_REFERENCE = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html"
SCHEDULE_TYPES = "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html"
DST = "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#daylist-savings-time"
# The knowledge-center article quotes the rule: "When the time shifts forward in Spring, your
# schedule invocation gets skipped if the cron expression falls on a non-existent date and time.
# When the time shifts back in the Fall, your schedule runs only once".
DST_ARTICLE = "https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst"

_EXAMPLES: list[Case] = [
    # The examples table ("Minutes Hours Day-of-month Month Day-of-week Year Meaning").
    Fires(
        CRON_REFERENCE,
        "0 10 * * ? *",
        "2026-01-05T00:00",
        ("2026-01-05T10:00", "2026-01-06T10:00", "2026-01-07T10:00"),
    ),
    Fires(
        CRON_REFERENCE,
        "15 12 * * ? *",
        "2026-01-05T12:15",
        ("2026-01-06T12:15", "2026-01-07T12:15"),
    ),
    Fires(
        CRON_REFERENCE,
        "0 18 ? * MON-FRI *",
        "2026-01-09T19:00",  # a Friday evening
        (
            "2026-01-12T18:00",
            "2026-01-13T18:00",
            "2026-01-14T18:00",
            "2026-01-15T18:00",
            "2026-01-16T18:00",
            "2026-01-19T18:00",
        ),
    ),
    Fires(
        CRON_REFERENCE,
        "0 8 1 * ? *",
        "2026-01-15T00:00",
        ("2026-02-01T08:00", "2026-03-01T08:00", "2026-04-01T08:00"),
    ),
    Fires(
        CRON_REFERENCE,
        "0/15 * * * ? *",
        "2026-01-05T10:07",
        ("2026-01-05T10:15", "2026-01-05T10:30", "2026-01-05T10:45", "2026-01-05T11:00"),
    ),
    Fires(
        CRON_REFERENCE,
        "0/10 * ? * MON-FRI *",
        "2026-01-09T23:45",
        ("2026-01-09T23:50", "2026-01-12T00:00", "2026-01-12T00:10"),
    ),
    # "between 8:00 am and 5:55 pm"
    Fires(
        CRON_REFERENCE,
        "0/5 8-17 ? * MON-FRI *",
        "2026-01-12T17:50",
        ("2026-01-12T17:55", "2026-01-13T08:00", "2026-01-13T08:05"),
    ),
    Fires(CRON_REFERENCE, "0/5 8-17 ? * MON-FRI *", "2026-01-16T17:56", ("2026-01-19T08:00",)),
    # "Run every 30 minutes Monday through Friday between 10:00 pm on the starting day to 2:00 am
    # on the following day (UTC). Run from 12:00 am to 2:00 am on Monday morning (UTC)." The
    # hours wrap (20-23, 0-2; the "10:00 pm" of the text is the doc's slip for 8 pm) and every
    # field is matched against the fire's own date, so Friday night runs to 23:30, Saturday
    # morning is not a weekday, and Monday morning is; hour 2 with 0/30 is 02:00 and 02:30.
    Fires(
        CRON_REFERENCE,
        "0/30 20-2 ? * MON-FRI *",
        "2026-01-09T19:00",
        (
            "2026-01-09T20:00",
            "2026-01-09T20:30",
            "2026-01-09T21:00",
            "2026-01-09T21:30",
            "2026-01-09T22:00",
            "2026-01-09T22:30",
            "2026-01-09T23:00",
            "2026-01-09T23:30",
            "2026-01-12T00:00",
            "2026-01-12T00:30",
            "2026-01-12T01:00",
            "2026-01-12T01:30",
            "2026-01-12T02:00",
            "2026-01-12T02:30",
            "2026-01-12T20:00",
        ),
        until="2026-01-12T20:00",
    ),
    # The put-rule examples.
    Fires(CRON_REFERENCE, "0 12 * * ? *", "2026-01-05T12:00", ("2026-01-06T12:00",)),
    Fires(
        CRON_REFERENCE,
        "5,35 14 * * ? *",
        "2026-01-05T00:00",
        ("2026-01-05T14:05", "2026-01-05T14:35", "2026-01-06T14:05"),
    ),
    Fires(
        CRON_REFERENCE,
        "15 10 ? * 6L 2019-2022",
        "2022-10-01T00:00",
        ("2022-10-28T10:15", "2022-11-25T10:15", "2022-12-30T10:15"),
        ends=True,
    ),
]

_WILDCARDS: list[Case] = [
    # "In the Month field, JAN,FEB,MAR includes January, February, and March."
    Fires(
        CRON_REFERENCE,
        "0 0 1 JAN,FEB,MAR ? *",
        "2026-01-15T00:00",
        ("2026-02-01T00:00", "2026-03-01T00:00", "2027-01-01T00:00"),
    ),
    # "In the Day field, 1-15 includes days 1 through 15 of the specified month."
    Fires(
        CRON_REFERENCE,
        "0 0 1-15 * ? *",
        "2026-01-14T12:00",
        ("2026-01-15T00:00", "2026-02-01T00:00", "2026-02-02T00:00"),
    ),
    # "In the Hours field, * includes every hour."
    Fires(
        CRON_REFERENCE,
        "0 * * * ? *",
        "2026-01-05T22:30",
        ("2026-01-05T23:00", "2026-01-06T00:00", "2026-01-06T01:00"),
    ),
    # "you could enter 1/10 to specify every tenth minute, starting from the first minute of the
    # hour (for example, the 11th, 21st, and 31st minute, and so on)"
    Fires(
        CRON_REFERENCE,
        "1/10 * * * ? *",
        "2026-01-05T10:00",
        (
            "2026-01-05T10:01",
            "2026-01-05T10:11",
            "2026-01-05T10:21",
            "2026-01-05T10:31",
            "2026-01-05T10:41",
            "2026-01-05T10:51",
            "2026-01-05T11:01",
        ),
    ),
    # "In the Day-of-month field you could enter 7 and if any day of the week was acceptable, you
    # could enter ? in the Day-of-week field."
    Fires(
        CRON_REFERENCE, "0 0 7 * ? *", "2026-01-07T00:00", ("2026-02-07T00:00", "2026-03-07T00:00")
    ),
    # "The L wildcard in the Day-of-month or Day-of-week fields specifies the last day of the
    # month or week." The last day of the week is Saturday (7).
    Fires(
        CRON_REFERENCE,
        "0 0 L * ? *",
        "2026-01-15T00:00",
        ("2026-01-31T00:00", "2026-02-28T00:00", "2026-03-31T00:00"),
    ),
    Fires(
        CRON_REFERENCE,
        "0 0 ? * L *",
        "2026-01-05T00:00",
        ("2026-01-10T00:00", "2026-01-17T00:00", "2026-01-24T00:00"),
    ),
    # "In the Day-of-month field, 3W specifies the weekday closest to the third day of the month."
    # 2026-01-03 is a Saturday: Friday the 2nd.
    Fires(
        CRON_REFERENCE,
        "0 0 3W * ? *",
        "2026-01-01T00:00",
        ("2026-01-02T00:00", "2026-02-03T00:00", "2026-03-03T00:00"),
    ),
    # 2026-05-03 is a Sunday: Monday the 4th.
    Fires(CRON_REFERENCE, "0 0 3W * ? *", "2026-05-01T00:00", ("2026-05-04T00:00",)),
    # "3#2 would be the second Tuesday of the month"
    Fires(
        CRON_REFERENCE,
        "0 0 ? * 3#2 *",
        "2026-01-01T00:00",
        ("2026-01-13T00:00", "2026-02-10T00:00", "2026-03-10T00:00"),
    ),
    # "If you use a '#' character, you can define only one expression in the day-of-week field.
    # For example, "3#1,6#3" is not valid because it is interpreted as two expressions."
    Invalid(CRON_REFERENCE, "0 0 ? * 3#1,6#3 *", 5),
    Invalid(CRON_REFERENCE, "0 0 ? * 2#1,4 *", 5),
    Invalid(CRON_REFERENCE, "0 0 ? * MON,3#2 *", 5),
    # The wildcards each field allows (the table's third column).
    Invalid(CRON_REFERENCE, "? 0 * * ? *", 1),
    Invalid(CRON_REFERENCE, "0 ? * * ? *", 2),
    Invalid(CRON_REFERENCE, "0 0 * ? ? *", 4),
    Invalid(CRON_REFERENCE, "0 0 1 * ? ?", 6),
    Invalid(CRON_REFERENCE, "L 0 * * ? *", 1),
    Invalid(CRON_REFERENCE, "0 L * * ? *", 2),
    Invalid(CRON_REFERENCE, "0 0 1 L ? *", 4),
    Invalid(CRON_REFERENCE, "0 0 1 * ? L", 6),
    Invalid(CRON_REFERENCE, "0 0 ? * 3W *", 5),
    Invalid(CRON_REFERENCE, "0 0 3#2 * ? *", 3),
    Invalid(CRON_REFERENCE, "0 3#2 * * ? *", 2),
    Invalid(CRON_REFERENCE, "0 0 1 1#2 ? *", 4),
]

_LIMITS: list[Case] = [
    # "You can't specify the Day-of-month and Day-of-week fields in the same cron expression. If
    # you specify a value or a * (asterisk) in one of the fields, you must use a ? (question
    # mark) in the other." / "You can't use * in both the Day-of-month and Day-of-week fields."
    Invalid(CRON_REFERENCE, "0 18 * * MON-FRI *", None),
    Invalid(CRON_REFERENCE, "0 18 * * * *", None),
    Invalid(CRON_REFERENCE, "0 18 1 * 2 *", None),
    Invalid(CRON_REFERENCE, "0 18 ? * ? *", None),
    Valid(CRON_REFERENCE, "0 18 * * ? *"),
    Valid(CRON_REFERENCE, "0 18 ? * * *"),
    # "Cron expressions have six required fields"
    Invalid(CRON_REFERENCE, "0 18 * * ?", None),
    Invalid(CRON_REFERENCE, "0 0 18 * * ? *", None),
    # The values column: Minutes 0-59, Hours 0-23, Day-of-month 1-31, Month 1-12 or JAN-DEC,
    # Day-of-week 1-7 or SUN-SAT, Year 1970-2199.
    Valid(CRON_REFERENCE, "59 23 31 12 ? 2199"),
    Valid(CRON_REFERENCE, "0 0 1 1 ? 1970"),
    Invalid(CRON_REFERENCE, "60 0 * * ? *", 1),
    Invalid(CRON_REFERENCE, "0 24 * * ? *", 2),
    Invalid(CRON_REFERENCE, "0 0 0 * ? *", 3),
    Invalid(CRON_REFERENCE, "0 0 32 * ? *", 3),
    Invalid(CRON_REFERENCE, "0 0 1 0 ? *", 4),
    Invalid(CRON_REFERENCE, "0 0 1 13 ? *", 4),
    Invalid(CRON_REFERENCE, "0 0 1 JANUARY ? *", 4),
    Invalid(CRON_REFERENCE, "0 0 ? * 0 *", 5),
    Invalid(CRON_REFERENCE, "0 0 ? * 8 *", 5),
    Invalid(CRON_REFERENCE, "0 0 ? * MONDAY *", 5),
    Invalid(CRON_REFERENCE, "0 0 1 1 ? 1969", 6),
    Invalid(CRON_REFERENCE, "0 0 1 1 ? 2200", 6),
    Fires(CRON_REFERENCE, "0 0 1 JAN ? 2199", "2198-06-01T00:00", ("2199-01-01T00:00",), ends=True),
    # Day-of-week numbers: 1 is Sunday ... 7 is Saturday; the names mean the same days.
    Fires(CRON_REFERENCE, "0 0 ? * 1 *", "2026-01-05T00:00", ("2026-01-11T00:00",)),
    Fires(CRON_REFERENCE, "0 0 ? * SUN *", "2026-01-05T00:00", ("2026-01-11T00:00",)),
    Fires(CRON_REFERENCE, "0 0 ? * 7 *", "2026-01-05T00:00", ("2026-01-10T00:00",)),
    Fires(
        CRON_REFERENCE,
        "0 0 ? * 2-6 *",
        "2026-01-09T00:00",
        ("2026-01-12T00:00", "2026-01-13T00:00"),
    ),
    Fires(
        CRON_REFERENCE,
        "0 0 ? * SUN-SAT *",
        "2026-01-09T00:00",
        ("2026-01-10T00:00", "2026-01-11T00:00"),
    ),
]

_SCHEDULER: list[Case] = [
    # EventBridge Scheduler evaluates a cron in the schedule's time zone.
    Fires(
        SCHEDULE_TYPES,
        "0 9 * * ? *",
        "2026-03-28T00:00",
        ("2026-03-28T09:00+01:00", "2026-03-29T09:00+02:00"),
        tz="Europe/Paris",
    ),
    Fires(
        SCHEDULE_TYPES,
        "30 9 ? * MON-FRI *",
        "2026-11-20T00:00",
        ("2026-11-20T09:30", "2026-11-23T09:30"),
        tz="Asia/Tokyo",
    ),
    # A time a spring-forward skips does not run that day: 2027-03-14 02:00 New York jumps to
    # 03:00, and 2027-03-28 01:00 London to 02:00.
    Fires(
        DST_ARTICLE,
        "30 2 * * ? *",
        "2027-03-13T00:00",
        ("2027-03-13T02:30", "2027-03-15T02:30"),
        tz="America/New_York",
    ),
    Fires(
        DST,
        "15 1 * * ? *",
        "2027-03-27T00:00",
        ("2027-03-27T01:15", "2027-03-29T01:15"),
        tz="Europe/London",
    ),
    # A time a fall-back repeats runs once, at its first occurrence (EDT, -04:00).
    Fires(
        DST_ARTICLE,
        "30 1 * * ? *",
        "2026-10-31T12:00",
        ("2026-11-01T01:30-04:00", "2026-11-02T01:30-05:00"),
        tz="America/New_York",
    ),
    Fires(
        DST,
        "0/20 1 * * ? *",
        "2026-11-01T00:50-04:00",
        (
            "2026-11-01T01:00-04:00",
            "2026-11-01T01:20-04:00",
            "2026-11-01T01:40-04:00",
            "2026-11-02T01:00-05:00",
        ),
        tz="America/New_York",
    ),
]

CASES: list[Case] = [*_EXAMPLES, *_WILDCARDS, *_LIMITS, *_SCHEDULER]
