"""``sqs``: send ``timerCallbackData`` to a queue (the job's, or the service's output queue).

The service's own queues (dispatch and dead-letter) are refused, however their URL is spelled
(any host or account, ``%``-escapes, extra slashes, dot segments) or given as an ARN: a tenant
must not put messages there (the callbacks would refuse them anyway: they are not signed, see
:mod:`timer_service.messages`).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from timer_service.clock import format_utc
from timer_service.job_types import JobContext, JobType, PermanentJobError
from timer_service.settings import Settings


class SqsJob(BaseModel):
    """Where to send: ``queueUrl`` (default: the service's output queue)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    queue_url: Annotated[str | None, Field(pattern=r"^https?://\S+/\S+$")] = None
    message_group_id: Annotated[str | None, Field(min_length=1, max_length=128)] = None

    @field_validator("queue_url")
    @classmethod
    def _not_the_services_own(cls, url: str | None, info: ValidationInfo) -> str | None:
        settings = (info.context or {}).get("settings")
        if isinstance(settings, Settings) and url is not None:
            refuse_own_queue(url, settings)
        return url


def queue_name(url_or_arn: str) -> str | None:
    """The queue name a queue URL (any host, dot segments resolved) or ARN names; None when it
    names no queue."""
    if url_or_arn.startswith("arn:"):
        parts = url_or_arn.split(":")
        return parts[5] if len(parts) == 6 and parts[2] == "sqs" else None
    path = posixpath.normpath("/" + unquote(urlsplit(url_or_arn).path))
    segments = [part for part in path.split("/") if part]
    return segments[-1] if len(segments) >= 2 else None


def refuse_own_queue(url: str, settings: Settings) -> None:
    """ValueError when ``url`` names the service's dispatch or dead-letter queue. Names alone
    are compared, whatever account a URL gives: the service's are its own (a deployed stack's
    carry a random suffix), and an emulator takes any account."""
    own = {
        queue_name(service_url)
        for service_url in (settings.dispatch_queue_url, settings.dlq_url)
        if service_url
    }
    if queue_name(url) in own - {None}:
        raise ValueError("the service's own queues cannot be a job's target")


def send(config: SqsJob, context: JobContext) -> None:
    """The message body is ``timerCallbackData`` as JSON; attributes name the firing."""
    url = config.queue_url or context.settings.output_queue_url
    if url is None:
        raise PermanentJobError("no queueUrl and no output queue configured")
    try:
        refuse_own_queue(url, context.settings)
    except ValueError as exc:
        raise PermanentJobError(f"job.queueUrl: {exc}") from exc
    firing = context.firing
    request: dict[str, Any] = {
        "QueueUrl": url,
        "MessageBody": json.dumps(context.timer.callback_data, separators=(",", ":")),
        "MessageAttributes": {
            "timerId": {"DataType": "String", "StringValue": firing.timer_id},
            "firingId": {"DataType": "String", "StringValue": firing.firing_id},
            "scheduledAt": {"DataType": "String", "StringValue": format_utc(firing.scheduled_s)},
        },
    }
    if url.endswith(".fifo"):
        request["MessageGroupId"] = config.message_group_id or firing.timer_id
        request["MessageDeduplicationId"] = hashlib.sha256(firing.firing_id.encode()).hexdigest()
    context.client("sqs").send_message(**request)


job_type = JobType(
    name="sqs",
    config_model=SqsJob,
    handler=send,
    summary="send timerCallbackData as the message body to an SQS queue",
)
