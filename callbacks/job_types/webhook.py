"""``webhook``: POST the firing as JSON to ``job.url``, signed, with timeouts and retries.

Every hop (the URL and each redirect) passes the SSRF guard, and the connection goes to the
address that was checked (the host name still drives Host and TLS), so DNS cannot be
re-pointed between the check and the request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from functools import cache
from typing import Annotated
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from timer_service.clock import format_utc
from timer_service.egress import BlockedTargetError, resolve_target
from timer_service.job_types import JobContext, JobType, PermanentJobError

MAX_REDIRECTS = 5
IN_PROCESS_RETRIES = 2  # quick retries on timeouts and 5xx before SQS's backoff takes over
USER_AGENT = "timer-service-webhook/1"


class WebhookJob(BaseModel):
    """Target and timeouts of a webhook."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    url: AnyHttpUrl
    headers: dict[str, str] = Field(default_factory=dict, max_length=32)
    connect_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 3.0
    read_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    total_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 15.0


@cache
def _client() -> httpx.Client:
    """One pooled client for every webhook; each request brings its own timeouts."""
    return httpx.Client(follow_redirects=False, trust_env=False)


class WebhookFailed(Exception):
    """A timeout or a 5xx: worth retrying."""


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
    """``sha256=<hex>``: HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(config: WebhookJob, context: JobContext) -> None:
    body = body_for(context)
    headers = {
        **config.headers,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Timer-Firing-Id": context.firing.firing_id,
    }
    if context.settings.webhook_signing_secret:
        headers["X-Timer-Signature"] = signature(context.settings.webhook_signing_secret, body)
    last_error: Exception | None = None
    for attempt in range(IN_PROCESS_RETRIES + 1):
        if attempt:
            time.sleep(0.2 * 2**attempt)
        try:
            _post_following_redirects(config, context, headers, body)
            return
        except WebhookFailed as exc:
            last_error = exc
    raise WebhookFailed(f"webhook failed after {IN_PROCESS_RETRIES + 1} tries: {last_error}")


def _post_following_redirects(
    config: WebhookJob, context: JobContext, headers: dict[str, str], body: bytes
) -> None:
    timeout = httpx.Timeout(
        connect=config.connect_timeout_seconds,
        read=config.read_timeout_seconds,
        write=config.read_timeout_seconds,
        pool=config.connect_timeout_seconds,
    )
    deadline = time.monotonic() + config.total_timeout_seconds
    url = str(config.url)
    client = _client()
    for _ in range(MAX_REDIRECTS + 1):
        try:
            host, port, addresses = resolve_target(
                url, allow_private=context.settings.allow_private_targets
            )
        except BlockedTargetError as exc:
            raise PermanentJobError(f"{url}: {exc.message}") from exc
        parts = urlsplit(url)
        pinned = _pin(parts, addresses[0], port)
        try:
            with client.stream(
                "POST",
                pinned,
                content=body,
                headers={**headers, "Host": parts.netloc.rsplit("@", 1)[-1]},
                extensions={"sni_hostname": host},
                timeout=timeout,
            ) as response:
                for _chunk in response.iter_bytes():
                    if time.monotonic() > deadline:
                        raise WebhookFailed(f"over {config.total_timeout_seconds}s in total")
        except httpx.TimeoutException as exc:
            raise WebhookFailed(f"timed out: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise WebhookFailed(f"transport error: {exc!r}") from exc
        if time.monotonic() > deadline:
            raise WebhookFailed(f"over {config.total_timeout_seconds}s in total")
        status = response.status_code
        if status in (301, 302, 303, 307, 308) and "location" in response.headers:
            url = urljoin(url, response.headers["location"])
            continue
        if status >= 500 or status in (408, 429):
            raise WebhookFailed(f"HTTP {status}")
        if status >= 400:
            raise PermanentJobError(f"HTTP {status} from {url}")
        return
    raise PermanentJobError(f"more than {MAX_REDIRECTS} redirects")


def _pin(parts: SplitResult, address: str, port: int) -> str:
    """The URL with its host replaced by the checked address."""
    literal = f"[{address}]" if ":" in address else address
    return urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))


job_type = JobType(
    name="webhook",
    config_model=WebhookJob,
    handler=post,
    summary="POST {timerId, scheduledAt, firedAt, attempt, timerCallbackData} to a URL",
)
