"""``html_monitor``: fetch a page, compare its text with the last snapshot, notify on change.

Two hashes keep it cheap: one of the raw bytes (a byte-identical page, or a 304 answer to
the conditional GET, is not parsed at all) and one of the normalised text, which decides
"changed". The first check records a baseline. A change keeps the new snapshot
(compressed, in the timer's job state; in S3 when too large), returns the unified diff for
the run history and sends one notice. ``alertAfterFailures`` failed checks in a row send
one "failing" notice, and the first good check after them one "recovered" notice.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import json
from typing import Annotated, Any

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from callbacks.html_monitor.extract import (
    IgnorePatternError,
    NestingTooDeepError,
    check_pattern,
    check_selector,
    decode_html,
    extract,
)
from callbacks.html_monitor.notify import Notice, NotifyConfig, send
from callbacks.job_types.headers import HeaderName, HeaderValue
from timer_service.errors import JobStateTooLargeError
from timer_service.job_types import JobContext, JobResult, JobType
from timer_service.keys import SNAPSHOT_PREFIX

__all__ = ["HtmlMonitorJob", "check", "job_type"]

USER_AGENT = "timer-service-html-monitor/1"
Selector = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(check_selector)]
Selectors = Annotated[list[Selector], Field(max_length=20)]
Pattern = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(check_pattern)]


class HtmlMonitorJob(BaseModel):
    """What to watch and whom to tell."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    url: AnyHttpUrl
    include: Selectors = Field(
        default_factory=list, description="CSS selectors of the parts to compare; default: body"
    )
    exclude: Selectors = Field(
        default_factory=list, description="CSS selectors removed before include applies"
    )
    ignore_text: Annotated[list[Pattern], Field(max_length=50)] = Field(
        default_factory=list, description="regular expressions: matching lines are ignored"
    )
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=32)
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 15.0
    max_bytes: Annotated[int, Field(ge=1024, le=10 * 1024 * 1024)] = 2 * 1024 * 1024
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    alert_after_failures: Annotated[int, Field(ge=1, le=100)] = 3

    def fingerprint(self) -> str:
        """What decides the compared text: a new one starts a new baseline."""
        relevant = [str(self.url), self.include, self.exclude, self.ignore_text]
        return hashlib.sha256(json.dumps(relevant).encode()).hexdigest()[:32]


def check(config: HtmlMonitorJob, context: JobContext) -> JobResult:
    """One check of the page (the job type's handler)."""
    from timer_service.egress import EgressError  # imports httpx, which validation never needs

    state = context.state.load() or {}
    if state.get("config") != config.fingerprint():
        state = {"config": config.fingerprint()}
    url = str(config.url)
    try:
        response = context.http.request(
            "GET",
            url,
            headers={**config.headers, **_conditional_headers(state), "User-Agent": USER_AGENT},
            connect_timeout_s=min(config.timeout_seconds, 10.0),
            read_timeout_s=config.timeout_seconds,
            total_timeout_s=config.timeout_seconds,
            max_bytes=config.max_bytes,
        )
    except EgressError as exc:
        return _failed(config, context, state, exc.message)
    if response.status == 304 and "text" in state:
        return _unchanged(config, context, state, "304 Not Modified: not parsed")
    if response.status >= 400 or response.status == 304:
        return _failed(config, context, state, f"HTTP {response.status} from {response.url}")
    raw_hash = hashlib.blake2b(response.body, digest_size=16).hexdigest()
    validators = {
        "etag": response.headers.get("etag"),
        "lastModified": response.headers.get("last-modified"),
    }
    if raw_hash == state.get("raw") and "text" in state:
        if validators != {k: state.get(k) for k in validators}:
            state.update(validators)
            state["dirty"] = True
        return _unchanged(config, context, state, "byte-identical: not parsed")
    html = decode_html(response.body, response.headers.get("content-type"))
    try:
        extracted = extract(
            html, include=config.include, exclude=config.exclude, ignore_text=config.ignore_text
        )
    except (IgnorePatternError, NestingTooDeepError) as exc:
        return _failed(config, context, state, str(exc))
    if config.include and extracted.matched == 0:
        return _failed(config, context, state, "the include selectors matched nothing")
    text = extracted.text
    text_hash = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    previous_hash = state.get("text")
    state.update(validators, raw=raw_hash)
    if previous_hash is None:
        _recovered(config, context, state, url)
        _save(context, state, text)
        lines = text.count("\n") + 1 if text else 0
        return JobResult(
            outcome="ok",
            summary=f"baseline recorded: {lines} line{'' if lines == 1 else 's'}",
            details={"lines": lines},
        )
    if text_hash == previous_hash:
        state["dirty"] = True
        return _unchanged(config, context, state, "text unchanged")
    old_text = _snapshot_text(state, context)
    diff, added, removed = _diff(old_text, text)
    summary = f"{added} line{'' if added == 1 else 's'} added, {removed} removed"
    reached = send(config.notify, Notice("changed", url, summary, diff), context)
    _recovered(config, context, state, url)
    _save(context, state, text)
    return JobResult(
        outcome="changed",
        summary=summary,
        diff=diff,
        details={"added": added, "removed": removed, "notified": reached},
    )


