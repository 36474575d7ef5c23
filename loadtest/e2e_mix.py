"""The e2e scenario's timers: the mix of kinds, what each must fire in the window, and when.

Kinds, by id prefix: ``one`` one-shots spread over the window, ``rate`` ``rate(1 minute)``,
``cron`` every-minute crons, ``sec`` rates of seconds (``rate(1 second)`` and
``rate(5 seconds)`` in turn, anchored in the window), ``jit`` jittered timers (``jitterSeconds``:
one-shots and ``rate(10 seconds)`` in turn), ``max`` ``maxFirings`` timers (``rate(1 second)``
and ``rate(5 seconds)``, ``onComplete`` ``delete`` and ``keep`` in turn, every third jittered)
whose last firing falls inside the window.

What a timer must fire is read from the API's answer to its create: its ``nextFireTimes`` (a
rate's further ones by its period from the first, bounded by ``firingsLeft``), and when each
runs from its ``nextRunTimes`` (scheduled time + jitter offset; further ones from
``POST /schedules/preview`` with the timer's id, which gives the caller's own offsets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from timer_service.client import NotFoundError, TimerClient
from timer_service.limits import MAX_FIRINGS_PER_MINUTE
from timer_service.schedules import RateSchedule, parse_schedule
from timer_service.views import TimerView

__all__ = [
    "KINDS",
    "KIND_NAMES",
    "MAX_FIRINGS",
    "Plan",
    "bodies",
    "completion",
    "epoch",
    "firing_limit",
    "firing_weight",
    "iso",
    "kind_of",
    "plan_of",
]

KIND_NAMES = {
    "one": "one-shots",
    "rate": "rate(1 minute)",
    "cron": "crons",
    "sec": "rates of seconds",
    "jit": "jittered",
    "max": "maxFirings",
}
KINDS = tuple(KIND_NAMES)
MAX_FIRINGS = 10  # the most a ``max`` timer has: fewer when the window is short
PREVIEW_COUNT = 20  # the most firings a preview shows


def iso(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def kind_of(timer_id: str) -> str:
    return timer_id.split("-", 1)[0]


def _at(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("at(%Y-%m-%dT%H:%M:%S)")


def bodies(args: Any, base_s: int, end_s: int) -> dict[str, dict[str, Any]]:
    """Every timer's PUT body but its job, by id: ``--timers`` split by the shares."""
    count, spread = args.timers, end_s - base_s
    sizes = {
        "rate": int(count * args.rate_share),
        "cron": int(count * args.cron_share),
        "sec": int(count * args.second_rate_share),
        "jit": int(count * args.jitter_share),
        "max": int(count * args.max_firings_share),
    }
    ones = count - sum(sizes.values())
    if ones < 0:
        raise ValueError("the shares of --timers add up to more than 1")
    found: dict[str, dict[str, Any]] = {}
    for n in range(ones):
        found[f"one-{n:05d}"] = {"schedule": _at(base_s + n * spread // count)}
    for n in range(sizes["rate"]):
        found[f"rate-{n:05d}"] = {"schedule": "rate(1 minute)"}
    for n in range(sizes["cron"]):
        found[f"cron-{n:05d}"] = {"schedule": "cron(* * * * ? *)"}
    for n in range(sizes["sec"]):
        period = 1 if n % 2 else 5
        found[f"sec-{n:05d}"] = _seconds(period, base_s + n % period)
    jitter = {"jitterSeconds": args.jitter_seconds}
    for n in range(sizes["jit"]):
        if n % 2:
            found[f"jit-{n:05d}"] = _seconds(10, base_s + n % 10) | jitter
        else:
            found[f"jit-{n:05d}"] = {"schedule": _at(base_s + n * spread // max(1, sizes["jit"]))}
            found[f"jit-{n:05d}"] |= jitter
    for n in range(sizes["max"]):
        period = 1 if n % 2 else 5
        limit = max(1, min(MAX_FIRINGS, (spread - period) // period))
        body = _seconds(period, base_s + n % period) | {
            "maxFirings": limit,
            "onComplete": "delete" if n // 2 % 2 == 0 else "keep",
        }
        found[f"max-{n:05d}"] = body | (jitter if n % 3 == 2 else {})
    share = getattr(args, "deduplicated_share", 0.0)
    if share > 0:  # every kind's: their packs' ledger items, and a doubled one would show
        every = max(1, round(1 / share))
        for n, timer_id in enumerate(sorted(found)):
            if n % every == 0:
                found[timer_id] = found[timer_id] | {"delivery": "deduplicated"}
    return found


def _seconds(period_s: int, start_s: int) -> dict[str, Any]:
    unit = "second" if period_s == 1 else "seconds"
    return {"schedule": f"rate({period_s} {unit})", "startAt": iso(start_s)}


def firing_weight(timer_bodies: dict[str, dict[str, Any]]) -> int:
    """What the mix counts against its owner's firings a minute (``rate(1 second)``: 60)."""
    total = 0
    for body in timer_bodies.values():
        schedule = parse_schedule(body["schedule"])
        total += schedule.per_minute if isinstance(schedule, RateSchedule) else 1
    return total


def firing_limit(requested: int | None, weight: int) -> int:
    """The local stack's ``--firing-limit``: as asked, else the default or what the mix needs."""
    if requested is not None:
        if requested < weight:
            raise ValueError(f"--firing-limit {requested} is below the mix's {weight} a minute")
        return requested
    return max(MAX_FIRINGS_PER_MINUTE, weight)


@dataclass
class Plan:
    """What one timer must do in the window, from the API's answer to its create."""

    fires: list[int]  # scheduled seconds inside the window (maxFirings: all of them)
    until_s: int  # the window's end (maxFirings: just past its last firing)
    period_s: int | None = None  # a rate's
    # maxFirings: how many, and what then (a later firing is one after completion)
    max_firings: int | None = None
    on_complete: str | None = None
    offsets: dict[int, int] = field(default_factory=dict)  # scheduled -> jitter offset

    @property
    def second_rate(self) -> bool:
        """A rate of seconds (its period is not whole minutes)."""
        return self.period_s is not None and self.period_s % 60 != 0

    def due_s(self, scheduled_s: int) -> int:
        """When the firing is to run: its scheduled second plus its jitter offset."""
        return scheduled_s + self.offsets.get(scheduled_s, 0)

    @property
    def last_s(self) -> int | None:
        """A maxFirings timer's last scheduled firing: any later one is after completion."""
        return self.fires[-1] if self.max_firings is not None and self.fires else None


def plan_of(api: TimerClient, view: TimerView, base_s: int, end_s: int) -> Plan:
    """The firings ``view`` (a create's answer) must have in ``[base_s, end_s)`` (a maxFirings
    timer: all of them, as it counts them from its create), and when each is to run."""
    fires = [epoch(t) for t in view.next_fire_times]
    schedule = parse_schedule(view.schedule)
    if isinstance(schedule, RateSchedule) and fires:
        period = schedule.period_s
        count = max(0, math.ceil((end_s - fires[0]) / period))
        if view.firings_left is not None:
            count = view.firings_left if view.max_firings else min(count, view.firings_left)
        every = [fires[0] + k * period for k in range(count)]
        if fires[: len(every)] != every[: len(fires)]:
            raise RuntimeError(f"{view.id}: nextFireTimes {fires} are not every {period} s")
        fires = every
    period_s = schedule.period_s if isinstance(schedule, RateSchedule) else None
    if view.max_firings is not None:  # all of them, wherever the last falls
        if len(fires) != view.max_firings or period_s is None:
            raise RuntimeError(f"{view.id}: {view.firings_left} firings left, not maxFirings")
        plan = Plan(fires, fires[-1] + 1, period_s, view.max_firings, view.on_complete)
    else:
        plan = Plan([s for s in fires if base_s <= s < end_s], end_s, period_s)
    if view.jitter_seconds:
        plan.offsets = _offsets(api, view, plan.fires)
    return plan


def _offsets(api: TimerClient, view: TimerView, fires: list[int]) -> dict[int, int]:
    """Each firing's jitter offset, as the API shows it: the create's ``nextRunTimes``, then
    previews of the timer's schedule from the first firing not shown yet."""
    offsets = _pairs(view.next_fire_times, view.next_run_times)
    missing = [s for s in fires if s not in offsets]
    while missing:
        preview = api.preview(
            {
                "schedule": view.schedule,
                "startAt": iso(missing[0]),
                "count": PREVIEW_COUNT,
                "jitterSeconds": view.jitter_seconds,
                "id": view.id,
            }
        )
        shown = _pairs(preview.next_fire_times, preview.next_run_times)
        if missing[0] not in shown:
            raise RuntimeError(f"{view.id}: no jitter offset for {iso(missing[0])}")
        offsets |= shown
        missing = [s for s in missing if s not in offsets]
    return {s: offsets[s] for s in fires}


def _pairs(fire_times: list[str], run_times: list[str] | None) -> dict[int, int]:
    if run_times is None:
        raise RuntimeError("a jittered timer's answer has no nextRunTimes")
    return {epoch(f): epoch(r) - epoch(f) for f, r in zip(fire_times, run_times, strict=True)}


def completion(api: TimerClient, plans: dict[str, Plan]) -> dict[str, Any]:
    """After the window: each maxFirings timer gone (``onComplete: delete``) or completed."""
    gone = completed = deletes = keeps = 0
    for timer_id, plan in plans.items():
        if plan.max_firings is None:
            continue
        try:
            view = api.get(timer_id)
        except NotFoundError:
            view = None
        if plan.on_complete == "delete":
            deletes += 1
            gone += view is None
        else:
            keeps += 1
            completed += view is not None and view.state == "completed"
    return {
        "on_complete_delete": {"timers": deletes, "gone": gone},
        "on_complete_keep": {"timers": keeps, "completed": completed},
    }
