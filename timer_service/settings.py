"""The service's configuration: one validated model, built once at the edge from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Settings"]


class Settings(BaseModel):
    """Names of the AWS resources and the limits the handlers apply.

    Environment: ``TIMER_TABLE``, ``DISPATCH_QUEUE_URL``, ``DLQ_URL``, ``OUTPUT_QUEUE_URL``,
    ``AWS_REGION``, ``AWS_ENDPOINT_URL`` (empty for real AWS), ``MAX_BODY_BYTES``,
    ``IDEMPOTENCY_TABLE``, ``ALLOW_PRIVATE_TARGETS``, ``WEBHOOK_SIGNING_SECRET``,
    ``MAX_ATTEMPTS``, ``RETRY_BASE_SECONDS``, ``LOOKAHEAD_MINUTES``, ``CATCH_UP_WINDOW_SECONDS``,
    ``RUN_HISTORY_DAYS``, ``SNAPSHOT_BUCKET``, ``MAX_TIMERS_PER_OWNER``, ``API_AUTH``,
    ``MESSAGE_SIGNING_KEY`` or ``MESSAGE_SIGNING_KEY_ARN``, ``WEBHOOK_SIGNING_SECRET_ARN``,
    ``DEAD_LETTER_DAYS``, ``SERVICE_FUNCTIONS``. A ``..._ARN`` names a Secrets Manager secret or
    an SSM parameter (SecureString) that holds the value (:mod:`timer_service.secrets`).
    """

    model_config = ConfigDict(frozen=True)

    table_name: str = "timer-service"
    dispatch_queue_url: str | None = None
    dlq_url: str | None = None
    output_queue_url: str | None = None
    region: str = "us-east-1"
    endpoint_url: str | None = None
    max_body_bytes: Annotated[int, Field(gt=0)] = 256 * 1024
    idempotency_table: str | None = None
    allow_private_targets: bool = False
    webhook_signing_secret: str | None = None
    max_attempts: Annotated[int, Field(ge=1, le=1000)] = 5  # deliveries before the DLQ
    retry_base_s: Annotated[int, Field(ge=1, le=900)] = 10  # backoff: base * 2^(attempt-1)
    lookahead_minutes: Annotated[int, Field(ge=1, le=10)] = 1
    catch_up_window_s: Annotated[int, Field(ge=0)] = 3600
    run_history_days: Annotated[int, Field(ge=1, le=3650)] = 30  # runs expire by TTL
    snapshot_bucket: str | None = None  # S3, for html_monitor snapshots too large for DynamoDB
    max_timers_per_owner: Annotated[int, Field(ge=1)] = 10_000
    # Signs every dispatch-queue message: the callbacks run only what the service sent.
    message_signing_key: str | None = None
    message_signing_key_arn: str | None = None
    webhook_signing_secret_arn: str | None = None
    dead_letter_days: Annotated[int, Field(ge=1, le=3650)] = 14
    # The service's own Lambda functions, which the `lambda` job type must not invoke.
    service_functions: tuple[str, ...] = ()
    # How callers authenticate in front of the API (the construct's apiAuth, or NONE for a
    # keyless local stack): what the OpenAPI document declares. None: read from each request.
    api_auth: Literal["IAM", "API_KEY", "NONE"] | None = None

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
            "idempotency_table": env.get("IDEMPOTENCY_TABLE"),
            "allow_private_targets": env.get("ALLOW_PRIVATE_TARGETS"),
            "webhook_signing_secret": env.get("WEBHOOK_SIGNING_SECRET"),
            "max_attempts": env.get("MAX_ATTEMPTS"),
            "retry_base_s": env.get("RETRY_BASE_SECONDS"),
            "lookahead_minutes": env.get("LOOKAHEAD_MINUTES"),
            "catch_up_window_s": env.get("CATCH_UP_WINDOW_SECONDS"),
            "run_history_days": env.get("RUN_HISTORY_DAYS"),
            "snapshot_bucket": env.get("SNAPSHOT_BUCKET"),
            "max_timers_per_owner": env.get("MAX_TIMERS_PER_OWNER"),
            "message_signing_key": env.get("MESSAGE_SIGNING_KEY"),
            "message_signing_key_arn": env.get("MESSAGE_SIGNING_KEY_ARN"),
            "webhook_signing_secret_arn": env.get("WEBHOOK_SIGNING_SECRET_ARN"),
            "dead_letter_days": env.get("DEAD_LETTER_DAYS"),
            "service_functions": tuple(
                name for name in env.get("SERVICE_FUNCTIONS", "").split(",") if name
            )
            or None,
            "api_auth": env.get("API_AUTH"),
        }
        return cls.model_validate({k: v for k, v in values.items() if v})
