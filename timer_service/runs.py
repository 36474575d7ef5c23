"""Run history: what each firing did, kept per the timer's history policy.

A run is one delivery attempt of one firing: when it started and finished, its outcome, a
one-line summary and, for a change monitor, the diff. Policies decide which outcomes are
written, so a timer whose policy does not record an outcome costs no write for it:

| policy               | records                          |
|----------------------|----------------------------------|
| ``all``              | every outcome                    |
| ``changes-and-errors`` | ``changed`` and ``error``      |
| ``errors``           | ``error``                        |
| ``none``             | nothing                          |
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from timer_service.camel import CamelModel
from timer_service.clock import format_utc
from timer_service.errors import InvalidRequestError

__all__ = [
    "HISTORY_POLICIES",
    "MAX_DIFF_CHARS",
    "MAX_SUMMARY_CHARS",
    "RUN_TOKEN_PATTERN",
    "HeartbeatRun",
    "HistoryPolicy",
    "Run",
    "RunOutcome",
    "RunPage",
    "RunView",
    "format_utc_ms",
    "records",
    "run_token",
    "sort_key_after",
]

HistoryPolicy = Literal["all", "changes-and-errors", "errors", "none"]
RunOutcome = Literal["ok", "changed", "unchanged", "error", "skipped"]
HeartbeatRun = Literal["missed", "recovered"]
HISTORY_POLICIES: tuple[HistoryPolicy, ...] = ("all", "changes-and-errors", "errors", "none")
MAX_SUMMARY_CHARS = 1000
MAX_DIFF_CHARS = 100_000  # a run item stays far below DynamoDB's 400 KB

_RECORDED: dict[HistoryPolicy, frozenset[RunOutcome]] = {
    "all": frozenset({"ok", "changed", "unchanged", "error", "skipped"}),
    "changes-and-errors": frozenset({"changed", "error"}),
    "errors": frozenset({"error"}),
    "none": frozenset(),
}
RUN_TOKEN_PATTERN = r"^\d{1,10}-[bmrs]-\d{1,4}$"  # a run's scheduled second, kind and attempt
_RUN_TOKEN_RE = re.compile(RUN_TOKEN_PATTERN)


def records(policy: HistoryPolicy, outcome: RunOutcome) -> bool:
    """Whether a timer with ``policy`` keeps a run with ``outcome``."""
    return outcome in _RECORDED[policy]


def format_utc_ms(epoch_s: float) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2026-11-22T14:05:37.042Z``."""
    whole = int(epoch_s)
    millis = min(999, round((epoch_s - whole) * 1000))
    return f"{format_utc(whole)[:-1]}.{millis:03d}Z"


@dataclass(frozen=True)
class Run:
    """One delivery attempt of one firing, as the history keeps it.

    ``incarnation`` is the timer's creation second: a timer deleted and created again under
    the same id starts a new history, and the old one expires unseen.
    """

    owner: str
    timer_id: str
    incarnation: int
    firing_id: str
    scheduled_s: int
    started_s: float
    finished_s: float
    attempt: int
    outcome: RunOutcome
    summary: str = ""
    manual: bool = False
    lateness_ms: float | None = None
    diff: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    backfill: bool = False
    heartbeat: HeartbeatRun | None = None  # a heartbeat timer's missed deadline, or recovery
    offset_s: int | None = None  # a jittered firing's offset after scheduled_s
    trace_id: str | None = None  # the firing's W3C trace (timer_service.tracing)

    @property
    def sort_key(self) -> str:
        """Newest last within an incarnation: scheduled second, then kind (backfill, manual,
        a heartbeat's recovery, scheduled), then attempt."""
        kind = (
            "m"
            if self.manual
            else "b"
            if self.backfill
            else "r"
            if self.heartbeat == "recovered"
            else "s"
        )
        return f"{self.incarnation:010d}#{self.scheduled_s:010d}#{kind}#{self.attempt:04d}"


class RunView(CamelModel):
    """A run as ``GET /periodic/{id}/runs`` shows it."""

    firing_id: str
    scheduled_at: str
    started_at: str
    finished_at: str
    attempt: int
    outcome: RunOutcome
    summary: str
    manual: bool = Field(description="fired by POST /trigger")
    backfill: bool = Field(
        default=False, description="fired by POST /periodic/{id}/backfill, for scheduledAt"
    )
    heartbeat: HeartbeatRun | None = Field(
        default=None,
        description="a heartbeat timer's: missed (its deadline passed unpinged; scheduledAt"
        " is the deadline) or recovered (the next ping; scheduledAt is the ping)",
    )
    offset_seconds: int | None = Field(
        default=None,
        description="jitterSeconds: the firing ran this long after scheduledAt, on purpose",
    )
    lateness_ms: float | None = Field(
        description="start of the job - scheduled time (null for a backfill); a jittered"
        " firing's includes its offset"
    )
    diff: str | None = Field(default=None, description="html_monitor: unified diff of the text")
    details: dict[str, Any] = Field(default_factory=dict, description="job-type specific facts")
    trace_id: str | None = Field(
        default=None,
        description="the firing's W3C trace id (a webhook's traceparent), the same on every"
        " attempt of it",
    )

    @classmethod
    def of(cls, run: Run) -> RunView:
        return cls(
            firing_id=run.firing_id,
            scheduled_at=format_utc(run.scheduled_s),
            started_at=format_utc_ms(run.started_s),
            finished_at=format_utc_ms(run.finished_s),
            attempt=run.attempt,
            outcome=run.outcome,
            summary=run.summary,
            manual=run.manual,
            backfill=run.backfill,
            heartbeat=run.heartbeat,
            offset_seconds=run.offset_s,
            lateness_ms=run.lateness_ms,
            diff=run.diff,
            details=run.details,
            trace_id=run.trace_id,
        )


class RunPage(CamelModel):
    """One page of a timer's runs, newest first."""

    items: list[RunView]
    next_token: str | None = None


def run_token(sort_key: str) -> str:
    """The page token after a run: its sort key without the timer's incarnation."""
    _, scheduled, kind, attempt = sort_key.split("#")
    return f"{int(scheduled)}-{kind}-{int(attempt)}"


def sort_key_after(token: str, incarnation: int) -> str:
    """The sort key a page token names, in the timer's current incarnation."""
    if not _RUN_TOKEN_RE.match(token):
        raise InvalidRequestError("nextToken is not a token this API returned", field="nextToken")
    scheduled, kind, attempt = token.split("-")
    return f"{incarnation:010d}#{int(scheduled):010d}#{kind}#{int(attempt):04d}"
