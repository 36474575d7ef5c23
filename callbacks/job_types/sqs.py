"""``sqs``: send ``timerCallbackData`` to a queue (the job's, or the service's output queue)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from timer_service.job_types import JobType


class SqsJob(BaseModel):
    """Where to send: ``queueUrl`` (default: the service's output queue)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    queue_url: Annotated[str | None, Field(pattern=r"^https?://\S+/\S+$")] = None
    message_group_id: Annotated[str | None, Field(min_length=1, max_length=128)] = None


job_type = JobType(
    name="sqs",
    config_model=SqsJob,
    summary="send timerCallbackData as the message body to an SQS queue",
)
