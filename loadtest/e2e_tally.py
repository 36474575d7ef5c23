"""The e2e scenario's books: what arrived against what each timer had to fire, and when."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

from loadtest import e2e_mix as mix
from loadtest.e2e_mix import Plan
from loadtest.stack import QueueReceiver, WebhookReceiver

__all__ = ["STOP_SLACK_S", "percentile", "tally"]

# A firing due this little before a delete or pause began may still be on its way (its delivery
# reads the timer when it runs, within the lateness goal): it may run or not.
STOP_SLACK_S = 2.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def tally(
    plans: dict[str, Plan],
    stopped: dict[str, tuple[float, float]],
    receiver: WebhookReceiver | QueueReceiver,
    base_s: int,
    end_s: int,
) -> dict[str, Any]:
    """What arrived against the plans: received, lost, doubled, early, after a stop or after
    completion, lateness (against each firing's due time) overall and by kind."""
    # A firing due well before its timer's delete or pause began must run; one due after it
    # was answered must not (delivery reads the timer at its due time); between, either.
    wanted = {
        (timer_id, s)
        for timer_id, plan in plans.items()
        for s in plan.fires
        if timer_id not in stopped or plan.due_s(s) < stopped[timer_id][0] - STOP_SLACK_S
    }
    arrivals: Counter[tuple[str, int]] = Counter()
    lateness: dict[str, list[float]] = {kind: [] for kind in mix.KINDS}
    early = after_stop = after_completion = 0
    for request in receiver.requests:
        body = json.loads(request.body)
        firing = (str(body["timerId"]), mix.epoch(body["scheduledAt"]))
        plan = plans.get(firing[0])
        if plan is None:
            continue
        if plan.last_s is not None and firing[1] > plan.last_s:
            after_completion += 1
            continue
        if not base_s <= firing[1] < plan.until_s:
            continue
        arrivals[firing] += 1
        due_s = plan.due_s(firing[1])
        if firing[0] in stopped and due_s > stopped[firing[0]][1]:
            after_stop += 1
            continue
        if arrivals[firing] == 1:
            lateness[mix.kind_of(firing[0])].append(request.at_s - due_s)
            early += request.at_s < due_s
    received = {f for f in arrivals if f in wanted}
    limited = [(i, p) for i, p in plans.items() if p.max_firings is not None]
    every = [s for kind in mix.KINDS for s in lateness[kind]]
    return {
        "firings_expected": len(wanted),
        "firings_received": len(received),
        "lost": len(wanted - received),
        "lost_sample": [  # the first few: which timer, which second
            f"{timer_id}@{mix.iso(s)}" for timer_id, s in sorted(wanted - received)[:10]
        ],
        "duplicates": sum(n - 1 for n in arrivals.values()),
        "fired_after_delete": after_stop,
        "fired_after_completion": after_completion,
        "deleted_or_paused": len(stopped),
        "early": early,
        "second_rate_firings": sum(1 for timer_id, _ in wanted if plans[timer_id].second_rate),
        "jittered_firings": sum(1 for timer_id, s in wanted if plans[timer_id].offsets),
        "max_firings_timers": len(limited),
        "max_firings_ran_exactly": sum(
            1
            for timer_id, plan in limited
            if {s for (i, s) in received if i == timer_id} == set(plan.fires)
        ),
        "lateness_ms": _percentiles(every),
        "lateness_ms_by_kind": {
            kind: {"firings": len(values)} | _percentiles(values)
            for kind, values in lateness.items()
            if values
        },
        "lateness_s": [round(s, 4) for s in every],
        "spread_seconds": end_s - base_s,
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(percentile(values, 0.50) * 1000, 1),
        "p95": round(percentile(values, 0.95) * 1000, 1),
        "p99": round(percentile(values, 0.99) * 1000, 1),
        "max": round(max(values) * 1000, 1),
    }
