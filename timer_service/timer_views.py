"""What the API shows of a timer: its view (state, firings left, when its firings will run)
and a schedule's preview."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from timer_service.clock import format_utc
from timer_service.completion import firings_left, max_fire_s, state_of
from timer_service.errors import InvalidScheduleError
from timer_service.heartbeat import HeartbeatState, HeartbeatView
from timer_service.jitter import jitter_offset
from timer_service.models import SchedulePreviewRequest, Timer
from timer_service.runs import HistoryPolicy
from timer_service.schedules import load_timezone
from timer_service.time_index import index_entry, timing_of
from timer_service.timer_times import timer_times
from timer_service.views import SchedulePreview, TimerView

__all__ = ["NEXT_FIRE_COUNT", "heartbeat_view", "preview", "timer_view"]

NEXT_FIRE_COUNT = 5


def _run_times(owner: str, timer_id: str, fires: list[int], jitter_s: int) -> list[int]:
    return [s + jitter_offset(owner, timer_id, s, jitter_s) for s in fires]


def timer_view(timer: Timer, now_s: int, history: HistoryPolicy) -> TimerView:
    """A scheduled timer as GET shows it: its next firings, state and what is left."""
    try:
        entry = index_entry(timer, after_s=now_s)
        fires = timing_of(timer).next_fires(now_s, NEXT_FIRE_COUNT) if timer.enabled else []
        state, left = state_of(timer, now_s), firings_left(timer, now_s)
    except InvalidScheduleError:  # stored under older rules: shown, with no next firing
        entry, fires, state, left = None, [], "completed", 0
    return TimerView.of(
        timer,
        time_shard_id=None if entry is None else entry.key.pk,
        next_fire_s=fires,
        history=history,
        state=state,
        firings_left=left,
        next_run_s=_run_times(timer.owner, timer.id, fires, timer.jitter_s),
    )


def heartbeat_view(
    timer: Timer, history: HistoryPolicy, states: Mapping[str, HeartbeatState]
) -> TimerView:
    """A heartbeat timer: no next firings, its deadline state instead."""
    assert timer.ping_hash is not None
    assert timer.heartbeat_period_s is not None and timer.heartbeat_grace_s is not None
    return TimerView.of(
        timer,
        time_shard_id=None,
        next_fire_s=[],
        history=history,
        state="active" if timer.enabled else "paused",
        heartbeat=HeartbeatView.of(
            timer.heartbeat_period_s, timer.heartbeat_grace_s, states.get(timer.ping_hash)
        ),
    )


def preview(owner: str, request: SchedulePreviewRequest, now_s: int) -> SchedulePreview:
    """The next firings of a schedule as a timer created now would have them (no write)."""
    start_s, end_s, first_fire_s = timer_times(request, None, now_s)
    draft = Timer(
        owner=owner,
        id=request.id or "preview",
        shard=0,
        schedule=request.schedule,
        timezone=request.timezone,
        start_s=start_s,
        end_s=end_s,
        first_fire_s=first_fire_s,
        max_firings=request.max_firings,
        created_s=now_s,
        updated_s=now_s,
    )
    draft = draft.model_copy(update={"max_fire_s": max_fire_s(draft, None, now_s)})
    fires = timing_of(draft).next_fires(now_s, request.count)
    zone = load_timezone(request.timezone)
    runs: list[int] | None = _run_times(owner, draft.id, fires, request.jitter_seconds)
    if request.jitter_seconds and request.id is None:
        runs = None  # the offsets are the timer's: without its id there is nothing to show
    return SchedulePreview(
        schedule=request.schedule,
        timezone=request.timezone,
        next_fire_times=[format_utc(s) for s in fires],
        next_fire_times_local=[
            datetime.fromtimestamp(s, zone).isoformat(timespec="seconds") for s in fires
        ],
        next_run_times=None if runs is None else [format_utc(s) for s in runs],
    )
