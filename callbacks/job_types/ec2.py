"""``ec2_instances``: start or stop the EC2 instances that match filters, in any account.

Filters are those of EC2 DescribeInstances (``instance-id``, ``tag:KEY``, ``tag-key``,
``vpc-id``, ``instance-state-name``, ...), as a list of ``{"Name", "Values"}`` or a mapping
``{"tag:env": ["dev"]}``. With ``roleArn`` the job assumes that role (STS) first: the
cross-account way. Only instances in a state the action changes are touched (``stop``:
pending or running; ``start``: stopped); the run records which ones changed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from callbacks.job_types.aws_calls import aws_call, error_code
from timer_service.job_types import JobContext, JobResult, JobType

__all__ = ["Ec2Filter", "Ec2InstancesJob", "job_type", "run"]

CHANGES_PER_CALL = 50
LISTED_IN_SUMMARY = 10
CHANGEABLE_STATES = {"start": ("stopped",), "stop": ("pending", "running")}
_SESSION_NAME_UNSAFE = re.compile(r"[^\w+=,.@-]")


class Ec2Filter(BaseModel):
    """One DescribeInstances filter."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: Annotated[
        str, Field(alias="Name", pattern=r"^(tag:[^\x00-\x1f]{1,128}|[a-z][a-z0-9.:-]{0,63})$")
    ]
    values: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=256)]],
        Field(alias="Values", min_length=1, max_length=200),
    ]


class Ec2InstancesJob(BaseModel):
    """Which instances, what to do with them, and where."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    action: Literal["start", "stop"]
    filters: Annotated[list[Ec2Filter], Field(min_length=1, max_length=25)]
    region: Annotated[str | None, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")] = None
    role_arn: Annotated[
        str | None, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$")
    ] = None
    external_id: Annotated[str | None, Field(min_length=2, max_length=1224)] = None
    dry_run: bool = False

    @model_validator(mode="before")
    @classmethod
    def _filters_from_mapping(cls, data: Any) -> Any:
        """``{"tag:env": ["dev"], "instance-id": "i-1"}`` means the list form."""
        if isinstance(data, dict) and isinstance(data.get("filters"), dict):
            data = dict(data)
            data["filters"] = [
                {"Name": name, "Values": values if isinstance(values, list) else [values]}
                for name, values in data["filters"].items()
            ]
        return data


def run(config: Ec2InstancesJob, context: JobContext) -> JobResult:
    """Start or stop the matching instances (the job type's handler)."""
    credentials = _assume_role(config, context) if config.role_arn else None
    ec2 = context.client("ec2", region=config.region, credentials=credentials)
    filters = [f.model_dump(by_alias=True) for f in config.filters]
    matched: dict[str, str] = {}
    with aws_call("ec2 DescribeInstances"):
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    matched[instance["InstanceId"]] = instance["State"]["Name"]
    changeable = [i for i, state in matched.items() if state in CHANGEABLE_STATES[config.action]]
    details: dict[str, Any] = {
        "action": config.action,
        "region": config.region or context.settings.region,
        "matched": matched,
        "changed": [],
        "dryRun": config.dry_run,
    }
    verb = "started" if config.action == "start" else "stopped"
    if not changeable:
        summary = f"nothing to {config.action}: {len(matched)} instances matched, none " + (
            "stopped" if config.action == "start" else "running"
        )
        return JobResult(outcome="unchanged", summary=summary, details=details)
    call = ec2.start_instances if config.action == "start" else ec2.stop_instances
    for start in range(0, len(changeable), CHANGES_PER_CALL):
        chunk = changeable[start : start + CHANGES_PER_CALL]
        with aws_call(f"ec2 {config.action.capitalize()}Instances"):
            try:
                call(InstanceIds=chunk, DryRun=config.dry_run)
            except ClientError as exc:
                # A dry run that would have succeeded answers with the error DryRunOperation.
                if not (config.dry_run and error_code(exc) == "DryRunOperation"):
                    raise
    listed = ", ".join(changeable[:LISTED_IN_SUMMARY])
    if len(changeable) > LISTED_IN_SUMMARY:
        listed += f" and {len(changeable) - LISTED_IN_SUMMARY} more"
    if config.dry_run:
        details["wouldChange"] = changeable
        return JobResult(
            outcome="ok", summary=f"dry run: would have {verb} {listed}", details=details
        )
    details["changed"] = changeable
    return JobResult(outcome="changed", summary=f"{verb} {listed}", details=details)


def _assume_role(config: Ec2InstancesJob, context: JobContext) -> dict[str, str]:
    session_name = _SESSION_NAME_UNSAFE.sub("-", f"timer-{context.timer.id}")[:64]
    request: dict[str, Any] = {
        "RoleArn": config.role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": 900,
    }
    if config.external_id:
        request["ExternalId"] = config.external_id
    with aws_call(f"sts AssumeRole {config.role_arn}"):
        credentials: dict[str, str] = context.client("sts").assume_role(**request)["Credentials"]
    return credentials


job_type = JobType(
    name="ec2_instances",
    config_model=Ec2InstancesJob,
    handler=run,
    summary="start or stop the EC2 instances matching filters, optionally in another account",
)
