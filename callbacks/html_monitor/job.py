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
from typing import Any

from callbacks.html_monitor.config import HtmlMonitorJob
from callbacks.html_monitor.extract import (
    IgnorePatternError,
    NestingTooDeepError,
    decode_html,
    extract,
)
from callbacks.html_monitor.json_filter import FilterError, filtered_text, is_json_content_type
from callbacks.html_monitor.notify import Notice, send
from callbacks.html_monitor.text_rules import (
    Budget,
    PatternTimeout,
    extract_matches,
    first_match,
    without_matching,
)
from timer_service.errors import JobStateTooLargeError
from timer_service.job_types import JobContext, JobResult, JobType
from timer_service.keys import SNAPSHOT_PREFIX

__all__ = ["HtmlMonitorJob", "check", "job_type"]

USER_AGENT = "timer-service-html-monitor/1"


class _Failed(Exception):
    """The check failed with this reason (an ``error`` run)."""


def check(config: HtmlMonitorJob, context: JobContext) -> JobResult:
    """One check of the page (the job type's handler)."""
    from timer_service.egress import EgressError  # imports httpx, which validation never needs

    state = context.state.load() or {}
    if state.get("config") != config.fingerprint():
        state = {"config": config.fingerprint()}
    url = str(config.url)
    try:
        response = _fetch(config, context, state)
    except EgressError as exc:
        return _failed(config, context, state, exc.message)
    except _Failed as exc:
        return _failed(config, context, state, str(exc))
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
    budget = Budget()
    try:
        page_text, product = _page_text(config, response.body, response.headers, budget)
        blocked = first_match(page_text.splitlines(), config.block_text, budget, "blockText")
        text = (
            extract_matches(page_text, config.extract_text, budget)
            if config.extract_text
            else page_text
        )
        if product is not None:
            text = product.text()
    except (_Failed, FilterError, PatternTimeout, IgnorePatternError, NestingTooDeepError) as exc:
        return _failed(config, context, state, str(exc))
    state.update(validators, raw=raw_hash)
    if blocked is not None and "text" in state:
        state["dirty"] = True
        return _unchanged(
            config, context, state, f"blockText matched {blocked[:200]!r}: no change recorded"
        )
    newly_met, details = _conditions(config, state, product)
    text_hash = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    previous_hash = state.get("text")
    if previous_hash is None:
        notified = _notify_conditions(config, context, newly_met, product, None)
        _recovered(config, context, state, url)
        _save(context, state, text)
        lines = text.count("\n") + 1 if text else 0
        summary = f"baseline recorded: {lines} line{'' if lines == 1 else 's'}"
        if newly_met:
            summary += "; " + _met_summary(newly_met, product)
        return JobResult(
            outcome="ok",
            summary=summary,
            details={"lines": lines, **details, **({"notified": notified} if newly_met else {})},
        )
    if text_hash == previous_hash:
        state["dirty"] = True
        return _unchanged(config, context, state, "text unchanged")
    old_text = _snapshot_text(state, context)
    diff, added, removed = _diff(old_text, text)
    summary = f"{added} line{'' if added == 1 else 's'} added, {removed} removed"
    if product is not None:
        notified = _notify_conditions(config, context, newly_met, product, diff)
        if newly_met:
            summary = _met_summary(newly_met, product)
    else:
        try:
            triggered = _triggered(config, diff, budget)
        except PatternTimeout as exc:
            return _failed(config, context, state, str(exc))
        if triggered is False:
            details["triggered"] = False
            notified = []
        else:
            notified = send(config.notify, Notice("changed", url, summary, diff), context)
    _recovered(config, context, state, url)
    _save(context, state, text)
    return JobResult(
        outcome="changed",
        summary=summary,
        diff=diff,
        details={"added": added, "removed": removed, "notified": notified, **details},
    )


