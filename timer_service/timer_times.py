"""A timer's times from its ``PUT`` body (or a preview's): start, end and a rate's first
firing, in epoch seconds; and the check that it fires at all."""

from __future__ import annotations

from datetime import datetime

from timer_service.clock import format_utc
from timer_service.errors import InvalidRequestError
from timer_service.models import SchedulePreviewRequest, Timer, TimerSpec
from timer_service.schedules import (
    LATEST_FIRE_S,
    AtSchedule,
    RateSchedule,
    first_rate_fire_s,
    load_timezone,
    parse_schedule,
)
from timer_service.time_index import timing_of

__all__ = ["EARLIEST_FIRE_S", "epoch_of", "require_a_firing", "timer_times"]

EARLIEST_FIRE_S = 0  # 1970-01-01T00:00:00Z


def timer_times(
    spec: TimerSpec | SchedulePreviewRequest, previous: Timer | None, now_s: int
) -> tuple[int | None, int | None, int | None]:
    """Start, end and (for a rate) first firing, epoch seconds; a replaced rate timer with the
    same schedule and start keeps its phase."""
    zone = load_timezone(spec.timezone)
    start_s = epoch_of(spec.start_at, zone)
    end_s = epoch_of(spec.end_at, zone)
    for field, value in (("startAt", start_s), ("endAt", end_s)):
        if value is not None and not EARLIEST_FIRE_S <= value <= LATEST_FIRE_S:  # in UTC too
            raise InvalidRequestError(
                f"{field} must be from 1970 to {format_utc(LATEST_FIRE_S)} (UTC)", field=field
            )
    if start_s is not None and end_s is not None and end_s <= start_s:
        raise InvalidRequestError("endAt must be later than startAt", field="endAt")
    schedule = parse_schedule(spec.schedule)
    if not isinstance(schedule, RateSchedule):
        return start_s, end_s, None
    if (
        previous is not None
        and previous.schedule == spec.schedule
        and previous.start_s == start_s
        and previous.first_fire_s is not None
    ):
        return start_s, end_s, previous.first_fire_s
    return start_s, end_s, first_rate_fire_s(schedule, created_s=now_s, start_s=start_s)


def epoch_of(value: datetime | None, zone: object) -> int | None:
    """Epoch seconds of a datetime; a naive one is local to the timer's zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)  # type: ignore[arg-type]
    return int(value.timestamp())


def require_a_firing(timer: Timer, now_s: int) -> None:
    """InvalidRequestError naming the field at fault when ``timer`` would never fire."""
    timing = timing_of(timer)
    if timing.next_fire_s(now_s) is not None:
        return
    start_s, end_s = timer.start_s, timer.end_s
    if timing.first_fire_is_too_late(now_s):
        raise InvalidRequestError(
            f"{timer.schedule} would first fire after {format_utc(LATEST_FIRE_S)},"
            " the last second a timer can fire",
            field="startAt" if start_s is not None else "schedule",
        )
    if isinstance(timing.schedule, AtSchedule) or (start_s is None and end_s is None):
        field = "schedule"
    else:
        field = "endAt" if end_s is not None else "startAt"
    raise InvalidRequestError(
        f"{timer.schedule} has no firing after "
        + ("now" if start_s is None or start_s <= now_s else "startAt")
        + ("" if end_s is None else " and before endAt"),
        field=field,
    )