def _conditional_headers(state: dict[str, Any]) -> dict[str, str]:
    if "text" not in state:
        return {}
    headers = {}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("lastModified"):
        headers["If-Modified-Since"] = state["lastModified"]
    return headers


def _unchanged(
    config: HtmlMonitorJob, context: JobContext, state: dict[str, Any], summary: str
) -> JobResult:
    recovered = _recovered(config, context, state, str(config.url))
    if state.pop("dirty", False) or recovered:
        _save(context, state)
    return JobResult(outcome="unchanged", summary=summary)


def _failed(
    config: HtmlMonitorJob, context: JobContext, state: dict[str, Any], reason: str
) -> JobResult:
    """A failed check: counted, and announced once when the streak reaches the threshold."""
    state.pop("dirty", None)
    failures = int(state.get("failures", 0)) + 1
    state["failures"] = failures
    notified: list[str] = []
    if failures == config.alert_after_failures:
        summary = f"{failures} checks in a row failed; the last: {reason}"
        notified = send(config.notify, Notice("failing", str(config.url), summary), context)
    _save(context, state)
    return JobResult(
        outcome="error", summary=reason, details={"failures": failures, "notified": notified}
    )


def _recovered(
    config: HtmlMonitorJob, context: JobContext, state: dict[str, Any], url: str
) -> bool:
    """Reset the failure streak; announce the recovery when the streak had been announced."""
    failures = int(state.pop("failures", 0))
    if failures >= config.alert_after_failures:
        summary = f"checks succeed again after {failures} failures"
        send(config.notify, Notice("recovered", url, summary), context)
    return failures > 0


def _diff(old: str | None, new: str) -> tuple[str | None, int, int]:
    """Unified diff of two texts and the lines added and removed (None without the old text)."""
    if old is None:
        return None, 0, 0
    lines = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), "before", "after", lineterm="", n=2
        )
    )
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return "\n".join(lines) + "\n", added, removed


def _snapshot_key(context: JobContext) -> str:
    owner = hashlib.sha256(context.timer.owner.encode()).hexdigest()[:24]
    return f"{SNAPSHOT_PREFIX}{owner}/{context.timer.id}.txt.gz"


def _save(context: JobContext, state: dict[str, Any], text: str | None = None) -> None:
    """Save the state; with ``text``, as the new snapshot: in the state when it fits,
    otherwise in S3 (or, without a bucket, only its hash: the next change has no diff)."""
    if text is not None:
        state["text"] = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        state["snapshot"] = text
        state.pop("snapshotKey", None)
    try:
        context.state.save(state)
        return
    except JobStateTooLargeError:
        if text is None:
            raise
        state["snapshot"] = None
    bucket = context.settings.snapshot_bucket
    if bucket is not None:
        key = _snapshot_key(context)
        context.client("s3").put_object(
            Bucket=bucket, Key=key, Body=gzip.compress(text.encode()), ContentEncoding="gzip"
        )
        state["snapshotKey"] = key
    context.state.save(state)


def _snapshot_text(state: dict[str, Any], context: JobContext) -> str | None:
    if state.get("snapshot") is not None:
        return str(state["snapshot"])
    key = state.get("snapshotKey")
    bucket = context.settings.snapshot_bucket
    if key is None or bucket is None:
        return None
    body = context.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return gzip.decompress(body).decode()


job_type = JobType(
    name="html_monitor",
    config_model=HtmlMonitorJob,
    handler=check,
    summary="watch a web page's text (CSS selectors, ignored lines); notify and record each change",
    default_history="changes-and-errors",
)
