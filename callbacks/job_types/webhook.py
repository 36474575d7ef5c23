"""``webhook``: POST the firing as JSON to ``job.url``."""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from timer_service.job_types import JobType


class WebhookJob(BaseModel):
    """Target and timeouts of a webhook."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    url: AnyHttpUrl
    headers: dict[str, str] = Field(default_factory=dict, max_length=32)
    connect_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 3.0
    read_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    total_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 15.0


job_type = JobType(
    name="webhook",
    config_model=WebhookJob,
    summary="POST {timerId, scheduledAt, firedAt, attempt, timerCallbackData} to a URL",
)
