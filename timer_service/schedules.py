"""Schedule expressions in EventBridge Scheduler syntax and their fire times.

Three kinds, parsed by :func:`parse_schedule`:

- ``rate(5 minutes)``: every N seconds, minutes, hours or days from the timer's first firing;
  a firing keeps the phase of its anchor (``rate(1 second)`` fires on every second).
- ``cron(0/15 8-17 ? * MON-FRI *)``: minutes, hours, day-of-month, month, day-of-week, year,
  evaluated in the timer's time zone as EventBridge's Quartz-derived cron is (lists, ranges that
  may wrap, steps, ``?``, ``L``, ``L-n``, ``W``, ``LW``, ``#``): see :mod:`timer_service.cron`.
- ``at(2026-12-24T18:00:00)``: once, at a local time in the timer's time zone.

Daylight saving time follows EventBridge Scheduler: a local time that a spring-forward skips
does not fire that day, and a local time that a fall-back repeats fires once, at its first
occurrence. A schedule whose hour field is a wildcard (``cron(0/15 * * * ? *)``) keeps its
cadence through both passes of the repeated hour: every 15 minutes of elapsed time.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field

from timer_service.cron import MAX_YEAR, MIN_YEAR, CronFields, iter_cron_after, parse_cron_fields
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

#: The last second a timer can fire (2199-12-31T23:59:59Z: cron's last year, in UTC). Firings
#: past it do not exist, so every fire time, startAt and endAt has a date-time to show.
LATEST_FIRE_S = calendar.timegm((MAX_YEAR + 1, 1, 1, 0, 0, 0)) - 1

# ASCII only: \d and \s would take other scripts' digits and spaces (Arabic-Indic 5).
_RATE_RE = re.compile(
    r"^rate\(\s*(\d+)\s+(second|seconds|minute|minutes|hour|hours|day|days)\s*\)$", re.ASCII
)
_AT_RE = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$", re.ASCII)
_CRON_RE = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RateSchedule(_Model):
    """Every ``value`` ``unit``s, e.g. ``rate(5 minutes)``, ``rate(10 seconds)``."""

    kind: Literal["rate"] = "rate"
    value: Annotated[int, Field(ge=1)]
    unit: Literal["second", "minute", "hour", "day"]

    @property
    def period_s(self) -> int:
        return self.value * _UNIT_SECONDS[self.unit]

    @property
    def per_minute(self) -> int:
        """The most firings that fall in one clock minute (1 for a minute or longer)."""
        return -(-60 // self.period_s) if self.period_s < 60 else 1

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
        unit = match.group(2).removesuffix("s")
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
        return _cron_schedule(text, match.group(1).split())
    if text.startswith("rate("):
        raise InvalidScheduleError(
            f"{text}: expected rate(N second|seconds|minute|minutes|hour|hours|day|days),"
            " e.g. rate(5 minutes)"
        )
    if text.startswith("at("):
        raise InvalidScheduleError(f"{text}: expected at(YYYY-MM-DDThh:mm:ss)")
    raise InvalidScheduleError(
        f"{text!r} is not a schedule expression: use rate(...), cron(...) or at(...)"
    )


def load_timezone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The IANA zone called ``name``; InvalidScheduleError naming ``field`` when unknown."""
    try:
        if name not in _iana_zones():
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidScheduleError(
            f"{name!r} is not an IANA time zone (e.g. UTC, Europe/Paris)", field=field
        ) from exc


@cache
def _iana_zones() -> frozenset[str]:
    """The zones of the IANA database (tzdata), not a host's ``localtime`` or tzdata's
    ``Factory`` placeholder: a timer's zone means the same on every machine."""
    return frozenset(available_timezones()) - {"localtime", "Factory", "posixrules"}


def _cron_schedule(text: str, fields: list[str]) -> CronSchedule:
    """A checked cron's model; day and month names upper-cased, as EventBridge reads them."""
    parse_cron_fields(fields, expression=text)
    minutes, hours, day_of_month, month, day_of_week, year = fields
    return CronSchedule(
        minutes=minutes,
        hours=hours,
        day_of_month=day_of_month.upper(),
        month=month.upper(),
        day_of_week=day_of_week.upper(),
        year=year,
    )


@lru_cache(maxsize=1024)
def _cron_fields(schedule: CronSchedule) -> CronFields:
    """The values a cron's fields allow; cached, as every Timing of a timer asks again."""
    fields = (schedule.minutes, schedule.hours, schedule.day_of_month, schedule.month)
    return parse_cron_fields(
        (*fields, schedule.day_of_week, schedule.year), expression=schedule.expression
    )


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
        for fire in iter_cron_after(_cron_fields(schedule), start):
            fire_s = int(fire.timestamp())
            if fire_s >= lower_s:
                yield fire_s
