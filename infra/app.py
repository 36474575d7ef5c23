"""The CDK app: one stack holding a ``TimerService``, configured from CDK context.

    cd infra && npx -y aws-cdk@2 deploy -c shards=8 -c apiAuth=API_KEY

Context (``-c name=value`` or ``cdk.json``): ``stackName`` (TimerService), ``shards`` (4),
``drainingShards`` (comma-separated), ``lookaheadMinutes`` (1), ``apiAuth`` (IAM | API_KEY),
``callbackMaxConcurrency`` (50), ``maxAttempts`` (5), ``removalPolicy`` (retain | destroy),
``alarmEmail`` (subscribed to the alarm topic).
"""

from __future__ import annotations

import os
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

from timer_service_cdk import ApiAuth, TimerService, add_nag_checks


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
    )
    email = context("alarmEmail", None)
    if email:
        topic = service.monitoring.alarm_topic
        assert isinstance(topic, sns.Topic)
        topic.add_subscription(subscriptions.EmailSubscription(str(email)))
    return stack


if __name__ == "__main__":
    cdk_app = cdk.App()
    add_nag_checks(cdk_app)
    build(cdk_app)
    cdk_app.synth()
