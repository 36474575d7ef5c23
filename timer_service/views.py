"""What the API answers about timers: a timer's view, a page of them, a trigger, a preview.
The stored timer and the request bodies are in :mod:`timer_service.models`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from timer_service.camel import CamelModel
from timer_service.clock import format_utc
from timer_service.heartbeat import HeartbeatView
from timer_service.models import (
    DeliveryMode,
    MisfirePolicy,
    OnComplete,
    Overlap,
    Timer,
    TimerState,
)
from timer_service.runs import HistoryPolicy

__all__ = ["SchedulePreview", "TimerPage", "TimerView", "TriggerView"]


class SchedulePreview(CamelModel):
    """The next firings of a schedule, as a timer created now would have them."""

    schedule: str
    timezone: str
    next_fire_times: list[str] = Field(description="ISO 8601 UTC: the scheduled times")
    next_fire_times_local: list[str] = Field(description="the same instants in the time zone")
    next_run_times: list[str] | None = Field(
        default=None,
        description="when they will run (scheduled time + jitter offset), ISO 8601 UTC;"
        " null when jitterSeconds is given without the id the offsets derive from",
    )


class TimerView(CamelModel):
    """A timer as the API shows it."""

    id: str
    shard_id: int
    time_shard_id: str | None = Field(
        description="the time-index partition the ticker reads this timer from"
    )
    schedule: str
    timezone: str
    start_at: str | None
    end_at: str | None
    job_type: str
    job: dict[str, Any]
    timer_callback_data: Any
    enabled: bool
    misfire_policy: MisfirePolicy
    delivery: DeliveryMode
    history: HistoryPolicy = Field(
        description="the runs this timer keeps (its job type's default unless set)"
    )
    catch_up_window: int | None = Field(
        default=None, description="fireAll's catch-up window, seconds (null: the stack's)"
    )
    heartbeat: HeartbeatView | None = None
    ping_url: str | None = Field(
        default=None,
        description="a heartbeat timer's ping URL, in the answer that made its token only",
    )
    jitter_seconds: int = 0
    max_firings: int | None = None
    on_complete: OnComplete = "keep"
    state: TimerState = Field(
        default="active", description="active, paused, or completed (it can fire no more)"
    )
    firings_left: int | None = Field(
        default=None, description="scheduled firings to come, where bounded (else null)"
    )
    completed_at: str | None = None
    alerts: dict[str, Any] | None = None
    pause_after_failures: int | None = None
    overlap: Overlap = "allow"
    concurrency_key: str | None = None
    max_concurrency: int | None = None
    max_per_second: int | None = None
    failures: int = Field(default=0, description="failed runs in a row, now")
    paused_reason: str | None = Field(
        default=None, description="why the service paused it (pauseAfterFailures); null otherwise"
    )
    labels: dict[str, str] = Field(default_factory=dict, description="the timer's labels")
    version: int
    created_at: str
    updated_at: str
    next_fire_times: list[str] = Field(description="the next 5 firings, ISO 8601 UTC")
    next_run_times: list[str] | None = Field(
        default=None,
        description="with jitterSeconds: when those firings will run (time + offset)",
    )

    @classmethod
    def of(
        cls,
        timer: Timer,
        *,
        time_shard_id: str | None,
        next_fire_s: list[int],
        history: HistoryPolicy,
        heartbeat: HeartbeatView | None = None,
        state: TimerState = "active",
        firings_left: int | None = None,
        next_run_s: list[int] | None = None,
    ) -> TimerView:
        return cls(
            id=timer.id,
            shard_id=timer.shard,
            time_shard_id=time_shard_id,
            schedule=timer.schedule,
            timezone=timer.timezone,
            start_at=None if timer.start_s is None else format_utc(timer.start_s),
            end_at=None if timer.end_s is None else format_utc(timer.end_s),
            job_type=timer.job_type,
            job=timer.job,
            timer_callback_data=timer.callback_data,
            enabled=timer.enabled,
            misfire_policy=timer.misfire_policy,
            delivery=timer.delivery,
            history=history,
            catch_up_window=timer.catch_up_window_s,
            heartbeat=heartbeat,
            jitter_seconds=timer.jitter_s,
            max_firings=timer.max_firings,
            on_complete=timer.on_complete,
            state=state,
            firings_left=firings_left,
            completed_at=None if timer.completed_s is None else format_utc(timer.completed_s),
            alerts=timer.alerts,
            pause_after_failures=timer.pause_after_failures,
            overlap=timer.overlap,
            concurrency_key=timer.concurrency_key,
            max_concurrency=timer.max_concurrency,
            max_per_second=timer.max_per_second,
            failures=timer.failures,
            paused_reason=timer.paused_reason,
            labels=timer.labels,
            version=timer.version,
            created_at=format_utc(timer.created_s),
            updated_at=format_utc(timer.updated_s),
            next_fire_times=[format_utc(s) for s in next_fire_s],
            next_run_times=None if next_run_s is None else [format_utc(s) for s in next_run_s],
        )


class TriggerView(CamelModel):
    """The answer of ``POST /periodic/{id}/trigger``: the firing it queued."""

    id: str
    firing_id: str = Field(description="the firing's id, handed to the job: dedupe on it")
    scheduled_at: str = Field(description="ISO 8601 UTC: now, to the second")


class TimerPage(CamelModel):
    """One page of ``GET /periodic``."""

    items: list[TimerView]
    next_token: str | None = None
