"""``webhook``: POST the firing as JSON to ``job.url``, signed, with timeouts and retries.

Signed per Standard Webhooks (:mod:`timer_service.signing_secrets`): ``webhook-id`` (the firing
id), ``webhook-timestamp`` (this try's second) and, when the owner has signing secrets,
``webhook-signature`` (one ``v1,`` signature per valid secret); with ``traceparent``, this
delivery's span of the firing's W3C trace. ``X-Timer-Signature`` (one stack-wide secret,
``WEBHOOK_SIGNING_SECRET``) is deprecated: still sent this release, removed in the next. The
service's headers win over the job's own of the same name, whatever its case.

Every hop (the URL and each redirect) passes the SSRF guard, and the connection goes to the
address that was checked (:class:`timer_service.egress.Egress`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from callbacks.job_types.headers import HeaderName, HeaderValue
from timer_service.clock import format_utc
from timer_service.job_types import JobContext, JobResult, JobType, PermanentJobError
from timer_service.signing_secrets import signature_header

__all__ = [
    "WebhookFailed",
    "WebhookJob",
    "body_for",
    "job_type",
    "post",
    "signature",
    "signed_headers",
]

IN_PROCESS_RETRIES = 2  # quick retries on timeouts and 5xx before SQS's backoff takes over
MIN_TRY_S = 0.5  # no retry that would have less than this before the job's deadline
RESPONSE_BYTES_READ = 64 * 1024  # of a webhook's answer: enough to report, never more
USER_AGENT = "timer-service-webhook/1"


class WebhookJob(BaseModel):
    """Target and timeouts of a webhook."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    url: AnyHttpUrl
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=32)
    connect_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 3.0
    read_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    total_timeout_seconds: Annotated[
        float,
        Field(gt=0, le=120, description="the whole job's deadline, in-process retries included"),
    ] = 15.0


class WebhookFailed(Exception):
    """A timeout, a transport error, a 408, 429 or 5xx: worth retrying."""


def body_for(context: JobContext) -> bytes:
    firing = context.firing
    payload = {
        "timerId": firing.timer_id,
        "scheduledAt": format_utc(firing.scheduled_s),
        "firedAt": format_utc(time.time()),
        "attempt": context.attempt,
        "timerCallbackData": context.timer.callback_data,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact body bytes (``X-Timer-Signature``,
    deprecated)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_headers(
    context: JobContext, body: bytes, secrets: tuple[str, ...] | None = None
) -> dict[str, str]:
    """JSON, the firing id, the Standard Webhooks headers (signed by ``secrets``, by default
    the owner's valid ones), the traceparent, and the deprecated stack-wide signature."""
    firing_id = context.firing.firing_id
    timestamp_s = int(context.clock.now())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Timer-Firing-Id": firing_id,
        "webhook-id": firing_id,
        "webhook-timestamp": str(timestamp_s),
    }
    secrets = context.signing_secrets() if secrets is None else secrets
    if secrets:
        headers["webhook-signature"] = signature_header(secrets, firing_id, timestamp_s, body)
    if context.trace is not None:
        headers["traceparent"] = context.trace.header
    if context.settings.webhook_signing_secret:  # deprecated: one release more
        headers["X-Timer-Signature"] = signature(context.settings.webhook_signing_secret, body)
    return headers


def post(config: WebhookJob, context: JobContext) -> JobResult:
    """POST, retried in process on timeouts and 5xx while ``totalTimeoutSeconds`` lasts: the
    deadline of the whole job, every try and pause included. Each try is signed at its second."""
    body = body_for(context)
    secrets = context.signing_secrets()  # read once for the tries
    deadline = time.monotonic() + config.total_timeout_seconds
    last_error: Exception | None = None
    tries = 0
    for attempt in range(IN_PROCESS_RETRIES + 1):
        if attempt:
            pause = 0.2 * 2**attempt
            if time.monotonic() + pause + MIN_TRY_S > deadline:
                break
            time.sleep(pause)
        tries += 1
        ours = signed_headers(context, body, secrets)
        taken = {name.lower() for name in ours}
        theirs = {k: v for k, v in config.headers.items() if k.lower() not in taken}
        try:
            status = _post_once(
                config, context, {**theirs, **ours}, body, deadline - time.monotonic()
            )
        except WebhookFailed as exc:
            last_error = exc
            continue
        return JobResult(summary=f"HTTP {status}", details={"status": status})
    plural = "try" if tries == 1 else "tries"
    raise WebhookFailed(f"webhook failed after {tries} {plural}: {last_error}")


def _post_once(
    config: WebhookJob,
    context: JobContext,
    headers: dict[str, str],
    body: bytes,
    remaining_s: float,
) -> int:
    # Here, not at the top: egress imports httpx, and the API loads this module for WebhookJob.
    from timer_service.egress import BlockedTargetError, EgressError, TooManyRedirects

    url = str(config.url)
    try:
        response = context.http.request(
            "POST",
            url,
            headers=headers,
            content=body,
            connect_timeout_s=config.connect_timeout_seconds,
            read_timeout_s=config.read_timeout_seconds,
            total_timeout_s=max(remaining_s, 0.001),
            max_bytes=RESPONSE_BYTES_READ,
            truncate=True,
        )
    except (BlockedTargetError, TooManyRedirects) as exc:
        raise PermanentJobError(f"{url}: {exc.message}") from exc
    except EgressError as exc:
        raise WebhookFailed(exc.message) from exc
    status = response.status
    if status >= 500 or status in (408, 429):
        raise WebhookFailed(f"HTTP {status}")
    if status >= 400:
        raise PermanentJobError(f"HTTP {status} from {response.url}")
    return status


job_type = JobType(
    name="webhook",
    config_model=WebhookJob,
    handler=post,
    summary="POST {timerId, scheduledAt, firedAt, attempt, timerCallbackData} to a URL",
)
