"""The service's configuration: one validated model, built once at the edge from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Settings"]


class Settings(BaseModel):
    """Names of the AWS resources and the limits the handlers apply.

    Environment: ``TIMER_TABLE``, ``DISPATCH_QUEUE_URL``, ``DLQ_URL``, ``OUTPUT_QUEUE_URL``,
    ``AWS_REGION``, ``AWS_ENDPOINT_URL`` (empty for real AWS), ``MAX_BODY_BYTES``.
    """

    model_config = ConfigDict(frozen=True)

    table_name: str = "timer-service"
    dispatch_queue_url: str | None = None
    dlq_url: str | None = None
    output_queue_url: str | None = None
    region: str = "us-east-1"
    endpoint_url: str | None = None
    max_body_bytes: Annotated[int, Field(gt=0)] = 256 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {
            "table_name": env.get("TIMER_TABLE"),
            "dispatch_queue_url": env.get("DISPATCH_QUEUE_URL"),
            "dlq_url": env.get("DLQ_URL"),
            "output_queue_url": env.get("OUTPUT_QUEUE_URL"),
            "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
            "endpoint_url": env.get("AWS_ENDPOINT_URL"),
            "max_body_bytes": env.get("MAX_BODY_BYTES"),
        }
        return cls.model_validate({k: v for k, v in values.items() if v})
