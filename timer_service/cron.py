"""EventBridge Scheduler cron fields: checked, expanded to the values they allow, and evaluated.

EventBridge's cron is Quartz-derived, and this module reads it as Quartz does:

- ``minutes hours day-of-month month day-of-week year``; exactly one day field is ``?``.
- Lists ``1,15``, ranges ``8-17``, steps ``0/15``, ``*/10``, ``8-17/2`` (a bare start runs to the
  field's end: ``MAR/4`` is March, July, November). A range that runs backwards wraps in every
  field but the year, and a step carries across the wrap: ``20-2`` is hours 20-23 and 0-2,
  ``NOV-FEB`` four months, ``FRI-MON`` four days, ``28-3/2`` days 28, 30, 1, 3.
- Days of the week are 1 (Sunday) to 7 (Saturday), or ``SUN``-``SAT``.
- Alone in its field: day-of-month ``L`` (the last day), ``L-n`` (n days before it; a month
  too short has no firing, as in Quartz), ``LW`` (the last weekday) and ``15W`` (the weekday
  nearest the 15th, never leaving the month); day-of-week ``6L`` (the last Friday) and
  ``2#1`` (the first Monday). EventBridge allows one expression with ``#``, so ``3#1,6#3`` is
  refused. Day-of-week ``L`` alone is Saturday, the last day of the week.

Every refusal names the field, e.g. ``field 5 (day-of-week) '3#1,6#3': ...``. The fire times
come from cronsim, given explicit value lists (so its own numbering and range rules never
matter) plus a filter for what cronsim lacks: years, ``nW`` and ``L-n``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from cronsim import CronSim

from timer_service.errors import InvalidScheduleError

__all__ = ["MAX_YEAR", "MIN_YEAR", "CronFields", "iter_cron_after", "parse_cron_fields"]

MIN_YEAR = 1970
MAX_YEAR = 2199

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # days, a leap year's February
_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class _FieldSpec:
    position: int
    name: str
    low: int
    high: int
    digits: int  # the most digits a value may have, as the public validators allow
    max_step: int  # Quartz refuses larger increments (checkIncrementRange)
    names: tuple[str, ...] = ()  # symbolic values, numbered from ``low``
    wraps: bool = True  # a backwards range runs on past the field's end

    @property
    def span(self) -> int:
        return self.high - self.low + 1


_SPECS = (
    _FieldSpec(1, "minutes", 0, 59, 2, 59),
    _FieldSpec(2, "hours", 0, 23, 2, 23),
    _FieldSpec(3, "day-of-month", 1, 31, 2, 31),
    _FieldSpec(4, "month", 1, 12, 2, 12, _MONTHS),
    _FieldSpec(5, "day-of-week", 1, 7, 1, 7, _DAYS),
    _FieldSpec(6, "year", MIN_YEAR, MAX_YEAR, 4, MAX_YEAR - MIN_YEAR, wraps=False),
)
_MINUTES, _HOURS, _DAY_OF_MONTH, _MONTH, _DAY_OF_WEEK, _YEAR = _SPECS


@dataclass(frozen=True)
class CronFields:
    """The values each field allows; a day field that is ``?`` or a special token allows none.

    Days of the week are numbered as EventBridge numbers them: 1 is Sunday, 7 Saturday.
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    years: frozenset[int]
    last_day_offset: int | None = None  # ``L`` (0) or ``L-n``
    last_weekday_of_month: bool = False  # ``LW``
    nearest_weekday: int | None = None  # ``nW``
    last_day_of_week: int | None = None  # ``nL``
    nth_day_of_week: tuple[int, int] | None = None  # ``n#k``: (day, k)


class _FieldError(Exception):
    def __init__(self, part: str, why: str) -> None:
        super().__init__(why)
        self.part, self.why = part, why


def parse_cron_fields(fields: Sequence[str], *, expression: str) -> CronFields:
    """Check six cron fields as EventBridge does; InvalidScheduleError names the field at fault."""
    if len(fields) != 6:
        raise InvalidScheduleError(
            f"{expression}: cron needs 6 fields (minutes hours day-of-month month day-of-week"
            f" year), got {len(fields)}"
        )
    texts = [field.upper() for field in fields]
    parsed: dict[str, object] = {}
    for spec, text in zip(_SPECS, texts, strict=True):
        try:
            parsed.update(_parse_field(spec, text))
        except _FieldError as exc:
            raise InvalidScheduleError(
                f"{expression}: field {spec.position} ({spec.name}) {exc.part!r}: {exc.why}"
            ) from None
    if (texts[2] == "?") == (texts[4] == "?"):
        raise InvalidScheduleError(
            f"{expression}: exactly one of day-of-month (field 3) and day-of-week (field 5)"
            " must be '?'"
        )
    result = CronFields(**parsed)  # type: ignore[arg-type]
    if _never_occurs(result):
        raise InvalidScheduleError(
            f"{expression}: field 3 (day-of-month) {fields[2]!r} never occurs in month"
            f" {fields[3]!r}"
        )
    return result


