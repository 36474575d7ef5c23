"""Backfill: fire now what a timer's schedule would have fired over a past interval.

Read as Temporal reads a schedule backfill: actions "as if the time passed right now", over an
interval whose start is exclusive and end inclusive (so a call that stopped at its bound goes
on from the last time it fired, ``nextFrom``, with no gap and no repeat), and the interval may
lie before the timer was created: a rate keeps its phase backwards, bounded by ``startAt``.
Each firing keeps its own scheduled second and the id ``{owner}#{id}@{scheduledAt}~backfill``:
a second backfill of the same interval has the same firing ids, so a ``deduplicated`` timer
runs each once (the callbacks' idempotency is by firing id), and a backfill never collides
with the scheduled firing of that second. A call fires at most BACKFILL_MAX_FIRINGS.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from timer_service.camel import CamelModel
from timer_service.clock import format_utc
from timer_service.errors import InvalidRequestError
from timer_service.models import Timer
from timer_service.schedules import LATEST_FIRE_S, MAX_YEAR, MIN_YEAR, RateSchedule, load_timezone
from timer_service.time_index import timing_of
from timer_service.timer_times import EARLIEST_FIRE_S, epoch_of

__all__ = ["BACKFILL_MAX_FIRINGS", "BackfillRequest", "BackfillResult", "backfill_times"]

# Firings one call sends: ten queue messages of a hundred, one SendMessageBatch.
BACKFILL_MAX_FIRINGS = 1000


class BackfillRequest(CamelModel):
    """The body of ``POST /periodic/{id}/backfill``: the past interval ``(from, to]``."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=False,
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"}]
        },
    )

    start: Annotated[
        datetime,
        Field(
            alias="from",
            description="exclusive; without offset: local to the timer's timezone",
        ),
    ]
    end: Annotated[
        datetime,
        Field(alias="to", description="inclusive, at most now; without offset: local"),
    ]

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_time_text(cls, value: object) -> object:
        if isinstance(value, str | datetime):
            return value
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z")

    @field_validator("start", "end")
    @classmethod
    def _date_time_in_range(cls, value: datetime) -> datetime:
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValueError(f"the year must be {MIN_YEAR}-{MAX_YEAR}")
        return value


class BackfillResult(CamelModel):
    """What ``POST /periodic/{id}/backfill`` sent."""

    id: str
    backfilled: int = Field(description="firings sent for delivery by this call")
    first_scheduled_at: str | None = Field(description="the earliest of them, ISO 8601 UTC")
    last_scheduled_at: str | None = Field(description="the latest of them, ISO 8601 UTC")
    more: bool = Field(
        description=f"the interval holds more than this call's {BACKFILL_MAX_FIRINGS}:"
        " call again with from = nextFrom"
    )
    next_from: str | None = Field(description="when more: the from of the next call")


def interval_of(request: BackfillRequest, timer: Timer, now_s: int) -> tuple[int, int]:
    """``(from, to]`` in epoch seconds; InvalidRequestError naming the field at fault."""
    zone = load_timezone(timer.timezone)
    start_s = epoch_of(request.start, zone)
    end_s = epoch_of(request.end, zone)
    assert start_s is not None and end_s is not None
    if start_s < EARLIEST_FIRE_S:
        raise InvalidRequestError("from must be 1970 or later (UTC)", field="from")
    if end_s <= start_s:
        raise InvalidRequestError("to must be later than from", field="to")
    if end_s > now_s:
        raise InvalidRequestError(
            f"to is after now ({format_utc(now_s)}): a backfill fires past times only",
            field="to",
        )
    return start_s, end_s


def backfill_times(
    timer: Timer, start_s: int, end_s: int, *, limit: int = BACKFILL_MAX_FIRINGS
) -> tuple[list[int], bool]:
    """The timer's scheduled times in ``(start_s, end_s]``, at most ``limit``; and whether
    there are more."""
    timing = timing_of(timer)
    schedule = timing.schedule
    anchor_s = timing.first_fire_s
    if isinstance(schedule, RateSchedule) and anchor_s is not None and start_s < anchor_s:
        # The rate's phase, carried back before its first firing (startAt still bounds it).
        periods = -(-(anchor_s - start_s) // schedule.period_s)
        timing = replace(timing, first_fire_s=anchor_s - periods * schedule.period_s)
    times: list[int] = []
    for fire_s in timing.iter_from(start_s + 1):
        if fire_s > min(end_s, LATEST_FIRE_S):
            return times, False
        if len(times) == limit:
            return times, True
        times.append(fire_s)
    return times, False
