"""``http_check``: an example job type. GET a URL and check its status and latency.

What a job type is made of (see docs/job-types.md in timer-service):

1. a pydantic model of its ``job`` config (the API validates PUT bodies with it);
2. a handler ``(config, context) -> JobResult | None``;
3. a :class:`timer_service.job_types.JobType` naming both, registered as an entry point.
"""

from __future__ import annotations

import time
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from timer_service.egress import BlockedTargetError, EgressError
from timer_service.job_types import JobContext, JobResult, JobType, PermanentJobError

__all__ = ["HttpCheckJob", "check", "job_type"]


class HttpCheckJob(BaseModel):
    """The URL, the status it must answer with, and how fast."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    url: AnyHttpUrl
    expect_status: Annotated[int, Field(ge=100, le=599)] = 200
    max_latency_ms: Annotated[int, Field(gt=0, le=60_000)] = 2_000


def check(config: HttpCheckJob, context: JobContext) -> JobResult:
    """One check. A failed check is an ``error`` run, not an exception: retrying it at once
    would not tell more, and the next firing checks again."""
    started = time.monotonic()
    try:
        response = context.http.request(
            "GET",
            str(config.url),
            total_timeout_s=config.max_latency_ms / 1000,
            max_bytes=65536,
            truncate=True,
        )
    except BlockedTargetError as exc:
        raise PermanentJobError(exc.message) from exc  # misconfigured: to the DLQ with the reason
    except EgressError as exc:
        return JobResult(outcome="error", summary=exc.message)
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    details = {"status": response.status, "latencyMs": latency_ms}
    previous = (context.state.load() or {}).get("status")
    if previous != response.status:
        context.state.save({"status": response.status})  # a write only when it changes
    if response.status != config.expect_status:
        return JobResult(
            outcome="error",
            summary=f"HTTP {response.status}, expected {config.expect_status}",
            details=details,
        )
    if latency_ms > config.max_latency_ms:
        return JobResult(outcome="error", summary=f"slow: {latency_ms} ms", details=details)
    outcome = "ok" if previous in (None, response.status) else "changed"
    return JobResult(
        outcome=outcome, summary=f"HTTP {response.status} in {latency_ms} ms", details=details
    )


job_type = JobType(
    name="http_check",
    config_model=HttpCheckJob,
    handler=check,
    summary="GET a URL; a run is an error when the status or latency is not as expected",
    default_history="changes-and-errors",
)
