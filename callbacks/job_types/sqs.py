"""``sqs``: send ``timerCallbackData`` to a queue (the job's, or the service's output queue)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from timer_service.clock import format_utc
from timer_service.job_types import JobContext, JobType, PermanentJobError


class SqsJob(BaseModel):
    """Where to send: ``queueUrl`` (default: the service's output queue)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    queue_url: Annotated[str | None, Field(pattern=r"^https?://\S+/\S+$")] = None
    message_group_id: Annotated[str | None, Field(min_length=1, max_length=128)] = None


def send(config: SqsJob, context: JobContext) -> None:
    """The message body is ``timerCallbackData`` as JSON; attributes name the firing."""
    url = config.queue_url or context.settings.output_queue_url
    if url is None:
        raise PermanentJobError("no queueUrl and no output queue configured")
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
