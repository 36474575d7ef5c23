"""Schedules: fire times correct in time zones and across DST (examples, then properties)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timer_service.schedules import (
    RateSchedule,
    Timing,
    first_rate_fire_s,
    parse_schedule,
)

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Santiago",
]
DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def epoch(*args: int, tz: str = "UTC") -> int:
    return int(datetime(*args, tzinfo=ZoneInfo(tz)).timestamp())  # type: ignore[misc]


def local(fire_s: int, tz: str) -> datetime:
    return datetime.fromtimestamp(fire_s, tz=ZoneInfo(tz))


def fires(expression: str, after_s: int, count: int = 5, tz: str = "UTC", **kw: int) -> list[int]:
    return Timing(parse_schedule(expression), tz, **kw).next_fires(after_s, count)


# --- fire times: examples -------------------------------------------------------------------


def test_rate_keeps_the_second_of_its_anchor() -> None:
    created = epoch(2026, 11, 22, 12, 0, 37)
    schedule = parse_schedule("rate(5 minutes)")
    assert isinstance(schedule, RateSchedule)
    first = first_rate_fire_s(schedule, created_s=created, start_s=None)
    times = fires("rate(5 minutes)", created, 3, first_fire_s=first)
    assert [local(s, "UTC").strftime("%H:%M:%S") for s in times] == [
        "12:05:37",
        "12:10:37",
        "12:15:37",
    ]


def test_rate_with_start_at_fires_first_at_start() -> None:
    schedule = parse_schedule("rate(1 hour)")
    assert isinstance(schedule, RateSchedule)
    start = epoch(2027, 1, 1, 8, 0, 0)
    assert first_rate_fire_s(schedule, created_s=start - 3600 * 24, start_s=start) == start


def test_cron_weekdays_in_time_zone() -> None:
    after = epoch(2026, 11, 20, 0, 0, tz="Europe/Paris")  # a Friday
    times = fires("cron(30 9 ? * MON-FRI *)", after, 3, tz="Europe/Paris")
    assert [local(s, "Europe/Paris").strftime("%a %d %H:%M") for s in times] == [
        "Fri 20 09:30",
        "Mon 23 09:30",
        "Tue 24 09:30",
    ]


@pytest.mark.parametrize(
    ("expression", "expected_days"),
    [
        ("cron(0 12 L * ? *)", ["2026-01-31", "2026-02-28", "2026-03-31"]),
        ("cron(0 12 15W * ? *)", ["2026-01-15", "2026-02-16", "2026-03-16"]),  # Feb 15: Sunday
        ("cron(0 12 1W * ? *)", ["2026-01-01", "2026-02-02", "2026-03-02"]),  # Feb 1: Sunday
        ("cron(0 12 ? * 6L *)", ["2026-01-30", "2026-02-27", "2026-03-27"]),  # last Friday
        ("cron(0 12 ? * 2#1 *)", ["2026-01-05", "2026-02-02", "2026-03-02"]),  # first Monday
        ("cron(0 12 ? * TUE#3 *)", ["2026-01-20", "2026-02-17", "2026-03-17"]),
        ("cron(0 12 1 JAN,JUL ? 2027-2028)", ["2027-01-01", "2027-07-01", "2028-01-01"]),
    ],
)
def test_cron_special_characters_pick_the_right_days(
    expression: str, expected_days: list[str]
) -> None:
    times = fires(expression, epoch(2026, 1, 1), 3)
    assert [local(s, "UTC").date().isoformat() for s in times] == expected_days


def test_cron_year_list_ends_when_years_run_out() -> None:
    assert fires("cron(0 0 1 1 ? 2027)", epoch(2026, 6, 1), 5) == [epoch(2027, 1, 1)]


@pytest.mark.parametrize(
    ("tz", "expression", "after", "expected"),
    [
        # 2027-03-14 02:00 New York jumps to 03:00: 02:30 does not exist that day.
        (
            "America/New_York",
            "cron(30 2 * * ? *)",
            (2027, 3, 13, 0, 0),
            ["03-13 02:30", "03-15 02:30", "03-16 02:30"],
        ),
        # 2027-03-28 01:00 London jumps to 02:00: 01:15 does not exist that day.
        (
            "Europe/London",
            "cron(15 1 * * ? *)",
            (2027, 3, 27, 0, 0),
            ["03-27 01:15", "03-29 01:15", "03-30 01:15"],
        ),
        # 2026-10-04 02:00 Lord Howe jumps to 02:30 (a half-hour shift): 02:15 does not exist,
        # 02:45 does.
        (
            "Australia/Lord_Howe",
            "cron(15 2 * * ? *)",
            (2026, 10, 3, 0, 0),
            ["10-03 02:15", "10-05 02:15", "10-06 02:15"],
        ),
        (
            "Australia/Lord_Howe",
            "cron(45 2 * * ? *)",
            (2026, 10, 3, 0, 0),
            ["10-03 02:45", "10-04 02:45", "10-05 02:45"],
        ),
    ],
)
def test_cron_time_that_a_spring_forward_skips_does_not_fire_that_day(
    tz: str, expression: str, after: tuple[int, ...], expected: list[str]
) -> None:
    start = int(datetime(*after, tzinfo=ZoneInfo(tz)).timestamp())  # type: ignore[misc]
    times = fires(expression, start, 3, tz=tz)
    assert [local(s, tz).strftime("%m-%d %H:%M") for s in times] == expected


def test_cron_wildcard_hours_run_through_a_spring_forward_on_the_clock() -> None:
    after = epoch(2027, 3, 14, 1, 30, tz="America/New_York")
    times = fires("cron(0/20 * * * ? *)", after, 4, tz="America/New_York")
    wall = [local(s, "America/New_York").strftime("%H:%M") for s in times]
    assert wall == ["01:40", "03:00", "03:20", "03:40"]  # 02:xx does not exist


def test_cron_fall_back_overlap_fires_fixed_hour_once() -> None:
    # 2026-11-01 01:00-02:00 America/New_York happens twice.
    times = fires("cron(30 1 * * ? *)", epoch(2026, 10, 31, 12, 0), 2, tz="America/New_York")
    assert times[1] - times[0] == 25 * 3600  # the next day's 01:30 is 25 h later, not 24
    assert [local(s, "America/New_York").strftime("%d %H:%M") for s in times] == [
        "01 01:30",
        "02 01:30",
    ]


@pytest.mark.parametrize(
    ("tz", "expression", "day"),
    [
        ("America/New_York", "cron(0/20 1 * * ? *)", (2027, 11, 7)),
        ("Europe/London", "cron(0/20 1 * * ? *)", (2027, 10, 31)),
        ("Australia/Lord_Howe", "cron(35/10 1 * * ? *)", (2027, 4, 4)),
    ],
)
def test_cron_named_hour_runs_each_wall_time_once_in_a_repeated_hour(
    tz: str, expression: str, day: tuple[int, int, int]
) -> None:
    start = int(datetime(*day, tzinfo=ZoneInfo(tz)).timestamp())
    end = start + 36 * 3600
    times = fires(expression, start, 20, tz=tz, end_s=end)
    walls = [local(s, tz).strftime("%d %H:%M") for s in times]
    assert len(walls) == len(set(walls))  # no wall-clock time twice
    first_day = [w for w in walls if w.startswith(f"{day[2]:02d} ")]
    assert len(first_day) == len([w for w in walls if not w.startswith(f"{day[2]:02d} ")])


@pytest.mark.parametrize("hours", ["0-23", "0/1", "*/1", "12-11"])
def test_cron_hours_covering_the_day_keep_cadence_in_fall_back_like_a_wildcard(
    hours: str,
) -> None:
    # GIVEN an hour field that allows every hour, written otherwise than `*`
    after = epoch(2026, 11, 1, 0, 45, tz="America/New_York")
    # WHEN it runs through the repeated 01:xx of a fall-back
    times = fires(f"cron(0/30 {hours} * * ? *)", after, 5, tz="America/New_York")
    # THEN it keeps its cadence of elapsed time, as `*` does
    assert {b - a for a, b in pairwise(times)} == {1800}


def test_cron_fall_back_overlap_keeps_wildcard_hours_firing() -> None:
    after = epoch(2026, 11, 1, 0, 45, tz="America/New_York")
    times = fires("cron(0/30 * * * ? *)", after, 5, tz="America/New_York")
    gaps = {b - a for a, b in pairwise(times)}
    assert gaps == {1800}  # every 30 minutes of real time, through both 01:xx passes


def test_at_fires_once_at_local_time() -> None:
    at = fires("at(2027-03-01T18:00:00)", epoch(2026, 1, 1), 5, tz="Asia/Tokyo")
    assert at == [epoch(2027, 3, 1, 9, 0)]
    assert fires("at(2027-03-01T18:00:00)", epoch(2028, 1, 1), 5, tz="Asia/Tokyo") == []


def test_bounds_limit_firings() -> None:
    start, end = epoch(2027, 1, 1, 10, 0), epoch(2027, 1, 1, 11, 0)
    times = fires("cron(0/20 * * * ? *)", epoch(2026, 1, 1), 10, start_s=start, end_s=end)
    assert [local(s, "UTC").strftime("%H:%M") for s in times] == [
        "10:00",
        "10:20",
        "10:40",
        "11:00",
    ]


# --- fire times: properties ---------------------------------------------------------------

minute_sets = st.sets(st.integers(0, 59), min_size=1, max_size=4)
hour_sets = st.sets(st.integers(0, 23), min_size=1, max_size=3)
day_of_week_sets = st.sets(st.integers(1, 7), min_size=1, max_size=7)
day_of_month_sets = st.sets(st.integers(1, 28), min_size=1, max_size=5)
month_sets = st.one_of(st.none(), st.sets(st.integers(1, 12), min_size=1, max_size=12))
instants = st.integers(epoch(2024, 1, 1), epoch(2030, 12, 31))


@st.composite
def cron_cases(draw: st.DrawFn) -> tuple[str, dict[str, set[int] | None], str, int]:
    minutes = draw(minute_sets)
    hours = draw(st.one_of(st.none(), hour_sets))
    months = draw(month_sets)
    by_weekday = draw(st.booleans())
    weekdays = draw(day_of_week_sets) if by_weekday else None
    days = None if by_weekday else draw(day_of_month_sets)

    def text(values: set[int] | None, names: list[str] | None = None) -> str:
        if values is None:
            return "*"
        return ",".join(names[v - 1] if names else str(v) for v in sorted(values))

    use_names = draw(st.booleans())
    fields = [
        text(minutes),
        text(hours),
        "?" if days is None else text(days),
        text(months),
        "?" if weekdays is None else text(weekdays, DAY_NAMES if use_names else None),
        "*",
    ]
    spec = {
        "minutes": minutes,
        "hours": hours,
        "days": days,
        "weekdays": weekdays,
        "months": months,
    }
    return f"cron({' '.join(fields)})", spec, draw(st.sampled_from(ZONES)), draw(instants)


@settings(max_examples=150, deadline=None)
@given(cron_cases())
def test_cron_fire_times_increase_and_match_fields(
    case: tuple[str, dict[str, set[int] | None], str, int],
) -> None:
    expression, spec, tz, after = case
    times = fires(expression, after, 12, tz=tz)
    assert times, expression
    assert times[0] >= after
    assert all(a < b for a, b in pairwise(times))
    for fire_s in times:
        wall = local(fire_s, tz)
        assert wall.second == 0
        if spec["months"] is not None:
            assert wall.month in spec["months"]
        if spec["days"] is not None:
            assert wall.day in spec["days"]
        if spec["weekdays"] is not None:
            assert (wall.isoweekday() % 7) + 1 in spec["weekdays"]  # EventBridge: 1 is Sunday
        assert wall.minute in spec["minutes"], (expression, tz, wall)
        assert spec["hours"] is None or wall.hour in spec["hours"], (expression, tz, wall)


@settings(max_examples=100, deadline=None)
@given(cron_cases(), st.integers(3600, 90 * 86400), st.integers(0, 30 * 86400))
def test_cron_fire_times_stay_inside_start_and_end(
    case: tuple[str, dict[str, set[int] | None], str, int], span_s: int, offset_s: int
) -> None:
    expression, _, tz, after = case
    start, end = after + offset_s, after + offset_s + span_s
    times = fires(expression, after, 20, tz=tz, start_s=start, end_s=end)
    assert all(start <= s <= end for s in times)


@settings(max_examples=100, deadline=None)
@given(cron_cases())
def test_cron_fixed_hours_never_repeat_a_wall_time_in_fall_back(
    case: tuple[str, dict[str, set[int] | None], str, int],
) -> None:
    expression, spec, tz, after = case
    if spec["hours"] is None:
        return
    times = fires(expression, after, 30, tz=tz)
    walls = [local(s, tz).replace(tzinfo=None) for s in times]
    assert len(walls) == len(set(walls))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 500),
    st.sampled_from(["minute", "hour", "day"]),
    instants,
    st.integers(0, 10**7),
)
def test_rate_fire_times_are_anchor_plus_whole_periods(
    value: int, unit: str, anchor: int, later: int
) -> None:
    expression = f"rate({value} {unit}{'s' if value > 1 else ''})"
    schedule = parse_schedule(expression)
    assert isinstance(schedule, RateSchedule)
    times = fires(expression, anchor + later, 5, first_fire_s=anchor)
    assert times[0] >= anchor + later
    assert times[0] - schedule.period_s < max(anchor + later, anchor) or times[0] == anchor
    assert all((s - anchor) % schedule.period_s == 0 for s in times)
    assert all(b - a == schedule.period_s for a, b in pairwise(times))
    assert all(s % 60 == anchor % 60 for s in times)


def test_fire_times_are_utc_epoch_seconds() -> None:
    (fire_s,) = fires("at(2027-06-01T00:00:00)", 0, 1, tz="UTC")
    assert datetime.fromtimestamp(fire_s, tz=UTC) == datetime(2027, 6, 1, tzinfo=UTC)
    assert timedelta(seconds=fire_s % 86400) == timedelta(0)
