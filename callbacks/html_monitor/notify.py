"""Notifications of a change monitor: a webhook, an SNS topic and Apprise URLs.

One notification per event (a change, the start of a failure streak, a recovery), sent to
every configured target. A target that fails raises, so the check is retried and nothing
is lost (a target that already succeeded may hear it twice; receivers dedupe on the
firing id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from callbacks.job_types.webhook import signed_headers
from timer_service.alerts import NotifyConfig
from timer_service.clock import format_utc
from timer_service.job_types import JobContext, PermanentJobError

__all__ = ["Notice", "NotifyConfig", "NotifyFailed", "send"]

MAX_SNS_MESSAGE_BYTES = 250 * 1024
NOTIFY_TIMEOUT_S = 10.0

Event = Literal["changed", "condition", "failing", "recovered", "paused", "fired"]


class NotifyFailed(Exception):
    """A notification target did not take the notice: the check is retried."""


@dataclass(frozen=True)
class Notice:
    event: Event
    url: str
    summary: str
    diff: str | None = None

    def payload(self, context: JobContext) -> dict[str, Any]:
        firing = context.firing
        return {
            "event": self.event,
            "timerId": firing.timer_id,
            "firingId": firing.firing_id,
            "scheduledAt": format_utc(firing.scheduled_s),
            "url": self.url,
            "summary": self.summary,
            "diff": self.diff,
        }

    @property
    def title(self) -> str:
        verb = {
            "changed": "Changed",
            "failing": "Failing",
            "recovered": "Recovered",
            "paused": "Paused",
            "fired": "Timer",
        }[self.event]
        return f"{verb}: {self.url}"[:100]

    @property
    def text(self) -> str:
        return self.summary + ("\n\n" + self.diff if self.diff else "")


def send(config: NotifyConfig, notice: Notice, context: JobContext) -> list[str]:
    """Send ``notice`` to every target; the targets reached. Raises when one failed."""
    reached: list[str] = []
    if config.webhook_url is not None:
        _webhook(str(config.webhook_url), notice, context)
        reached.append("webhook")
    if config.sns_topic_arn is not None:
        _sns(config.sns_topic_arn, notice, context)
        reached.append("sns")
    if config.apprise:
        _apprise(config.apprise, notice, context)
        reached.append("apprise")
    return reached


def _webhook(url: str, notice: Notice, context: JobContext) -> None:
    # Here, not at the top: egress imports httpx, and the API loads this module to validate.
    from timer_service.egress import BlockedTargetError, EgressError

    body = json.dumps(notice.payload(context), separators=(",", ":")).encode()
    try:
        response = context.http.request(
            "POST",
            url,
            headers=signed_headers(context, body),
            content=body,
            total_timeout_s=NOTIFY_TIMEOUT_S,
            max_bytes=64 * 1024,
            truncate=True,
        )
    except BlockedTargetError as exc:
        raise PermanentJobError(f"notify.webhookUrl: {exc.message}") from exc
    except EgressError as exc:
        raise NotifyFailed(f"notify.webhookUrl: {exc.message}") from exc
    if response.status >= 500 or response.status in (408, 429):
        raise NotifyFailed(f"notify.webhookUrl: HTTP {response.status}")
    if response.status >= 400:
        raise PermanentJobError(f"notify.webhookUrl: HTTP {response.status}")


def _sns(topic_arn: str, notice: Notice, context: JobContext) -> None:
    region = topic_arn.split(":")[3]
    message = json.dumps(notice.payload(context), separators=(",", ":"))
    if len(message.encode()) > MAX_SNS_MESSAGE_BYTES:
        shortened = Notice(notice.event, notice.url, notice.summary + " (diff too long for SNS)")
        message = json.dumps(shortened.payload(context), separators=(",", ":"))
    request: dict[str, Any] = {
        "TopicArn": topic_arn,
        "Subject": _sns_subject(notice.title),
        "Message": message,
    }
    if topic_arn.endswith(".fifo"):
        request["MessageGroupId"] = context.firing.timer_id
        request["MessageDeduplicationId"] = f"{context.firing.firing_id}:{notice.event}"[-128:]
    context.client("sns", region=region).publish(**request)


def _sns_subject(title: str) -> str:
    """SNS subjects: printable ASCII, no line breaks, at most 100 characters."""
    printable = "".join(c if 32 <= ord(c) < 127 else "?" for c in title)
    return printable[:100] or "timer-service"


def _apprise(urls: list[str], notice: Notice, context: JobContext) -> None:
    import apprise

    targets = apprise.Apprise()
    for url in urls:
        targets.add(url)
    # Apprise connects by itself, from its own threads: the delivery's connection guard
    # checks each of those connections (timer_service.connection_guard).
    if not targets.notify(body=notice.text, title=notice.title):
        raise NotifyFailed("notify.apprise: a target did not accept the notification")
