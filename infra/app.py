"""The CDK app: one stack holding a ``TimerService``, configured from CDK context.

    cd infra && npx -y aws-cdk@2 deploy -c shards=8 -c apiAuth=API_KEY

Context (``-c name=value`` or ``cdk.json``): ``stackName`` (TimerService), ``shards`` (4),
``drainingShards`` (comma-separated), ``lookaheadMinutes`` (1), ``apiAuth`` (IAM | API_KEY),
``callbackMaxConcurrency`` (50), ``maxAttempts`` (5), ``removalPolicy`` (retain | destroy),
``alarmEmail`` (subscribed to the alarm topic), ``jobTypeGrants`` (what the job types may call:
a JSON object or the path of a JSON file, see ``timer_service_cdk.grants``),
``webhookSigningSecretArn`` (a Secrets Manager secret or SSM SecureString parameter holding the
webhook signing secret).
"""

from __future__ import annotations

import os
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_ssm as ssm

from timer_service_cdk import ApiAuth, JobTypeGrants, TimerService, add_nag_checks


def build(app: cdk.App) -> cdk.Stack:
    def context(name: str, default: Any) -> Any:
        value = app.node.try_get_context(name)
        return default if value is None else value

    stack = cdk.Stack(
        app,
        str(context("stackName", "TimerService")),
        description="timer-service: timers by id that fire on the second",
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
    )
    draining = str(context("drainingShards", ""))
    service = TimerService(
        stack,
        "TimerService",
        shards=int(context("shards", 4)),
        draining_shards=[int(n) for n in draining.split(",") if n.strip()],
        lookahead_minutes=int(context("lookaheadMinutes", 1)),
        api_auth=ApiAuth(str(context("apiAuth", "IAM"))),
        callback_max_concurrency=int(context("callbackMaxConcurrency", 50)),
        max_attempts=int(context("maxAttempts", 5)),
        removal_policy=cdk.RemovalPolicy.DESTROY
        if str(context("removalPolicy", "retain")).lower() == "destroy"
        else cdk.RemovalPolicy.RETAIN,
        job_type_grants=JobTypeGrants.from_json(context("jobTypeGrants", None)),
        webhook_signing_secret=_secret(stack, context("webhookSigningSecretArn", None)),
    )
    email = context("alarmEmail", None)
    if email:
        topic = service.monitoring.alarm_topic
        assert isinstance(topic, sns.Topic)
        topic.add_subscription(subscriptions.EmailSubscription(str(email)))
    return stack


def _secret(stack: cdk.Stack, arn: str | None) -> Any:
    """The secret or SecureString parameter an ARN names (None without one)."""
    if not arn:
        return None
    if arn.split(":")[2:3] == ["ssm"]:
        name = arn.split(":parameter", 1)[1]
        return ssm.StringParameter.from_secure_string_parameter_attributes(
            stack, "WebhookSigningSecret", parameter_name=name
        )
    return secretsmanager.Secret.from_secret_complete_arn(stack, "WebhookSigningSecret", arn)


if __name__ == "__main__":
    cdk_app = cdk.App()
    add_nag_checks(cdk_app)
    build(cdk_app)
    cdk_app.synth()
