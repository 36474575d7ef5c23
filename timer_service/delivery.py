"""Delivery of firings to job types: the check that a firing is still wanted, then the job.

The check is made at the firing's second, on the ticker's copy unless the shard's change log
shows a write since, else on the timer read strongly consistent (:mod:`timer_service.timer_reads`).
A deleted, paused or re-versioned timer's firing is skipped; a stale cron firing also removes
its next item. A *raced* firing runs once by a conditional write on its id; a heartbeat's
deadline only if one write marks it missed (:mod:`timer_service.pings`); ``deduplicated``
ones through ``run_once`` (per pack: :mod:`timer_service.pack_ledger`).

Each run is written to the timer's history when its policy keeps that outcome, so a timer
whose policy does not record an outcome costs no write for it. Each attempt is a span of the
firing's W3C trace (:mod:`timer_service.tracing`): the job gets its ``traceparent``, the run
keeps the trace id, and a ``span`` hook (an X-Ray subsegment in the Lambda) wraps the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Literal

from pydantic import ValidationError

from timer_service.alerts import NOTIFY_JOB_TYPE
from timer_service.aws_errors import is_permanent
from timer_service.clock import Clock
from timer_service.completion import complete_after_last
from timer_service.connection_guard import guarded
from timer_service.egress import Egress
from timer_service.errors import StoreError, TimerServiceError
from timer_service.firing import Firing
from timer_service.flow import FlowControl, FlowWait
from timer_service.heartbeat import HEARTBEAT_HISTORY
from timer_service.job_types import (
    ClientFactory,
    JobContext,
    JobResult,
    JobType,
    JobTypeRegistry,
    PermanentJobError,
)
from timer_service.metrics import Metrics, NullMetrics
from timer_service.models import Timer
from timer_service.runs import MAX_DIFF_CHARS, MAX_SUMMARY_CHARS, HistoryPolicy, Run, records
from timer_service.settings import Settings
from timer_service.store.base import TimerStore
from timer_service.streaks import OVERLAP_LEASE_S, Streaks
from timer_service.timer_reads import MAX_EARLY_WAIT_S, StoredJobState, TimerReads
from timer_service.tracing import TraceParent

__all__ = [
    "MAX_EARLY_WAIT_S",
    "Delivered",
    "Delivery",
    "Outcome",
    "RunOnce",
    "Span",
    "StoredJobState",
    "TimerReads",
]

logger = logging.getLogger(__name__)

Outcome = Literal[
    "delivered", "deleted", "paused", "stale", "duplicate", "pinged", "not_run", "overlapped"
]
RunOnce = Callable[[str, Callable[[], None]], None]
"""Runs the action at most once per firing id (powertools Idempotency in the Lambda)."""
Span = Callable[[Firing, TraceParent], AbstractContextManager[object]]
"""Wraps one attempt's job in a span of the firing's trace (an X-Ray subsegment in the Lambda)."""

CLAIM_TTL_S = 86400  # a raced firing's claim outlives any retry of its copies


@dataclass(frozen=True)
class Delivered:
    outcome: Outcome
    lateness_s: float | None = None
    result: JobResult | None = None  # what the job reported, when it ran


class Delivery:
    """Checks firings against their timers, runs their job types and keeps their history."""

    def __init__(
        self,
        *,
        store: TimerStore,
        job_types: JobTypeRegistry,
        clock: Clock,
        settings: Settings,
        client: ClientFactory,
        metrics: Metrics | None = None,
        sleep: Callable[[float], None] = time.sleep,
        egress: Egress | None = None,
        span: Span | None = None,
        signing_secrets: Callable[[str], tuple[str, ...]] | None = None,
    ) -> None:
        self._store = store
        self._job_types = job_types
        self._clock = clock
        self._settings = settings
        self._client = client
        self._metrics = metrics or NullMetrics()
        self._sleep = sleep
        self._egress = egress or Egress(allow_private=settings.allow_private_targets)
        self._streaks = Streaks(store, job_types, self._metrics, self._notify)
        self._flow = FlowControl(store, clock, sleep, self._metrics)
        self._span: Span = span or (lambda firing, trace: nullcontext())
        # An owner's webhook signing secrets valid now (SigningSecretCache.valid).
        self._signing_secrets = signing_secrets or (lambda owner: ())

    def reads(self, firings: Sequence[Firing]) -> TimerReads:
        """Reads of the timers of a batch of firings, each at its firing's second."""
        return TimerReads(self._store, self._clock, self._sleep, firings)

    def deliver(
        self,
        firing: Firing,
        *,
        attempt: int,
        reads: TimerReads,
        final: bool = False,
        run_once: RunOnce | None = None,
        delivery_id: str | None = None,
    ) -> Delivered:
        """Run the firing's job unless its timer is gone, paused or changed; raises to retry.

        ``final``: this attempt is the last (a failure is dead-lettered, and its run says so).
        ``delivery_id`` names the queue message (the same on each retry of it): the claimant
        of a raced firing."""
        timer = reads.timer_for(firing, attempt=attempt)
        if firing.complete_only:  # after a jittered last firing, or one its policy skipped
            if timer is not None and timer.runs_firing_of(
                firing.version, firing.scheduled_s, firing.incarnation
            ):
                self.complete(firing, timer)
            return Delivered("not_run")
        if timer is not None and firing.heartbeat and not self._missed(firing, timer):
            self._metrics.count("HeartbeatsPingedInTime")
            return Delivered("pinged")
        outcome: Outcome | None = "deleted" if timer is None else _skip_reason(firing, timer)
        if outcome is not None:
            if firing.next_key is not None:
                self._store.delete_stale(firing.next_key, firing.version)
            self._metrics.count("FiringsSkipped")
            if timer is not None:
                now_s = self._clock.now()
                skipped = JobResult(outcome="skipped", summary=f"not run: the timer is {outcome}")
                self._record(timer, firing, attempt, skipped, now_s, now_s)
                if outcome == "paused":  # paused through its last firing: it fires no more
                    self.complete(firing, timer)
            return Delivered(outcome)
        assert timer is not None  # no reason to skip: the timer exists
        trace = TraceParent.start(firing.trace)  # this attempt's span of the firing's trace
        context = JobContext(
            firing=firing,
            timer=timer,
            attempt=attempt,
            settings=self._settings,
            client=self._client,
            state=StoredJobState(self._store, timer.owner, timer.id),
            http=self._egress,
            trace=trace,
            clock=self._clock,
            signing_secrets=partial(self._signing_secrets, timer.owner),
        )
        try:
            job_type, config = self._job_of(timer)
        except PermanentJobError as exc:
            now_s = self._clock.now()
            failed = JobResult(
                outcome="error", summary=self._error_summary(exc, attempt, final=final)
            )
            self._record(timer, firing, attempt, failed, now_s, now_s)
            self._streaks.failed(timer, firing, exc.message, context, int(now_s))
            raise
        deduplicated = timer.delivery == "deduplicated" and run_once is not None
        claimant = None
        if firing.raced and not deduplicated:  # idempotency already runs it once
            claimant = delivery_id or firing.firing_id
            expires_s = int(self._clock.now()) + CLAIM_TTL_S
            if not self._store.claim_firing(
                firing.firing_id, claimant=claimant, expires_s=expires_s
            ):
                self._metrics.count("DuplicatesDropped")
                return Delivered("duplicate")
        results: list[JobResult] = []
        began: list[float] = []  # when its job began; empty: not run
        overlapped: list[bool] = []

        def action() -> None:  # inside run_once: a duplicate takes no mark nor slot of the holder's
            if timer.overlap == "skip" and not self._claim_run(timer, firing, attempt):
                overlapped.append(True)
                return
            try:
                leave = self._flow.enter(timer, firing)  # FlowWait: back to the queue, for later
            except FlowWait:  # its marks go: the copy sent back takes them again
                if timer.overlap == "skip":
                    self._store.release_run(timer, firing.firing_id)
                if claimant is not None:
                    self._store.release_firing(firing.firing_id, claimant=claimant)
                raise
            started_s = self._clock.now()
            began.append(started_s)
            try:
                with self._span(firing, trace):
                    result = self._run_job(job_type, config, context)
            except Exception as exc:
                failed = JobResult(
                    outcome="error", summary=self._error_summary(exc, attempt, final=final)
                )
                self._record(timer, firing, attempt, failed, started_s, self._clock.now())
                if claimant is not None:  # a retry of either copy may claim it again
                    self._store.release_firing(firing.firing_id, claimant=claimant)
                self._streaks.failed(timer, firing, str(exc), context, int(self._clock.now()))
                raise
            finally:
                leave()
                if timer.overlap == "skip":
                    self._store.release_run(timer, firing.firing_id)
            results.append(result)
            self._record(timer, firing, attempt, result, started_s, self._clock.now())
            self._streaks.succeeded(timer, firing, context)

        once: RunOnce = run_once if deduplicated and run_once else lambda _, act: act()
        once(firing.firing_id, action)
        if overlapped:
            return Delivered("overlapped")
        lateness_s = (began[0] if began else self._clock.now()) - firing.scheduled_s
        self._metrics.count("FiringsDelivered")
        self.complete(firing, timer)
        if not firing.backfill:  # late by request, not by the service
            self._metrics.count(
                "DispatchLateness", max(0.0, lateness_s) * 1000, unit="Milliseconds"
            )
        return Delivered("delivered", lateness_s, results[0] if results else None)

    def _claim_run(self, timer: Timer, firing: Firing, attempt: int) -> bool:
        """``overlap: skip``: mark this run in progress; False (recorded skipped) when the
        previous run of the timer still holds the mark."""
        now_s = int(self._clock.now())
        until_s = now_s + OVERLAP_LEASE_S
        if self._store.claim_run(timer, firing.firing_id, now_s=now_s, until_s=until_s):
            return True
        self._metrics.count("FiringsOverlapped")
        skipped = JobResult(outcome="skipped", summary="not run: the previous run has not ended")
        self._record(timer, firing, attempt, skipped, now_s, now_s)
        self.complete(firing, timer)
        return False

    def early_s(self, firing: Firing) -> float:
        """How long before its second the firing arrived (a jitter or pacing wait longer than
        SQS can hold a message is sent on, see delivery_policy)."""
        return firing.due_s - self._clock.now()

    def complete(self, firing: Firing, timer: Timer | None = None) -> None:
        """After a timer's last firing ran (or failed for good, or was not run): the timer is
        completed, or deleted with ``onComplete: delete``; one write, once per timer."""
        if not firing.last:
            return
        runs_s = self._settings.run_history_days * 86400
        if complete_after_last(self._store, firing, timer, int(self._clock.now()), runs_s):
            self._metrics.count("TimersCompleted")

    def _notify(self, config: Any, context: JobContext) -> None:
        self._run_job(self._job_types.get(NOTIFY_JOB_TYPE), config, context)

    def history_policy(self, timer: Timer) -> HistoryPolicy:
        if timer.history is not None:
            return timer.history
        if timer.ping_hash is not None:
            return HEARTBEAT_HISTORY
        return self._job_types.default_history(timer.job_type)

    # --- internals ------------------------------------------------------------------

    def _missed(self, firing: Firing, timer: Timer) -> bool:
        """A heartbeat's deadline is missed, marked so by this one write, unless a ping moved it
        first (timer_service.pings); a timer that is no heartbeat any more counts as missed
        here, and is then skipped as stale."""
        if timer.ping_hash is None:
            return True
        missed = self._store.mark_heartbeat_missed(timer.ping_hash, deadline_s=firing.scheduled_s)
        if missed:
            self._metrics.count("HeartbeatsMissed")
        return missed

    def _job_of(self, timer: Timer) -> tuple[JobType, Any]:
        """The timer's job type and its validated config; permanent failure when neither
        is usable any more (a plugin removed or changed since the timer was written)."""
        try:
            job_type = self._job_types.get(timer.job_type)
            return job_type, job_type.config_model.model_validate(timer.job)
        except (TimerServiceError, ValidationError) as exc:
            message = exc.message if isinstance(exc, TimerServiceError) else str(exc)
            raise PermanentJobError(f"job type {timer.job_type!r} cannot run: {message}") from exc

    def _run_job(self, job_type: JobType, config: Any, context: JobContext) -> JobResult:
        """The job's result, every connection it makes guarded. Errors that every retry would
        meet again (a refused connection, an AWS call denied or misconfigured) are permanent."""
        with guarded(allow_private=self._egress.allow_private) as guard:
            try:
                result = job_type.handler(config, context) or JobResult()
            except PermanentJobError:
                raise
            except Exception as exc:
                if guard.blocked:  # a library may have reported it as a failed connection
                    raise PermanentJobError(f"blocked: {_listed(guard.blocked)}") from exc
                if is_permanent(exc):
                    raise PermanentJobError(f"{type(exc).__name__}: {exc}") from exc
                raise
        if guard.blocked:  # finished anyway: the run still says what was refused
            refused = f"blocked: {_listed(guard.blocked)}"
            summary = f"{result.summary} ({refused})" if result.summary else refused
            details = {**result.details, "blocked": guard.blocked}
            result = replace(result, summary=summary, details=details)
        return result

    def _error_summary(self, exc: Exception, attempt: int, *, final: bool) -> str:
        if isinstance(exc, TimerServiceError):
            reason = exc.message
        else:
            reason = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, PermanentJobError) or final:
            return f"{reason} (attempt {attempt}; to the dead-letter queue)"
        return f"{reason} (attempt {attempt}; will retry)"

    def _record(
        self,
        timer: Timer,
        firing: Firing,
        attempt: int,
        result: JobResult,
        started_s: float,
        finished_s: float,
    ) -> None:
        """Write the run when the timer's policy keeps its outcome; history is best effort."""
        if not records(self.history_policy(timer), result.outcome):
            return
        diff = result.diff
        if diff is not None and len(diff) > MAX_DIFF_CHARS:
            diff = diff[:MAX_DIFF_CHARS] + "\n... (diff truncated)\n"
        run = Run(
            owner=timer.owner,
            timer_id=timer.id,
            incarnation=timer.created_s,
            firing_id=firing.firing_id,
            scheduled_s=firing.scheduled_s,
            started_s=started_s,
            finished_s=finished_s,
            attempt=attempt,
            outcome=result.outcome,
            summary=result.summary[:MAX_SUMMARY_CHARS],
            manual=firing.manual,
            backfill=firing.backfill,
            heartbeat="missed" if firing.heartbeat else None,
            offset_s=firing.jitter_s or None,
            lateness_ms=None
            if result.outcome == "skipped" or firing.backfill
            else round((started_s - firing.scheduled_s) * 1000, 1),
            diff=diff,
            details=result.details,
            trace_id=firing.trace,
        )
        expires_s = int(finished_s) + self._settings.run_history_days * 86400
        try:
            self._store.put_run(run, expires_s=expires_s)
        except StoreError as exc:
            self._metrics.count("RunHistoryWriteFailed")
            logger.warning("run history not written: %s", exc.message)


def _listed(refusals: list[str]) -> str:
    more = len(refusals) - 3
    return "; ".join(refusals[:3]) + (f" (and {more} more)" if more > 0 else "")


def _skip_reason(firing: Firing, timer: Timer) -> Outcome | None:
    """Why a firing of this existing timer must not run, if it must not. A heartbeat's
    deadline is checked against its state, not a version: any version watches it."""
    if firing.heartbeat and timer.ping_hash is None:
        return "stale"
    if not timer.enabled and not (firing.manual or firing.backfill):  # both asked for now
        return "paused"
    if not firing.heartbeat and not timer.runs_firing_of(
        firing.version, firing.scheduled_s, firing.incarnation
    ):
        return "stale"
    return None