def _parse_field(spec: _FieldSpec, text: str) -> dict[str, object]:
    """The CronFields attributes one field sets."""
    key = ("minutes", "hours", "days_of_month", "months", "days_of_week", "years")
    name = key[spec.position - 1]
    if text == "?":
        if spec not in (_DAY_OF_MONTH, _DAY_OF_WEEK):
            raise _FieldError(text, "'?' is allowed only in day-of-month and day-of-week")
        return {name: frozenset()}
    if spec is _DAY_OF_MONTH and (special := _day_of_month_special(text)) is not None:
        return {name: frozenset(), **special}
    if spec is _DAY_OF_WEEK and (special := _day_of_week_special(text)) is not None:
        return {name: frozenset(), **special}
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise _FieldError(text, "empty list element")
        values |= _values(spec, part)
    return {name: frozenset(values)}


def _day_of_month_special(text: str) -> dict[str, object] | None:
    """``L``, ``L-n``, ``LW`` or ``nW``, each alone in the field; None for a plain field."""
    parts = text.split(",")
    special = [p for p in parts if p.startswith("L") or p.endswith("W")]
    if not special:
        return None
    if len(parts) > 1:
        raise _FieldError(special[0], f"{special[0]} cannot be combined with other values")
    if text == "L":
        return {"last_day_offset": 0}
    if text == "LW":
        return {"last_weekday_of_month": True}
    if text.startswith("L-"):
        offset = text[2:]
        if not _NUMBER.fullmatch(offset) or len(offset) > 2 or int(offset) > 30:
            raise _FieldError(text, "L-n needs n from 0 to 30 (days before the last day)")
        return {"last_day_offset": int(offset)}
    if text.endswith("W"):
        return {"nearest_weekday": _number(_DAY_OF_MONTH, text[:-1], text)}
    raise _FieldError(text, f"{text!r} is not a number, L, L-n, LW or nW")


def _day_of_week_special(text: str) -> dict[str, object] | None:
    """``L``, ``nL`` or ``n#k``, each alone in the field; None for a plain field."""
    parts = text.split(",")
    if "#" in text and len(parts) > 1:
        raise _FieldError(
            text, "# cannot be combined with other values (EventBridge allows one # expression)"
        )
    special = [p for p in parts if p.endswith("L") or p.startswith("L")]
    if special and len(parts) > 1:
        raise _FieldError(special[0], f"{special[0]} cannot be combined with other values")
    if text == "L":  # the last day of the week
        return {"days_of_week": frozenset({7})}
    if text.startswith("L-"):
        raise _FieldError(text, "L-n is allowed only in day-of-month")
    if special:
        return {"last_day_of_week": _number(_DAY_OF_WEEK, text[:-1], text)}
    if "#" in text:
        day, _, nth = text.partition("#")
        if nth not in ("1", "2", "3", "4", "5"):
            raise _FieldError(text, "the number after # must be 1-5")
        return {"nth_day_of_week": (_number(_DAY_OF_WEEK, day, text), int(nth))}
    return None


def _values(spec: _FieldSpec, part: str) -> set[int]:
    """The values of one list element: ``*``, ``a``, ``a-b``, each with an optional ``/step``."""
    base, slash, step_text = part.partition("/")
    step = 1
    if slash:
        significant = step_text.lstrip("0")
        if not _NUMBER.fullmatch(step_text) or not 1 <= int(significant[:4] or 0) <= spec.max_step:
            raise _FieldError(
                part, f"the step after / must be a positive number up to {spec.max_step}"
            )
        step = int(significant)
    if base == "*":
        start, stop = spec.low, spec.high
    else:
        low_text, dash, high_text = base.partition("-")
        if "*" in (low_text, high_text):
            raise _FieldError(part, "* cannot be one end of a range")
        start = _number(spec, low_text, part)
        stop = _number(spec, high_text, part) if dash else spec.high if slash else start
    if stop < start:
        if not spec.wraps:
            raise _FieldError(part, f"range {start}-{stop} runs backwards")
        stop += spec.span  # Quartz: the range runs on past the end, the step carries across
    return {spec.low + (value - spec.low) % spec.span for value in range(start, stop + 1, step)}


def _number(spec: _FieldSpec, token: str, part: str) -> int:
    if token in spec.names:
        return spec.low + spec.names.index(token)
    if not _NUMBER.fullmatch(token):
        allowed = f" or {spec.names[0]}-{spec.names[-1]}" if spec.names else ""
        raise _FieldError(part, f"{token!r} is not a number{allowed}")
    significant = token.lstrip("0") or "0"  # int() refuses strings of thousands of digits
    if len(significant) > 4 or not spec.low <= int(significant) <= spec.high:
        raise _FieldError(part, f"{significant} is out of range {spec.low}-{spec.high}")
    value = int(significant)
    if len(token) > spec.digits:
        raise _FieldError(part, f"{token!r} has more than {spec.digits} digit(s)")
    return value


