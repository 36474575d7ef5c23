"""What the job types may reach beyond the service's own resources: the callback role's grants.

The service's own resources are granted by the construct. The built-in job types that call
other AWS services need permissions only you can name (your topics, functions, buses, queues,
instances and roles); :class:`JobTypeGrants` turns that list into least-privilege statements.
On the ``make deploy`` path it comes from the CDK context value ``jobTypeGrants``: a JSON
object, or the path of a JSON file holding one, with the keys of :meth:`JobTypeGrants.from_json`.

- ``sqs`` to your queues: ``sqs:SendMessage`` on ``sqsQueues`` (queue ARNs);
- ``sns``, and ``html_monitor``'s ``notify.snsTopicArn``: ``sns:Publish`` on ``snsTopics``;
- ``lambda``: ``lambda:InvokeFunction`` on ``lambdaFunctions``;
- ``eventbridge``: ``events:PutEvents`` on ``eventBuses``;
- ``ec2_instances`` in this account: ``ec2:DescribeInstances`` (it takes no resource) and
  ``ec2:StartInstances``/``ec2:StopInstances`` on ``ec2Instances`` (instance ARNs, wildcards
  allowed), only for instances tagged ``ec2Tag`` (``{"key": ..., "value": ...}``) when given;
- ``ec2_instances`` with ``roleArn``: ``sts:AssumeRole`` on ``assumeRoles``;
- any of them to a KMS-encrypted target: ``kms:GenerateDataKey``, ``kms:Decrypt`` on ``kmsKeys``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from aws_cdk import aws_iam as iam

__all__ = ["JobTypeGrants"]

_KEYS = {
    "sqsQueues": "sqs_queues",
    "snsTopics": "sns_topics",
    "lambdaFunctions": "lambda_functions",
    "eventBuses": "event_buses",
    "ec2Instances": "ec2_instances",
    "ec2Tag": "ec2_tag",
    "assumeRoles": "assume_roles",
    "kmsKeys": "kms_keys",
}


@dataclass(frozen=True)
class JobTypeGrants:
    """ARNs the job types may call, by what they do (the table in this module's docstring)."""

    sqs_queues: Sequence[str] = ()
    sns_topics: Sequence[str] = ()
    lambda_functions: Sequence[str] = ()
    event_buses: Sequence[str] = ()
    ec2_instances: Sequence[str] = ()
    ec2_tag: Mapping[str, str] | None = None
    assume_roles: Sequence[str] = ()
    kms_keys: Sequence[str] = field(default=())

    @classmethod
    def from_json(cls, value: str | Mapping[str, Any] | None) -> JobTypeGrants:
        """From the ``jobTypeGrants`` context value: an object, its JSON, or a file of it."""
        if value is None or value == "":
            return cls()
        if isinstance(value, str):
            text = value.strip()
            if not text.startswith("{"):
                text = Path(text).read_text()
            value = json.loads(text)
        if not isinstance(value, Mapping):
            raise ValueError("jobTypeGrants must be a JSON object")
        unknown = sorted(set(value) - set(_KEYS))
        if unknown:
            raise ValueError(f"jobTypeGrants: unknown keys {unknown}; known: {sorted(_KEYS)}")
        kwargs: dict[str, Any] = {}
        for key, name in _KEYS.items():
            if key not in value:
                continue
            given = value[key]
            if name == "ec2_tag":
                if not isinstance(given, Mapping) or set(given) != {"key", "value"}:
                    raise ValueError('jobTypeGrants.ec2Tag: {"key": ..., "value": ...}')
                kwargs[name] = {"key": str(given["key"]), "value": str(given["value"])}
                continue
            if not isinstance(given, list) or not all(
                isinstance(arn, str) and arn.startswith("arn:") for arn in given
            ):
                raise ValueError(f"jobTypeGrants.{key}: a list of ARNs")
            kwargs[name] = tuple(given)
        return cls(**kwargs)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def statements(self) -> list[iam.PolicyStatement]:
        """The callback role's statements for these grants."""
        found: list[iam.PolicyStatement] = []

        def allow(sid: str, actions: list[str], resources: Sequence[str], **extra: Any) -> None:
            if resources:
                found.append(
                    iam.PolicyStatement(
                        sid=sid, actions=actions, resources=list(resources), **extra
                    )
                )

        allow("JobSqs", ["sqs:SendMessage"], self.sqs_queues)
        allow("JobSns", ["sns:Publish"], self.sns_topics)
        allow("JobLambda", ["lambda:InvokeFunction"], self.lambda_functions)
        allow("JobEventBridge", ["events:PutEvents"], self.event_buses)
        allow("JobAssumeRole", ["sts:AssumeRole"], self.assume_roles)
        allow("JobKms", ["kms:GenerateDataKey", "kms:Decrypt"], self.kms_keys)
        if self.ec2_instances:
            allow("JobEc2Describe", ["ec2:DescribeInstances"], ["*"])  # takes no resource
            conditions = None
            if self.ec2_tag is not None:
                tag = f"aws:ResourceTag/{self.ec2_tag['key']}"
                conditions = {"StringEquals": {tag: self.ec2_tag["value"]}}
            allow(
                "JobEc2StartStop",
                ["ec2:StartInstances", "ec2:StopInstances"],
                self.ec2_instances,
                conditions=conditions,
            )
        return found
