"""Schedule expressions in EventBridge Scheduler syntax and their fire times.

Three kinds, parsed by :func:`parse_schedule`:

- ``rate(5 minutes)``: every N minutes, hours or days from the timer's first firing; the
  firing keeps the second of its anchor.
- ``cron(0/15 8-17 ? * MON-FRI *)``: minutes, hours, day-of-month, month, day-of-week, year,
  evaluated in the timer's time zone by cronsim (``?``, ``L``, ``W``, ``#``, ranges, lists,
  steps).
- ``at(2026-12-24T18:00:00)``: once, at a local time in the timer's time zone.

Daylight saving time follows EventBridge Scheduler: a local time that a spring-forward skips
does not fire that day, and a local time that a fall-back repeats fires once, at its first
occurrence. A schedule whose hour field is a wildcard (``cron(0/15 * * * ? *)``) keeps its
cadence through both passes of the repeated hour: every 15 minutes of elapsed time.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, ConfigDict, Field

from timer_service.errors import InvalidScheduleError

__all__ = [
    "LATEST_FIRE_S",
    "MAX_YEAR",
    "MIN_YEAR",
    "AtSchedule",
    "CronSchedule",
    "RateSchedule",
    "Schedule",
    "Timing",
    "first_rate_fire_s",
    "load_timezone",
    "parse_schedule",
]

MAX_YEAR = 2199
MIN_YEAR = 1970
#: The last second a timer can fire (2199-12-31T23:59:59Z: cron's last year, in UTC). Firings
#: past it do not exist, so every fire time, startAt and endAt has a date-time to show.
LATEST_FIRE_S = calendar.timegm((MAX_YEAR + 1, 1, 1, 0, 0, 0)) - 1

_RATE_RE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_AT_RE = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")
_CRON_RE = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RateSchedule(_Model):
    """Every ``value`` ``unit``s, e.g. ``rate(5 minutes)``."""

    kind: Literal["rate"] = "rate"
    value: Annotated[int, Field(ge=1)]
    unit: Literal["minute", "hour", "day"]

    @property
    def period_s(self) -> int:
        return self.value * _UNIT_SECONDS[self.unit]

    @property
    def period_minutes(self) -> int:
        return self.period_s // 60

    @property
    def expression(self) -> str:
        return f"rate({self.value} {self.unit}{'' if self.value == 1 else 's'})"


class CronSchedule(_Model):
    """Six EventBridge cron fields, e.g. ``cron(0 12 ? * MON-FRI *)``."""

    kind: Literal["cron"] = "cron"
    minutes: str
    hours: str
    day_of_month: str
    month: str
    day_of_week: str
    year: str

    @property
    def expression(self) -> str:
        fields = (self.minutes, self.hours, self.day_of_month, self.month)
        return f"cron({' '.join((*fields, self.day_of_week, self.year))})"


class AtSchedule(_Model):
    """Once, at a local date and time, e.g. ``at(2026-12-24T18:00:00)``."""

    kind: Literal["at"] = "at"
    at: datetime  # naive: a wall-clock time in the timer's time zone

    @property
    def expression(self) -> str:
        return f"at({self.at.strftime('%Y-%m-%dT%H:%M:%S')})"


Schedule = RateSchedule | CronSchedule | AtSchedule


def parse_schedule(expression: str) -> Schedule:
    """Parse an EventBridge Scheduler expression; raise InvalidScheduleError saying where it fails.

    >>> parse_schedule("rate(5 minutes)").period_s
    300
    """
    text = expression.strip()
    if match := _RATE_RE.match(text):
        value = int(match.group(1))
        if value < 1:
            raise InvalidScheduleError(f"{text}: the rate value must be a positive whole number")
        unit = {"minute": "minute", "hour": "hour", "day": "day"}[match.group(2).rstrip("s")]
        return RateSchedule.model_validate({"value": value, "unit": unit})
    if match := _AT_RE.match(text):
        try:
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            at = datetime(year, month, day, hour, minute, second)
        except ValueError as exc:
            raise InvalidScheduleError(f"{text}: {exc}") from exc
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise InvalidScheduleError(f"{text}: the year must be {MIN_YEAR}-{MAX_YEAR}")
        return AtSchedule(at=at)
    if match := _CRON_RE.match(text):
        return _parse_cron(text, match.group(1))
    if text.startswith("rate("):
        raise InvalidScheduleError(
            f"{text}: expected rate(N minute|minutes|hour|hours|day|days), e.g. rate(5 minutes)"
        )
    if text.startswith("at("):
        raise InvalidScheduleError(f"{text}: expected at(YYYY-MM-DDThh:mm:ss)")
    raise InvalidScheduleError(
        f"{text!r} is not a schedule expression: use rate(...), cron(...) or at(...)"
    )


def load_timezone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The IANA zone called ``name``; InvalidScheduleError naming ``field`` when unknown."""
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidScheduleError(
            f"{name!r} is not an IANA time zone (e.g. UTC, Europe/Paris)", field=field
        ) from exc