def _never_occurs(fields: CronFields) -> bool:
    """Whether the day-of-month exists in none of the months (``30 2``, ``31W 4``, ``L-30 2``)."""
    longest = max(_LONGEST_MONTH[month - 1] for month in fields.months)
    if fields.nearest_weekday is not None:
        return fields.nearest_weekday > longest
    if fields.last_day_offset is not None:
        return longest - fields.last_day_offset < 1
    if fields.days_of_month:
        return all(
            day > _LONGEST_MONTH[month - 1]
            for day in fields.days_of_month
            for month in fields.months
        )
    return False


# --- evaluation -------------------------------------------------------------------------


def iter_cron_after(fields: CronFields, start: datetime) -> Iterator[datetime]:
    """Aware local datetimes strictly after ``start`` (minute precision), ascending.

    A local time that a spring-forward skips does not fire; in a fall-back's repeated hour a
    cron that names its hours fires each wall-clock time once, while one whose hours cover the
    whole day keeps its cadence of elapsed time through both passes.
    """
    return _evaluator(fields).iter_after(start)


@lru_cache(maxsize=1024)
def _evaluator(fields: CronFields) -> _Evaluator:
    return _Evaluator(fields)


def _listed(values: frozenset[int], spec: _FieldSpec, shift: int = 0) -> str:
    """cronsim's text for a value set: ``*`` when it is the whole field (which keeps cronsim's
    elapsed-time handling of DST for wildcard hours), else an explicit list."""
    if len(values) == spec.span:
        return "*"
    return ",".join(str(value - shift) for value in sorted(values))


def _around(day: int) -> str:
    """cronsim's list of the days within two of ``day``: where nW and L-n can land."""
    return ",".join(str(near) for near in range(day - 2, day + 3) if 1 <= near <= 31)


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


def _days_before_last(offset: int) -> Callable[[date], bool]:
    """Matches the day ``offset`` days before the month's last; a month too short has none."""

    def matches(candidate: date) -> bool:
        return candidate.day == calendar.monthrange(candidate.year, candidate.month)[1] - offset

    return matches


class _Evaluator:
    """Iterates a cron's fire times with cronsim; adds years, ``nW`` and ``L-n``."""

    def __init__(self, fields: CronFields) -> None:
        self._day_filter: Callable[[date], bool] | None = None
        dom = "*"
        if fields.days_of_month:
            dom = _listed(fields.days_of_month, _DAY_OF_MONTH)
        elif fields.last_weekday_of_month:
            dom = "LW"
        elif fields.last_day_offset == 0:
            dom = "L"
        elif fields.nearest_weekday is not None:
            # cronsim has neither nW nor L-n: let it yield the days that can match, then filter.
            self._day_filter = _nearest_weekday(fields.nearest_weekday)
            dom = _around(fields.nearest_weekday)
        elif fields.last_day_offset is not None:
            self._day_filter = _days_before_last(fields.last_day_offset)
            dom = _around(30 - fields.last_day_offset)  # the last day is the 28th to the 31st
        dow = "*"  # cronsim numbers days 0 (Sunday) to 6
        if fields.days_of_week:
            dow = _listed(fields.days_of_week, _DAY_OF_WEEK, shift=1)
        elif fields.last_day_of_week is not None:
            dow = f"{fields.last_day_of_week - 1}L"
        elif fields.nth_day_of_week is not None:
            day, nth = fields.nth_day_of_week
            dow = f"{day - 1}#{nth}"
        self._expression = " ".join(
            (
                _listed(fields.minutes, _MINUTES),
                _listed(fields.hours, _HOURS),
                dom,
                _listed(fields.months, _MONTH),
                dow,
            )
        )
        self._years = None if len(fields.years) == _YEAR.span else fields.years
        # Named hours run each wall-clock time once; hours covering the day keep their cadence.
        self._named_hours = len(fields.hours) < _HOURS.span

    def iter_after(self, start: datetime) -> Iterator[datetime]:
        cursor = start
        while True:
            sim = CronSim(self._expression, cursor)
            for fire in sim:
                if fire.year > MAX_YEAR:
                    return
                if self._years is not None and fire.year not in self._years:
                    later = [year for year in self._years if year > fire.year]
                    if not later:
                        return
                    cursor = datetime(min(later), 1, 1, tzinfo=start.tzinfo) - timedelta(minutes=1)
                    break
                if self._day_filter is not None and not self._day_filter(fire.date()):
                    # The whole day is out: restart at the next one, not minute by minute.
                    next_day = datetime.combine(fire.date() + timedelta(days=1), time())
                    cursor = next_day.replace(tzinfo=start.tzinfo) - timedelta(minutes=1)
                    break
                if fire.minute not in sim.minutes or fire.hour not in sim.hours:
                    continue  # cronsim's stand-in for a time a spring-forward skipped
                if fire.fold and self._named_hours:
                    continue  # the repeated pass of a fall-back hour: run once
                yield fire
            else:
                return
