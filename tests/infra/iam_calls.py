"""What a recorded AWS call needs of its function's role: the IAM action and the resource, the
service's own named as the template names it (through the environment variable that held its
local name); the mappings' sources are in tests/infra/iam_policy.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from tests.infra.iam_template import THIS_ACCOUNT, Function, Permission, Template

__all__ = ["permissions_of"]

SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
S3_ACTIONS = {"HeadObject": "GetObject", "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket"}
IAM_PREFIX = {"stepfunctions": "states", "elbv2": "elasticloadbalancing"}  # boto3 name: prefix


# --- calls -> permissions ---------------------------------------------------------------


@dataclass(frozen=True)
class _Need:
    """An action on a resource named ``identifier`` (a local name, maybe one of the service's
    own) plus ``suffix``; ``external`` is its ARN when it is not the service's."""

    action: str
    identifier: str | None
    suffix: str
    external: str


def _needs(call: Mapping[str, Any]) -> list[_Need]:
    service, operation = call["service"], call["operation"]
    params: Mapping[str, Any] = call.get("params", {})
    region = call.get("region") or "${AWS::Region}"
    if service == "dynamodb":
        return _dynamodb_needs(operation, params, region)
    if service == "sqs":
        action = f"sqs:{SQS_BATCH.get(operation, operation)}"
        if "QueueUrl" in params:
            url = params["QueueUrl"]
            return [_Need(action, url, "", _queue_arn(url, region))]
        if "QueueName" in params:
            account = params.get("QueueOwnerAWSAccountId", THIS_ACCOUNT)
            arn = f"arn:aws:sqs:{region}:{account}:{params['QueueName']}"
            return [_Need(action, params["QueueName"], "", arn)]
        return [_Need(action, None, "", "*")]
    if service == "sns" and operation in ("Publish", "PublishBatch"):
        topic = params.get("TopicArn") or params.get("TargetArn")
        return [_Need("sns:Publish", topic, "", topic or "*")]
    if service == "lambda" and operation in ("Invoke", "InvokeAsync"):
        name = params["FunctionName"]
        return [_Need("lambda:InvokeFunction", name, "", _function_arn(name, params, region))]
    if service == "events" and operation == "PutEvents":
        buses = params.get("EventBusNames") or ["default"]
        return [_Need("events:PutEvents", bus, "", _bus_arn(bus, region)) for bus in set(buses)]
    if service == "secretsmanager" and operation == "GetSecretValue":
        secret = params["SecretId"]
        return [_Need("secretsmanager:GetSecretValue", secret, "", secret)]
    if service == "ssm" and operation == "GetParameter":
        name = params["Name"]
        path = name if name.startswith("/") else f"/{name}"
        arn = (
            name
            if name.startswith("arn:")
            else f"arn:aws:ssm:{region}:{THIS_ACCOUNT}:parameter{path}"
        )
        return [_Need("ssm:GetParameter", name, "", arn)]
    if service == "sts" and operation == "AssumeRole":
        return [_Need("sts:AssumeRole", params["RoleArn"], "", params["RoleArn"])]
    if service == "ec2" and "InstanceIds" in params and not operation.startswith("Describe"):
        return [
            _Need(f"ec2:{operation}", None, "", f"arn:aws:ec2:{region}:{THIS_ACCOUNT}:instance/{i}")
            for i in params["InstanceIds"]
        ]
    if service == "s3" and "Bucket" in params:
        action = f"s3:{S3_ACTIONS.get(operation, operation)}"
        bucket = params["Bucket"]
        key = "" if action == "s3:ListBucket" or "Key" not in params else f"/{params['Key']}"
        return [_Need(action, bucket, key, f"arn:aws:s3:::{bucket}{key}")]
    return [_Need(f"{IAM_PREFIX.get(service, service)}:{operation}", None, "", "*")]


def _dynamodb_needs(operation: str, params: Mapping[str, Any], region: str) -> list[_Need]:
    def table(name: str, action: str, suffix: str = "") -> _Need:
        arn = (
            name
            if name.startswith("arn:")
            else (f"arn:aws:dynamodb:{region}:{THIS_ACCOUNT}:table/{name}")
        )
        return _Need(f"dynamodb:{action}", name, suffix, arn + suffix)

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [table(name, operation) for name in params.get("RequestItems", [])]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            table(name, TRANSACT_ACTIONS[kind])
            for item in params.get("TransactItems", [])
            for kind, name in item.items()
        ]
    if "TableName" in params:
        suffix = f"/index/{params['IndexName']}" if params.get("IndexName") else ""
        return [table(params["TableName"], operation, suffix)]
    return [_Need(f"dynamodb:{operation}", None, "", "*")]


def _queue_arn(url: str, region: str) -> str:
    account, name = urlparse(url).path.strip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _function_arn(name: str, params: Mapping[str, Any], region: str) -> str:
    qualifier = f":{params['Qualifier']}" if params.get("Qualifier") else ""
    if name.startswith("arn:"):
        return name + qualifier
    if ":function:" in name:  # 123456789012:function:name
        return f"arn:aws:lambda:{region}:{name}{qualifier}"
    return f"arn:aws:lambda:{region}:{THIS_ACCOUNT}:function:{name}{qualifier}"


def _bus_arn(bus: str, region: str) -> str:
    return (
        bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{THIS_ACCOUNT}:event-bus/{bus}"
    )


def permissions_of(
    call: Mapping[str, Any], function: Function, template: Template
) -> list[Permission]:
    """What ``call`` needs of ``function``'s role: the service's own resources as the template
    names them, through the environment variable that held their local name."""
    environment: Mapping[str, str] = call.get("env", {})
    needed = []
    for need in _needs(call):
        own = sorted(
            {
                arn + need.suffix
                for name, value in environment.items()
                if value == need.identifier and name in function.environment
                if (arn := template.arn_named_by(function.environment[name])) is not None
            }
        )
        if own:
            needed += [Permission(need.action, arn, own=True) for arn in own]
        else:
            needed.append(Permission(need.action, need.external, own=False))
    return needed
