"""The service's configuration: one validated model, built once at the edge from the environment.

Each field names its environment variable once (:class:`Env`): :meth:`Settings.from_env` reads
them, :meth:`Settings.to_env` writes them (the CDK construct's function environments, the local
stack's, the tests'), so no other module spells a variable's name. The limits the handlers apply
by default are in :mod:`timer_service.limits`.

    >>> Settings(table_name="timers", max_attempts=3).to_env()
    {'TIMER_TABLE': 'timers', 'MAX_ATTEMPTS': '3'}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from timer_service.limits import MAX_BODY_BYTES, MAX_FIRINGS_PER_MINUTE, MAX_TIMERS_PER_OWNER

__all__ = ["DEFAULT_REGION", "Env", "Settings"]

DEFAULT_REGION = "us-east-1"  # when the environment names none


@dataclass(frozen=True)
class Env:
    """The environment variable a setting is read from (else from ``fallback``, in order) and
    written to; an empty value counts as unset."""

    name: str
    fallback: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.fallback)


class Settings(BaseModel):
    """Names of the AWS resources and the limits the handlers apply.

    A ``..._ARN`` names a Secrets Manager secret or an SSM parameter (SecureString) that holds
    the value (:mod:`timer_service.secrets`).
    """

    model_config = ConfigDict(frozen=True)

    table_name: Annotated[str, Env("TIMER_TABLE")] = "timer-service"
    dispatch_queue_url: Annotated[str | None, Env("DISPATCH_QUEUE_URL")] = None
    dlq_url: Annotated[str | None, Env("DLQ_URL")] = None
    output_queue_url: Annotated[str | None, Env("OUTPUT_QUEUE_URL")] = None
    region: Annotated[str, Env("AWS_REGION", ("AWS_DEFAULT_REGION",))] = DEFAULT_REGION
    endpoint_url: Annotated[str | None, Env("AWS_ENDPOINT_URL")] = None  # None: real AWS
    max_body_bytes: Annotated[int, Field(gt=0), Env("MAX_BODY_BYTES")] = MAX_BODY_BYTES
    idempotency_table: Annotated[str | None, Env("IDEMPOTENCY_TABLE")] = None
    allow_private_targets: Annotated[bool, Env("ALLOW_PRIVATE_TARGETS")] = False
    # send packs' members deflated: every function reads them from release e2d0e94 on; turn it
    # on once no function of a release before that runs (those drop such a message unread)
    pack_deflate: Annotated[bool, Env("PACK_DEFLATE")] = False
    webhook_signing_secret: Annotated[str | None, Env("WEBHOOK_SIGNING_SECRET")] = None
    # deliveries before the DLQ
    max_attempts: Annotated[int, Field(ge=1, le=1000), Env("MAX_ATTEMPTS")] = 5
    # backoff: base * 2^(attempt-1)
    retry_base_s: Annotated[int, Field(ge=1, le=900), Env("RETRY_BASE_SECONDS")] = 10
    lookahead_minutes: Annotated[int, Field(ge=1, le=10), Env("LOOKAHEAD_MINUTES")] = 1
    catch_up_window_s: Annotated[int, Field(ge=0), Env("CATCH_UP_WINDOW_SECONDS")] = 3600
    # runs expire by TTL
    run_history_days: Annotated[int, Field(ge=1, le=3650), Env("RUN_HISTORY_DAYS")] = 30
    # S3, for html_monitor snapshots too large for DynamoDB
    snapshot_bucket: Annotated[str | None, Env("SNAPSHOT_BUCKET")] = None
    max_timers_per_owner: Annotated[int, Field(ge=1), Env("MAX_TIMERS_PER_OWNER")] = (
        MAX_TIMERS_PER_OWNER
    )
    max_firings_per_minute: Annotated[int, Field(ge=1), Env("MAX_FIRINGS_PER_MINUTE")] = (
        MAX_FIRINGS_PER_MINUTE
    )
    # Signs every dispatch-queue message: the callbacks run only what the service sent.
    message_signing_key: Annotated[str | None, Env("MESSAGE_SIGNING_KEY")] = None
    message_signing_key_arn: Annotated[str | None, Env("MESSAGE_SIGNING_KEY_ARN")] = None
    webhook_signing_secret_arn: Annotated[str | None, Env("WEBHOOK_SIGNING_SECRET_ARN")] = None
    dead_letter_days: Annotated[int, Field(ge=1, le=3650), Env("DEAD_LETTER_DAYS")] = 14
    # The service's own Lambda functions, which the `lambda` job type must not invoke
    # (comma-separated in the environment).
    service_functions: Annotated[tuple[str, ...], Env("SERVICE_FUNCTIONS")] = ()
    # How callers authenticate in front of the API (the construct's apiAuth, or NONE for a
    # keyless local stack): what the OpenAPI document declares. None: read from each request.
    api_auth: Annotated[Literal["IAM", "API_KEY", "NONE"] | None, Env("API_AUTH")] = None
    # The paths the front lets through without credentials or rate limit (the local stack's
    # health and docs; none on a deployed stack): the OpenAPI document asks nothing of them.
    open_paths: Annotated[tuple[str, ...], Env("OPEN_PATHS")] = ()
    # The function that renders html_monitor's ``fetcher: "browser"`` pages (the construct's
    # browser_fetcher); None: the callback renders them itself, with a local Chromium.
    browser_function: Annotated[str | None, Env("BROWSER_FUNCTION")] = None

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable of ``field``, e.g. ``TIMER_TABLE`` for ``table_name``."""
        return _env(field).name

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in cls.model_fields:
            raw = _read(env, _env(field))
            if raw is None:
                continue
            if field in ("service_functions", "open_paths"):
                names = tuple(name for name in raw.split(",") if name)
                if names:
                    values[field] = names
            else:
                values[field] = raw
        return cls.model_validate(values)

    @classmethod
    def region_from_env(cls, environ: Mapping[str, str] | None = None) -> str | None:
        """The region the environment names (``AWS_REGION``, else ``AWS_DEFAULT_REGION``), if
        any: for callers whose fallback is not :data:`DEFAULT_REGION` (an AWS profile's)."""
        return _read(os.environ if environ is None else environ, _env("region"))

    def to_env(self, *, every: bool = False) -> dict[str, str]:
        """The environment variables that give these settings (name -> value): of the fields
        given when the model was made, or ``every`` field that has a value. A value may be a
        CDK token (a string standing for a resource's name, resolved at deployment)."""
        every_field = type(self).model_fields
        fields = every_field if every else self.model_fields_set
        environment: dict[str, str] = {}
        for field in every_field:  # in the model's order, whatever ``fields`` is
            value = getattr(self, field)
            if field in fields and value is not None:
                environment[_env(field).name] = _text(value)
        return environment


def _env(field: str) -> Env:
    (env,) = [m for m in Settings.model_fields[field].metadata if isinstance(m, Env)]
    return env


def _read(environ: Mapping[str, str], env: Env) -> str | None:
    return next((environ[name] for name in env.names if environ.get(name)), None)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)
