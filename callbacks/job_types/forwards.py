"""Forwards of a firing to AWS services: ``sns`` (Publish), ``lambda`` (asynchronous
Invoke) and ``eventbridge`` (PutEvents).

Each carries ``timerCallbackData`` with the firing id and scheduled time: SNS as the message
body with message attributes (like ``sqs``), Lambda and EventBridge in an envelope
``{"timerId", "firingId", "scheduledAt", "attempt", "timerCallbackData"}``. A target in
another region is called in its region (taken from its ARN).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from callbacks.job_types.aws_calls import aws_call
from timer_service.clock import format_utc
from timer_service.job_types import JobContext, JobResult, JobType, PermanentJobError
from timer_service.settings import Settings

__all__ = [
    "EventBridgeJob",
    "LambdaJob",
    "SnsJob",
    "envelope",
    "eventbridge_job_type",
    "lambda_job_type",
    "sns_job_type",
]

_ARN_REGION = 3  # arn:partition:service:REGION:account:resource


class _Job(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def envelope(context: JobContext) -> dict[str, Any]:
    """The firing as Lambda and EventBridge targets receive it."""
    firing = context.firing
    return {
        "timerId": firing.timer_id,
        "firingId": firing.firing_id,
        "scheduledAt": format_utc(firing.scheduled_s),
        "attempt": context.attempt,
        "timerCallbackData": context.timer.callback_data,
    }


def _region_of(name_or_arn: str) -> str | None:
    parts = name_or_arn.split(":")
    return parts[_ARN_REGION] if name_or_arn.startswith("arn:") and len(parts) > 4 else None


def _attributes(context: JobContext) -> dict[str, dict[str, str]]:
    firing = context.firing
    return {
        "timerId": {"DataType": "String", "StringValue": firing.timer_id},
        "firingId": {"DataType": "String", "StringValue": firing.firing_id},
        "scheduledAt": {"DataType": "String", "StringValue": format_utc(firing.scheduled_s)},
    }


# --- sns --------------------------------------------------------------------------------


class SnsJob(_Job):
    """The topic; ``subject`` for e-mail subscribers; FIFO topics group by timer id."""

    topic_arn: Annotated[
        str, Field(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
    ]
    subject: Annotated[str | None, Field(min_length=1, max_length=100, pattern=r"^[ -~]+$")] = None
    message_group_id: Annotated[str | None, Field(min_length=1, max_length=128)] = None


def publish(config: SnsJob, context: JobContext) -> JobResult:
    request: dict[str, Any] = {
        "TopicArn": config.topic_arn,
        "Message": json.dumps(context.timer.callback_data, separators=(",", ":")),
        "MessageAttributes": _attributes(context),
    }
    if config.subject:
        request["Subject"] = config.subject
    if config.topic_arn.endswith(".fifo"):
        request["MessageGroupId"] = config.message_group_id or context.firing.timer_id
        request["MessageDeduplicationId"] = hashlib.sha256(
            context.firing.firing_id.encode()
        ).hexdigest()
    sns = context.client("sns", region=_region_of(config.topic_arn))
    with aws_call(f"sns Publish {config.topic_arn}"):
        message_id = sns.publish(**request)["MessageId"]
    return JobResult(summary=f"published {message_id}", details={"messageId": message_id})


sns_job_type = JobType(
    name="sns",
    config_model=SnsJob,
    handler=publish,
    summary="publish timerCallbackData to an SNS topic (attributes timerId, firingId, scheduledAt)",
)


# --- lambda -------------------------------------------------------------------------------


class LambdaJob(_Job):
    """A function name, ARN or partial ARN, and optionally a version or alias."""

    function_name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=170,
            pattern=r"^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?"
            r"[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$",
        ),
    ]
    qualifier: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_$-]{1,128}$")] = None

    @field_validator("function_name")
    @classmethod
    def _not_the_services_own(cls, name: str, info: ValidationInfo) -> str:
        settings = (info.context or {}).get("settings")
        if isinstance(settings, Settings):
            refuse_own_function(name, settings)
        return name


def refuse_own_function(name_or_arn: str, settings: Settings) -> None:
    """ValueError when the name or ARN is one of the service's own functions: a tenant must not
    hand the API a forged request or the callbacks a forged batch."""
    parts = name_or_arn.split(":")
    name = parts[6] if name_or_arn.startswith("arn:") else parts[0]
    own = {*settings.service_functions, os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")}
    if name in own - {""}:
        raise ValueError("the service's own functions cannot be a job's target")


def invoke(config: LambdaJob, context: JobContext) -> JobResult:
    try:
        refuse_own_function(config.function_name, context.settings)
    except ValueError as exc:
        raise PermanentJobError(f"job.functionName: {exc}") from exc
    request: dict[str, Any] = {
        "FunctionName": config.function_name,
        "InvocationType": "Event",
        "Payload": json.dumps(envelope(context), separators=(",", ":")).encode(),
    }
    if config.qualifier:
        request["Qualifier"] = config.qualifier
    client = context.client("lambda", region=_region_of(config.function_name))
    with aws_call(f"lambda Invoke {config.function_name}"):
        status = client.invoke(**request)["StatusCode"]
    return JobResult(summary=f"invoked asynchronously (HTTP {status})", details={"status": status})


lambda_job_type = JobType(
    name="lambda",
    config_model=LambdaJob,
    handler=invoke,
    summary="invoke a Lambda function asynchronously with the firing as its event",
)


# --- eventbridge ----------------------------------------------------------------------------


class EventBridgeJob(_Job):
    """The bus (name or ARN), and the event's source and detail-type."""

    event_bus_name: Annotated[str, Field(min_length=1, max_length=1600)] = "default"
    source: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,256}$")] = "timer-service"
    detail_type: Annotated[str, Field(min_length=1, max_length=128)] = "Timer Fired"


def put_event(config: EventBridgeJob, context: JobContext) -> JobResult:
    entry = {
        "EventBusName": config.event_bus_name,
        "Source": config.source,
        "DetailType": config.detail_type,
        "Detail": json.dumps(envelope(context), separators=(",", ":")),
    }
    events = context.client("events", region=_region_of(config.event_bus_name))
    with aws_call(f"events PutEvents {config.event_bus_name}"):
        response = events.put_events(Entries=[entry])
    if response.get("FailedEntryCount"):
        failed = response["Entries"][0]
        raise RuntimeError(f"PutEvents: {failed.get('ErrorCode')}: {failed.get('ErrorMessage')}")
    event_id = response["Entries"][0]["EventId"]
    return JobResult(summary=f"event {event_id}", details={"eventId": event_id})


eventbridge_job_type = JobType(
    name="eventbridge",
    config_model=EventBridgeJob,
    handler=put_event,
    summary="put the firing as an event on an EventBridge bus",
)
