"""``notify``: send a notice to a webhook, an SNS topic or Apprise URLs (Slack, e-mail, ...).

As a job of its own it is a reminder: each firing sends ``message``. Delivery also runs it for
every timer's ``alerts`` (:mod:`timer_service.alerts`): a failing streak, its recovery, a pause
after failures. Each target is reached through the SSRF guard, as any job's connections are.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from callbacks.html_monitor.notify import Notice, NotifyFailed, send
from timer_service.alerts import NOTIFY_JOB_TYPE, NotifyConfig
from timer_service.job_types import JobContext, JobResult, JobType

__all__ = ["NotifyJob", "job_type"]


class NotifyJob(NotifyConfig):
    """The ``job`` of a ``notify`` timer: the targets (at least one) and the message."""

    message: Annotated[str, Field(max_length=4000, description="the notice's text")] = ""
    event: Literal["fired", "failing", "recovered", "paused"] = "fired"


def run(config: NotifyJob, context: JobContext) -> JobResult:
    if not (config.webhook_url or config.sns_topic_arn or config.apprise):
        from timer_service.job_types import PermanentJobError

        raise PermanentJobError("notify: give webhookUrl, snsTopicArn or apprise")
    summary = config.message or f"timer {context.timer.id} fired"
    try:
        reached = send(config, Notice(config.event, context.timer.id, summary), context)
    except NotifyFailed as exc:
        raise RuntimeError(str(exc)) from exc  # retried, as any job's failure
    return JobResult(outcome="ok", summary=f"notified {', '.join(reached)}")


job_type = JobType(
    name=NOTIFY_JOB_TYPE,
    config_model=NotifyJob,
    handler=run,
    summary="send a notice (webhook, SNS, Apprise: Slack, e-mail ...); also sends every"
    " timer's failure alerts",
)
