"""Run limits and completion: ``maxFirings``, a timer's ``state`` and ``firingsLeft``, and what
it counts against its owner's limits.

No write per firing: the ``maxFirings``-th firing's second is derived from the schedule when
the timer is written (closed form for a rate, by iteration for a cron) and kept as the timer's
``max_fire_s``; every reader bounds the schedule by it as by ``endAt``. The ticker marks a
timer's last firing, and its delivery completes the timer once (one write per timer, not per
firing), which frees its place in the owner's quota, or deletes it with ``onComplete: delete``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from timer_service.change_log import note_write
from timer_service.errors import InvalidRequestError
from timer_service.models import MAX_FIRINGS, Timer
from timer_service.schedules import CronSchedule, RateSchedule, parse_schedule
from timer_service.time_index import live_index_keys, timing_of

if TYPE_CHECKING:
    from timer_service.firing import Firing
    from timer_service.store.base import TimerStore

__all__ = [
    "MAX_CRON_FIRINGS",
    "MAX_FIRINGS",
    "CountChange",
    "State",
    "complete_after_last",
    "count_change",
    "firing_weight",
    "firings_left",
    "max_fire_s",
    "state_of",
    "write_change",
]

MAX_CRON_FIRINGS = 10_000  # a cron's is found by stepping through it (8-20 us a step)
_COUNT_CAP = 100  # a cron's firingsLeft is counted up to this many (a list page stays fast)

State = Literal["active", "paused", "completed"]


def max_fire_s(timer: Timer, previous: Timer | None, now_s: int) -> int | None:
    """The second of the timer's ``maxFirings``-th firing counted from ``now_s`` (None: no
    limit, or the schedule ends first). A replace that keeps the schedule, its bounds and
    the limit keeps the count it had."""
    if timer.max_firings is None or timer.ping_hash is not None:
        return None
    unspent = (
        previous is not None
        and previous.completed_s is None
        and (previous.max_fire_s is None or previous.max_fire_s >= now_s)
    )
    if (
        previous is not None
        and unspent
        and previous.max_firings == timer.max_firings
        and all(
            getattr(previous, name) == getattr(timer, name)
            for name in ("schedule", "timezone", "start_s", "end_s", "first_fire_s")
        )
    ):
        return previous.max_fire_s
    unlimited = timer.model_copy(update={"max_fire_s": None})
    timing = timing_of(unlimited)
    schedule = timing.schedule
    n = timer.max_firings
    if isinstance(schedule, RateSchedule):
        first = timing.next_fire_s(now_s)
        if first is None:
            return None
        last = first + (n - 1) * schedule.period_s
        return None if timer.end_s is not None and last > timer.end_s else last
    if isinstance(schedule, CronSchedule) and n > MAX_CRON_FIRINGS:
        raise InvalidRequestError(
            f"maxFirings of a cron schedule is at most {MAX_CRON_FIRINGS}", field="maxFirings"
        )
    fires = timing.next_fires(now_s, n)
    return fires[-1] if len(fires) == n else None


def firings_left(timer: Timer, now_s: int) -> int | None:
    """Scheduled firings still to come, where the schedule is bounded (``maxFirings``,
    ``endAt``, ``at()``); None when unbounded, or for a cron with more than _COUNT_CAP left
    (counted by stepping through it; a rate's is arithmetic)."""
    if timer.ping_hash is not None or (timer.last_s is None and not _is_at(timer)):
        return None
    if timer.completed_s is not None:
        return 0
    timing = timing_of(timer)
    schedule = timing.schedule
    if isinstance(schedule, RateSchedule):
        first = timing.next_fire_s(now_s)
        if first is None or timer.last_s is None:
            return 0
        return (timer.last_s - first) // schedule.period_s + 1
    fires = timing.next_fires(now_s, _COUNT_CAP + 1)
    return None if len(fires) > _COUNT_CAP else len(fires)


def _is_at(timer: Timer) -> bool:
    return timer.schedule.startswith("at(")


def state_of(timer: Timer, now_s: int) -> State:
    """``completed`` once it can fire no more, else ``paused`` or ``active``."""
    if timer.completed_s is not None:
        return "completed"
    bounded = timer.ping_hash is None and (timer.last_s is not None or _is_at(timer))
    if bounded and timing_of(timer).next_fire_s(now_s) is None:
        return "completed"
    return "active" if timer.enabled else "paused"


def firing_weight(timer: Timer) -> int:
    """What the timer counts against its owner's firings per minute: the most firings it has in
    one clock minute (``rate(1 second)``: 60; a minute rate, a cron, a heartbeat: 1); 0 while
    paused or completed."""
    if not timer.enabled or timer.completed_s is not None:
        return 0
    if timer.ping_hash is not None:
        return 1
    schedule = parse_schedule(timer.schedule)
    return schedule.per_minute if isinstance(schedule, RateSchedule) else 1


@dataclass(frozen=True)
class CountChange:
    """A write's change to its owner's counts: timers (quota) and firings per minute."""

    timers: int = 0
    firings: int = 0


def write_change(
    timer: Timer, *, expected_version: int | None, replaces: Timer | None
) -> CountChange:
    """What a store's save of ``timer`` changes: a new one counts; a replace changes what
    ``replaces`` counted (nothing when the caller did not say what it replaces)."""
    if expected_version is None:
        return count_change(timer, None)
    return CountChange() if replaces is None else count_change(timer, replaces)


def count_change(timer: Timer | None, previous: Timer | None) -> CountChange:
    """What writing ``timer`` over ``previous`` (None: absent / deleted) changes. A completed
    timer no longer counts; one written again counts again."""

    def counted(t: Timer | None) -> int:
        return int(t is not None and t.completed_s is None)

    return CountChange(
        timers=counted(timer) - counted(previous),
        firings=(0 if timer is None else timer.firing_weight)
        - (0 if previous is None else previous.firing_weight),
    )


def complete_after_last(
    store: TimerStore, firing: Firing, timer: Timer | None, now_s: int, runs_kept_s: int
) -> bool:
    """Complete the timer of its last firing ``firing`` (``timer`` as read, else read now):
    marked completed, or deleted with ``onComplete: delete`` (its runs kept ``runs_kept_s``).
    False when there is nothing to do: the timer is gone, changed or completed already."""
    if timer is None:
        timer = store.get_timer(firing.owner, firing.timer_id)
    if (
        timer is None
        or not timer.runs_firing_of(firing.version, firing.scheduled_s, firing.incarnation)
        or timer.completed_s is not None
    ):
        return False  # a firing its replace handed over completes it if it fires no more
    if timing_of(timer).next_fire_s(firing.scheduled_s + 1) is not None:
        return False  # not its last any more (a message from before a change of its bounds)
    if timer.on_complete == "delete":
        note_write(store, [timer.shard], timer.owner, timer.id, now_s)
    return store.complete_timer(
        timer,
        completed_s=now_s,
        delete=timer.on_complete == "delete",
        remove=live_index_keys(timer, now_s=now_s),
        runs_until_s=now_s + runs_kept_s,
    )