# --- cron -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # symbolic values, numbered from ``low``


_SPECS = (
    _FieldSpec("minutes", 0, 59),
    _FieldSpec("hours", 0, 23),
    _FieldSpec("day-of-month", 1, 31),
    _FieldSpec("month", 1, 12, tuple(_MONTHS)),
    _FieldSpec("day-of-week", 1, 7, tuple(_DAYS)),
    _FieldSpec("year", MIN_YEAR, MAX_YEAR),
)


def _parse_cron(text: str, body: str) -> CronSchedule:
    fields = body.split()
    if len(fields) != 6:
        raise InvalidScheduleError(
            f"{text}: cron needs 6 fields (minutes hours day-of-month month day-of-week year),"
            f" got {len(fields)}"
        )
    for position, (spec, value) in enumerate(zip(_SPECS, fields, strict=True), start=1):
        _check_field(text, position, spec, value.upper())
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        raise InvalidScheduleError(
            f"{text}: exactly one of day-of-month (field 3) and day-of-week (field 5) must be '?'"
        )
    schedule = CronSchedule(
        minutes=fields[0],
        hours=fields[1],
        day_of_month=dom.upper(),
        month=fields[3].upper(),
        day_of_week=dow.upper(),
        year=fields[5],
    )
    evaluator = _CronEvaluator(schedule)
    try:
        evaluator.probe()
    except CronSimError as exc:
        raise InvalidScheduleError(
            f"{text}: day-of-month {dom!r} never occurs in month {fields[3]!r}"
        ) from exc
    return schedule


def _check_field(text: str, position: int, spec: _FieldSpec, value: str) -> None:
    """Reject what EventBridge rejects, naming the field and the offending part."""

    def fail(part: str, why: str) -> InvalidScheduleError:
        return InvalidScheduleError(f"{text}: field {position} ({spec.name}) {part!r}: {why}")

    def number(token: str, part: str) -> int:
        if token in spec.names:
            return spec.low + spec.names.index(token)
        if not token.isdigit():
            allowed = f" or {spec.names[0]}-{spec.names[-1]}" if spec.names else ""
            raise fail(part, f"{token!r} is not a number{allowed}")
        result = int(token)
        if not spec.low <= result <= spec.high:
            raise fail(part, f"{result} is out of range {spec.low}-{spec.high}")
        return result

    if value == "?":
        if spec.name not in ("day-of-month", "day-of-week"):
            raise fail(value, "'?' is allowed only in day-of-month and day-of-week")
        return
    for part in value.split(","):
        if not part:
            raise fail(value, "empty list element")
        if spec.name == "day-of-month" and part in ("L", "LW"):
            if value != part:
                raise fail(part, f"{part} cannot be combined with other values")
            continue
        if spec.name == "day-of-month" and part.endswith("W"):
            if value != part:
                raise fail(part, "W cannot be combined with other values")
            number(part[:-1], part)
            continue
        if spec.name == "day-of-week" and part == "L":
            continue
        if spec.name == "day-of-week" and part.endswith("L"):
            number(part[:-1], part)
            continue
        if spec.name == "day-of-week" and "#" in part:
            day, _, nth = part.partition("#")
            number(day, part)
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise fail(part, "the number after # must be 1-5")
            continue
        base, slash, step = part.partition("/")
        if slash and (not step.isdigit() or int(step) < 1):
            raise fail(part, "the step after / must be a positive number")
        if base == "*":
            continue
        low_token, dash, high_token = base.partition("-")
        low = number(low_token, part)
        if dash:
            high = number(high_token, part)
            if high < low:
                raise fail(part, f"range {low}-{high} runs backwards")


