"""The ticks: one EventBridge Scheduler schedule per ticking shard, and the shard registry the
table holds, written on each deploy that changes the shards."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, CfnElement, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import custom_resources as cr
from constructs import Construct

from timer_service.keys import PK, SK, registry_key
from timer_service_cdk.nag import acknowledge

__all__ = ["shard_registry", "tick_schedules"]

AWS_CUSTOM_RESOURCE_PROVIDER = "AWS679f53fac002430cb0da5b7982bd2287"  # CDK's singleton
LAMBDA_BASIC_EXECUTION = (
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
)


def tick_schedules(
    scope: Construct, ticker: lambda_.Function, shards: Sequence[int]
) -> tuple[iam.Role, list[scheduler.Schedule]]:
    """A ``rate(1 minute)`` schedule per shard, ``{"shard": n}``, through a role that EventBridge
    Scheduler assumes for this account's schedules, in the region deployed to."""
    role = iam.Role(
        scope,
        "SchedulerRole",
        description="timer-service: EventBridge Scheduler invokes the ticker",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={
                "StringEquals": {
                    "aws:SourceAccount": Aws.ACCOUNT_ID,
                    "aws:SourceArn": f"arn:{Aws.PARTITION}:scheduler:{Aws.REGION}:"
                    f"{Aws.ACCOUNT_ID}:schedule-group/default",
                }
            },
        ),
    )
    schedules = [
        scheduler.Schedule(
            scope,
            f"Tick{shard}",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(1)),
            description=f"timer-service: tick shard {shard} once a minute",
            time_window=scheduler.TimeWindow.off(),
            target=scheduler_targets.LambdaInvoke(
                ticker,
                input=scheduler.ScheduleTargetInput.from_object({"shard": shard}),
                retry_attempts=0,  # the next minute's tick catches up from `done`
                max_event_age=Duration.minutes(1),
                role=role,
            ),
        )
        for shard in shards
    ]
    # The role may invoke the ticker and its versions: ``<ticker ARN>:*``.
    function = ticker.node.default_child
    assert isinstance(function, CfnElement)
    acknowledge(role, "IAM5", f"Resource::<{Stack.of(scope).get_logical_id(function)}.Arn>:*")
    return role, schedules


def shard_registry(
    scope: Construct, table: dynamodb.Table, *, active: int, draining: Sequence[int]
) -> cr.AwsCustomResource:
    """The table's shard registry: shards 0..active-1 active, ``draining`` draining."""
    pk, sk = registry_key()
    item = {
        PK: {"S": pk},
        SK: {"S": sk},
        "active": {"L": [{"N": str(n)} for n in range(active)]},
        "draining": {"L": [{"N": str(n)} for n in draining]},
    }
    call = cr.AwsSdkCall(
        service="DynamoDB",
        action="putItem",
        parameters={"TableName": table.table_name, "Item": item},
        physical_resource_id=cr.PhysicalResourceId.of("timer-service-shard-registry"),
    )
    registry = cr.AwsCustomResource(
        scope,
        "ShardRegistry",
        on_create=call,
        on_update=call,
        policy=cr.AwsCustomResourcePolicy.from_statements(
            [iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=[table.table_arn])]
        ),
        install_latest_aws_sdk=False,
    )
    provider = Stack.of(scope).node.try_find_child(AWS_CUSTOM_RESOURCE_PROVIDER)
    if provider is not None:
        acknowledge(provider, "IAM4", LAMBDA_BASIC_EXECUTION)
        acknowledge(provider, "L1")
    return registry
