"""A timer's runs in a row: the failing streak behind ``alerts`` and ``pauseAfterFailures``,
and the run-in-progress mark behind ``overlap: skip`` (see :mod:`timer_service.alerts`).

Writes only where a timer asks for them: a failed run of a timer with alerts or a pause
threshold counts one (an UpdateItem on its item, no version change); the first success after
failures clears the count; a ``skip`` timer marks and unmarks each run. A timer that neither
fails nor skips costs nothing here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from timer_service.alerts import NOTIFY_JOB_TYPE, AlertsSpec
from timer_service.completion import firing_weight
from timer_service.errors import TimerServiceError, VersionConflictError
from timer_service.firing import Firing
from timer_service.handoff import write_timer
from timer_service.job_types import JobContext, JobTypeRegistry
from timer_service.metrics import Metrics
from timer_service.models import Timer
from timer_service.store.base import TimerStore

__all__ = ["OVERLAP_LEASE_S", "Streaks"]

logger = logging.getLogger(__name__)

# A run's mark outlives the longest run (a Lambda's 15 minutes): a crash cannot hold it longer.
OVERLAP_LEASE_S = 900

RunNotice = Callable[[Any, JobContext], None]
"""Runs the ``notify`` job type's handler with a config (guarded like any job)."""


class Streaks:
    """Failing streaks, their notices and pauses, and overlap marks, for one delivery."""

    def __init__(
        self,
        store: TimerStore,
        job_types: JobTypeRegistry,
        metrics: Metrics,
        run_notice: RunNotice,
    ) -> None:
        self._store = store
        self._job_types = job_types
        self._metrics = metrics
        self._run_notice = run_notice

    @staticmethod
    def counts(timer: Timer) -> bool:
        """Whether this timer's failures are counted at all."""
        return timer.alerts is not None or timer.pause_after_failures is not None

    def failed(
        self, timer: Timer, firing: Firing, reason: str, context: JobContext, now_s: int
    ) -> None:
        """A run of ``timer`` failed: count it; the notice when the streak reaches
        ``afterFailures``; the pause when it reaches ``pauseAfterFailures``."""
        if not self.counts(timer) or firing.manual or firing.backfill:
            return
        failures = self._store.record_failure(timer)
        if failures is None:  # changed meanwhile: a new version starts its own streak
            return
        alerts = None if timer.alerts is None else AlertsSpec.model_validate(timer.alerts)
        if alerts is not None and failures == alerts.after_failures:
            self._notice(
                alerts, "failing", f"{failures} runs in a row failed; the last: {reason}", context
            )
        limit = timer.pause_after_failures
        if limit is not None and failures >= limit and timer.enabled:
            why = f"paused after {failures} failed runs in a row; the last: {reason}"
            if self._pause(timer, why, now_s, failures) and alerts is not None:
                self._notice(alerts, "paused", why, context)

    def succeeded(self, timer: Timer, firing: Firing, context: JobContext) -> None:
        """A run succeeded: a streak ends (the recovery notice if it had been announced)."""
        if timer.failures == 0 or firing.manual or firing.backfill:
            return
        if not self._store.clear_failures(timer, failures=timer.failures):
            return  # another run ended it first
        alerts = None if timer.alerts is None else AlertsSpec.model_validate(timer.alerts)
        if alerts is not None and timer.failures >= alerts.after_failures:
            summary = f"runs succeed again after {timer.failures} failures"
            self._notice(alerts, "recovered", summary, context)

    def _pause(self, timer: Timer, reason: str, now_s: int, failures: int) -> bool:
        paused = timer.model_copy(
            update={
                "failures": failures,  # the count as it is now, not as the timer was read
                "enabled": False,
                "version": timer.version + 1,
                "schedule_version": None,  # its firings change: those made before are stale
                "updated_s": now_s,
                "paused_reason": reason[:500],
            }
        )
        paused = paused.model_copy(update={"firing_weight": firing_weight(paused)})
        try:
            write_timer(self._store, None, paused, timer, now_s=now_s, count_limit=None)
        except VersionConflictError:
            return False  # changed meanwhile (paused, replaced): its writer decided
        self._metrics.count("TimersPausedAfterFailures")
        return True

    def _notice(self, alerts: AlertsSpec, event: str, summary: str, context: JobContext) -> None:
        """Send a notice; a target that fails is logged, not retried (the run failed already,
        or succeeded: either way its own outcome stands)."""
        try:
            job_type = self._job_types.get(NOTIFY_JOB_TYPE)
            targets = alerts.model_dump(mode="json", by_alias=True, exclude={"after_failures"})
            config = job_type.config_model.model_validate(
                {**targets, "event": event, "message": summary}
            )
            self._run_notice(config, context)
        except (TimerServiceError, Exception) as exc:  # best effort
            self._metrics.count("AlertsFailed")
            logger.warning("alert %s of %s not sent: %s", event, context.timer.id, exc)
            return
        self._metrics.count("AlertsSent")