def _fetch(config: HtmlMonitorJob, context: JobContext, state: dict[str, Any]) -> Any:
    headers = {**config.headers, **_conditional_headers(state), "User-Agent": USER_AGENT}
    if config.fetcher == "browser":
        from callbacks.html_monitor.browser import render

        if not context.settings.browser_function and not _has_playwright():
            raise _Failed(
                'fetcher "browser" needs a browser: deploy with browser_fetcher=True'
                " (locally: the browser extra and Chromium)"
            )
        return render(
            str(config.url),
            egress=context.http,
            headers={**config.headers, "User-Agent": USER_AGENT},
            timeout_s=config.timeout_seconds,
            max_bytes=config.max_bytes,
        )
    return context.http.request(
        "GET",
        str(config.url),
        headers=headers,
        connect_timeout_s=min(config.timeout_seconds, 10.0),
        read_timeout_s=config.timeout_seconds,
        total_timeout_s=config.timeout_seconds,
        max_bytes=config.max_bytes,
    )


def _has_playwright() -> bool:
    """Whether Playwright is installed here (the main Lambda bundle has none)."""
    import importlib.util

    try:
        return importlib.util.find_spec("playwright") is not None
    except ValueError:  # in sys.modules as None: imports of it are refused
        return False


def _page_text(
    config: HtmlMonitorJob, body: bytes, headers: Any, budget: Budget
) -> tuple[str, Any]:
    """The page's compared text before extractText, and its product values if watched."""
    content_type = headers.get("content-type")
    as_json = config.format == "json" or (
        config.format == "auto"
        and (bool(config.json_path or config.jq) or is_json_content_type(content_type))
    )
    if as_json:
        if config.include or config.exclude:
            raise _Failed("include and exclude select from HTML; the response is JSON")
        if config.watches_product:
            raise _Failed("conditions read a product page (HTML); the response is JSON")
        text = filtered_text(body, json_path=config.json_path, jq=config.jq)
        lines = without_matching(text.splitlines(), config.ignore_text, budget, "ignoreText")
        return "\n".join(lines), None
    html = decode_html(body, content_type)
    extracted = extract(
        html, include=config.include, exclude=config.exclude, ignore_text=config.ignore_text
    )
    if config.include and extracted.matched == 0:
        raise _Failed("the include selectors matched nothing")
    product = None
    if config.watches_product:
        from selectolax.lexbor import LexborHTMLParser

        from callbacks.html_monitor.product import read_product

        product = read_product(
            LexborHTMLParser(html),
            price_selector=config.price_selector,
            availability_selector=config.availability_selector,
        )
        if product.source == "none":
            raise _Failed(
                "no price or availability found: the page has no schema.org Product offer"
                " and priceSelector/availabilitySelector matched nothing"
            )
    return extracted.text, product


def _conditions(
    config: HtmlMonitorJob, state: dict[str, Any], product: Any
) -> tuple[list[Any], dict[str, Any]]:
    """The conditions that turned true at this check, and the values for the run history."""
    if product is None:
        return [], {}
    before = state.get("met") or [False] * len(config.conditions)
    met = [condition.holds(product) for condition in config.conditions]
    state["met"] = met
    newly = [
        c for c, now, was in zip(config.conditions, met, before, strict=False) if now and not was
    ]
    details = {
        "values": product.values(),
        "conditions": [
            {"condition": c.describe(), "met": now}
            for c, now in zip(config.conditions, met, strict=True)
        ],
    }
    return newly, details


def _met_summary(newly_met: list[Any], product: Any) -> str:
    names = ", ".join(condition.describe() for condition in newly_met)
    price = (
        f"{product.price} {product.currency or ''}".strip() if product.price is not None else "none"
    )
    return f"now true: {names} (price {price}, availability {product.availability or 'unknown'})"


def _notify_conditions(
    config: HtmlMonitorJob,
    context: JobContext,
    newly_met: list[Any],
    product: Any,
    diff: str | None,
) -> list[str]:
    if not newly_met:
        return []
    notice = Notice("condition", str(config.url), _met_summary(newly_met, product), diff)
    return send(config.notify, notice, context)


def _triggered(config: HtmlMonitorJob, diff: str | None, budget: Budget) -> bool | None:
    """Whether an added line matches triggerText (None without triggerText)."""
    if not config.trigger_text:
        return None
    added = [
        line[1:]
        for line in (diff or "").splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return first_match(added, config.trigger_text, budget, "triggerText") is not None


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
    summary=(
        "watch a web page or JSON API (CSS selectors, JSONPath/jq, text and price conditions);"
        " notify and record each change"
    ),
    default_history="changes-and-errors",
)
