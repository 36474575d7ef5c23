"""Delivery of firings to job types: the check that a firing is still wanted, then the job.

The check is the strongly consistent read of the timer (batched per SQS batch): a deleted,
paused or re-versioned timer's firing is skipped, so nothing fires after DELETE returned
unless its callback had already started. A stale cron firing also removes the next item its
ticker wrote, which ends the chain of an old version.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from timer_service.clock import Clock
from timer_service.dispatch import Firing
from timer_service.job_types import JobContext, JobTypeRegistry
from timer_service.metrics import Metrics, NullMetrics
from timer_service.models import Timer
from timer_service.settings import Settings
from timer_service.store.base import TimerStore

__all__ = ["Delivery", "Outcome", "RunOnce", "retry_delay_s"]

Outcome = Literal["delivered", "deleted", "paused", "stale"]
RunOnce = Callable[[str, Callable[[], None]], None]
"""Runs the action at most once per firing id (powertools Idempotency in the Lambda)."""

MAX_EARLY_WAIT_S = 2.0  # a message may arrive up to a second early: wait it out


def retry_delay_s(attempt: int, *, base_s: int, cap_s: int = 900) -> int:
    """Exponential backoff before delivery ``attempt + 1``: base, 2x base, 4x base ... cap."""
    return int(min(cap_s, base_s * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class Delivered:
    outcome: Outcome
    lateness_s: float | None = None


class Delivery:
    """Checks firings against their timers and runs their job types."""

    def __init__(
        self,
        *,
        store: TimerStore,
        job_types: JobTypeRegistry,
        clock: Clock,
        settings: Settings,
        client: Callable[[str], Any],
        metrics: Metrics | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._job_types = job_types
        self._clock = clock
        self._settings = settings
        self._client = client
        self._metrics = metrics or NullMetrics()
        self._sleep = sleep

    def load(self, firings: Sequence[Firing]) -> dict[tuple[str, str], Timer]:
        """The timers of a batch of firings, in one consistent batched read."""
        return self._store.get_timers([(f.owner, f.timer_id) for f in firings])

    def deliver(
        self,
        firing: Firing,
        *,
        attempt: int,
        timers: dict[tuple[str, str], Timer],
        run_once: RunOnce | None = None,
    ) -> Delivered:
        """Run the firing's job unless its timer is gone, paused or changed; raises to retry."""
        timer = timers.get((firing.owner, firing.timer_id))
        outcome: Outcome | None = "deleted" if timer is None else _skip_reason(firing, timer)
        if outcome is not None:
            if firing.next_key is not None:
                self._store.delete_stale(firing.next_key, firing.version)
            self._metrics.count("FiringsSkipped")
            return Delivered(outcome)
        assert timer is not None  # no reason to skip: the timer exists
        wait_s = firing.scheduled_s - self._clock.now()
        if 0 < wait_s <= MAX_EARLY_WAIT_S:
            self._sleep(wait_s)
        job_type = self._job_types.get(timer.job_type)
        config = job_type.config_model.model_validate(timer.job)
        context = JobContext(
            firing=firing,
            timer=timer,
            attempt=attempt,
            settings=self._settings,
            client=self._client,
        )
        lateness_s = self._clock.now() - firing.scheduled_s

        def action() -> None:
            job_type.handler(config, context)

        if timer.delivery == "deduplicated" and run_once is not None:
            run_once(firing.firing_id, action)
        else:
            action()
        self._metrics.count("FiringsDelivered")
        self._metrics.count("DispatchLateness", max(0.0, lateness_s) * 1000, unit="Milliseconds")
        return Delivered("delivered", lateness_s)


def _skip_reason(firing: Firing, timer: Timer) -> Outcome | None:
    """Why a firing of this existing timer must not run, if it must not."""
    if timer.version != firing.version:
        return "stale"
    if not timer.enabled and not firing.manual:
        return "paused"
    return None
