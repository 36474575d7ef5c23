"""Least privilege: each function's data actions, on exactly its resources, and the job types'.

Each tuple is what that function's code calls, nothing more: the tests record every AWS call of
every handler and check it against these grants in the synthesized template
(``tests/aws_call_check.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from timer_service.keys import OWNER_INDEX, SNAPSHOT_PREFIX
from timer_service_cdk.grants import JobTypeGrants
from timer_service_cdk.nag import acknowledge


class Granted(Protocol):
    """What the grants name: the service's resources and its functions (a TimerService)."""

    table: Any
    idempotency_table: Any
    dispatch_queue: Any
    output_queue: Any
    snapshot_bucket: Any
    signing_key: Any
    api_function: lambda_.Function
    ticker_function: lambda_.Function
    callback_function: lambda_.Function
    dead_letter_function: lambda_.Function

    @property
    def functions(self) -> tuple[lambda_.Function, ...]: ...


__all__ = ["allow", "grant"]

API_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",  # a redrive deletes the dead letters it sent back
    "dynamodb:ConditionCheckItem",  # a feed is made only while its timer exists
)
API_INDEX_ACTIONS = ("dynamodb:Query",)  # listing an owner's timers
TICKER_TABLE_ACTIONS = (
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:BatchGetItem",  # the deadline states of a minute's heartbeat items
)
CALLBACK_TABLE_ACTIONS = (
    "dynamodb:GetItem",  # job states; an owner's webhook signing secrets (once a minute)
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:UpdateItem",  # a heartbeat's deadline marked missed
    "dynamodb:Query",  # a shard's change log, once a pack (timer_service.change_log)
)
DEAD_LETTER_TABLE_ACTIONS = ("dynamodb:PutItem",)
IDEMPOTENCY_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)


def allow(function: lambda_.Function, actions: Sequence[str], *resources: str) -> None:
    function.add_to_role_policy(
        iam.PolicyStatement(actions=list(actions), resources=list(resources))
    )


def _send(function: lambda_.Function, queue: sqs.IQueue) -> None:
    """``sqs:SendMessage`` alone (CDK's grant adds queue reads nobody makes)."""
    allow(function, ("sqs:SendMessage",), queue.queue_arn)


def grant(
    service: Granted,
    *,
    job_type_grants: JobTypeGrants,
    callback_policy_statements: Sequence[iam.PolicyStatement],
    webhook_signing_secret: Any,
) -> None:
    """Every function's grants on the service's resources, and the job types' beyond them."""
    table, index = service.table.table_arn, f"{service.table.table_arn}/index/{OWNER_INDEX}"
    allow(service.api_function, API_TABLE_ACTIONS, table)
    allow(service.api_function, API_INDEX_ACTIONS, index)
    _send(service.api_function, service.dispatch_queue)  # /trigger, create races, redrive
    allow(service.ticker_function, TICKER_TABLE_ACTIONS, table)
    _send(service.ticker_function, service.dispatch_queue)
    callback = service.callback_function
    allow(callback, CALLBACK_TABLE_ACTIONS, table)
    allow(callback, IDEMPOTENCY_ACTIONS, service.idempotency_table.table_arn)
    _send(callback, service.dispatch_queue)  # a failed firing, alone, later
    _send(callback, service.output_queue)
    snapshots = service.snapshot_bucket.arn_for_objects(f"{SNAPSHOT_PREFIX}*")
    allow(callback, ("s3:GetObject", "s3:PutObject"), snapshots)
    allow(service.dead_letter_function, DEAD_LETTER_TABLE_ACTIONS, table)
    for function in service.functions:
        allow(function, ("secretsmanager:GetSecretValue",), service.signing_key.secret_arn)
    if webhook_signing_secret is not None:
        reads = (
            "secretsmanager:GetSecretValue"
            if hasattr(webhook_signing_secret, "secret_arn")
            else "ssm:GetParameter"  # a SecureString under AWS's key needs no more
        )
        allow(callback, (reads,), secret_arn(webhook_signing_secret))
    assert callback.role is not None
    bucket = Stack.of(service).get_logical_id(service.snapshot_bucket.node.default_child)  # type: ignore[arg-type]
    acknowledge(callback.role, "IAM5", f"Resource::<{bucket}.Arn>/{SNAPSHOT_PREFIX}*")
    statements = job_type_grants.statements()
    for statement in [*callback_policy_statements, *statements]:
        callback.add_to_role_policy(statement)
    for resource in sorted({r for s in statements for r in s.resources if "*" in r}):
        acknowledge(callback.role, "IAM5", f"Resource::{resource}")


def secret_arn(secret: Any) -> str:
    """The ARN of a Secrets Manager secret or an SSM parameter."""
    arn = secret.secret_arn if hasattr(secret, "secret_arn") else secret.parameter_arn
    assert isinstance(arn, str)
    return arn