def _years(field: str) -> frozenset[int] | None:
    """The allowed years, or None for every year; the field is already checked."""
    if field == "*":
        return None
    years: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            low, high = MIN_YEAR, MAX_YEAR
        elif "-" in base:
            low_text, _, high_text = base.partition("-")
            low, high = int(low_text), int(high_text)
        else:
            low = int(base)
            high = MAX_YEAR if step_text else low
        years.update(range(low, high + 1, step))
    return frozenset(years)


def _cronsim_day_of_week(field: str) -> str:
    """EventBridge numbers days 1-7 from Sunday; cronsim numbers them 0-6."""
    if field in ("?", "*"):
        return "*"

    def shift(token: str) -> str:
        return str(int(token) - 1) if token.isdigit() else token

    parts = []
    for part in field.split(","):
        if part == "L":  # the last day of the week
            parts.append("6")
        elif part.endswith("L"):
            parts.append(shift(part[:-1]) + "L")
        elif "#" in part:
            day, _, nth = part.partition("#")
            parts.append(f"{shift(day)}#{nth}")
        else:
            base, slash, step = part.partition("/")
            low, dash, high = base.partition("-")
            text = "*" if base == "*" else shift(low) + (f"-{shift(high)}" if dash else "")
            parts.append(text + (f"/{step}" if slash else ""))
    return ",".join(parts)


def _nearest_weekday(day: int) -> Callable[[date], bool]:
    """Matches the weekday nearest to ``day`` of the month, never crossing into another month."""

    def matches(candidate: date) -> bool:
        last = calendar.monthrange(candidate.year, candidate.month)[1]
        if day > last:
            return False
        target = date(candidate.year, candidate.month, day)
        weekday = target.weekday()  # Monday is 0
        if weekday == 5:  # Saturday: the Friday before, or Monday if that leaves the month
            target += timedelta(days=-1 if day > 1 else 2)
        elif weekday == 6:  # Sunday: the Monday after, or Friday if that leaves the month
            target += timedelta(days=1 if day < last else -2)
        return candidate == target

    return matches


class _CronEvaluator:
    """Iterates the fire times of a cron schedule with cronsim; adds years and ``nW``."""

    def __init__(self, schedule: CronSchedule) -> None:
        dom = schedule.day_of_month
        self._day_filter: Callable[[date], bool] | None = None
        if dom.endswith("W") and dom != "LW":
            day = int(dom[:-1])
            self._day_filter = _nearest_weekday(day)
            # cronsim has no nW: let it yield the days that can be nearest, then filter.
            candidates = {1, 2, 3} if day == 1 else set(range(day - 2, min(31, day + 1) + 1))
            dom = ",".join(str(d) for d in sorted(candidates))
        dom = "*" if dom == "?" else dom
        self._expression = " ".join(
            (
                schedule.minutes,
                schedule.hours,
                dom,
                schedule.month,
                _cronsim_day_of_week(schedule.day_of_week),
            )
        )
        self._years = _years(schedule.year)
        # Named hours run each wall-clock time once; a wildcard hour keeps its cadence.
        self._named_hours = schedule.hours not in ("*", "*/1", "0/1", "0-23")

    def probe(self) -> None:
        CronSim(self._expression, datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC")))

    def iter_after(self, start: datetime) -> Iterator[datetime]:
        """Aware local datetimes strictly after ``start`` (minute precision), ascending."""
        cursor = start
        while True:
            sim = CronSim(self._expression, cursor)
            for fire in sim:
                if fire.year > MAX_YEAR:
                    return
                if self._years is None or fire.year in self._years:
                    if self._day_filter is not None and not self._day_filter(fire.date()):
                        continue
                    if fire.minute not in sim.minutes or fire.hour not in sim.hours:
                        continue  # cronsim's stand-in for a time a spring-forward skipped
                    if fire.fold and self._named_hours:
                        continue  # the repeated pass of a fall-back hour: run once
                    yield fire
                    continue
                later = [year for year in self._years if year > fire.year]
                if not later:
                    return
                first_of_year = datetime(min(later), 1, 1, tzinfo=start.tzinfo)
                cursor = first_of_year - timedelta(minutes=1)
                break
            else:
                return


# --- fire times -------------------------------------------------------------------------


def first_rate_fire_s(schedule: RateSchedule, *, created_s: int, start_s: int | None) -> int:
    """A rate timer's first firing: ``startAt`` when given, else one period after creation."""
    if start_s is not None:
        return start_s
    return created_s + schedule.period_s


@dataclass(frozen=True)
class Timing:
    """A schedule bound to a time zone, bounds and (for rates) an anchor: its fire times.

    ``start_s`` / ``end_s`` bound the firings (inclusive); ``first_fire_s`` anchors a rate.
    """

    schedule: Schedule
    timezone: str = "UTC"
    start_s: int | None = None
    end_s: int | None = None
    first_fire_s: int | None = None

    def iter_from(self, after_s: int) -> Iterator[int]:
        """Fire times (epoch seconds) at or after ``after_s``, strictly increasing, up to
        :data:`LATEST_FIRE_S`."""
        for fire_s in self._iter_bounded(after_s):
            if fire_s > LATEST_FIRE_S:
                return
            yield fire_s

    def first_fire_is_too_late(self, after_s: int) -> bool:
        """Whether the first fire time at or after ``after_s`` exists but is past
        :data:`LATEST_FIRE_S` (e.g. ``rate(100000 days)``)."""
        first = next(self._iter_bounded(after_s), None)
        return first is not None and first > LATEST_FIRE_S

    def _iter_bounded(self, after_s: int) -> Iterator[int]:
        lower = after_s if self.start_s is None else max(after_s, self.start_s)
        for fire_s in self._iter_unbounded(lower):
            if self.end_s is not None and fire_s > self.end_s:
                return
            yield fire_s

    def next_fire_s(self, after_s: int) -> int | None:
        return next(self.iter_from(after_s), None)

    def next_fires(self, after_s: int, count: int) -> list[int]:
        result: list[int] = []
        for fire_s in self.iter_from(after_s):
            result.append(fire_s)
            if len(result) == count:
                break
        return result

    def _iter_unbounded(self, lower_s: int) -> Iterator[int]:
        schedule = self.schedule
        if isinstance(schedule, RateSchedule):
            if self.first_fire_s is None:
                raise ValueError("a rate timing needs first_fire_s")
            period = schedule.period_s
            k = max(0, -(-(lower_s - self.first_fire_s) // period))
            fire_s = self.first_fire_s + k * period
            while True:
                yield fire_s
                fire_s += period
        zone = load_timezone(self.timezone)
        if isinstance(schedule, AtSchedule):
            fire_s = int(schedule.at.replace(tzinfo=zone).timestamp())
            if fire_s >= lower_s:
                yield fire_s
            return
        start = datetime.fromtimestamp(lower_s - 60, tz=zone)
        for fire in _CronEvaluator(schedule).iter_after(start):
            fire_s = int(fire.timestamp())
            if fire_s >= lower_s:
                yield fire_s
