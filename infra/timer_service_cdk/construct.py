"""``TimerService``: the whole service in one construct (API, table, ticker, queues, callbacks).

::

    client --IAM (SigV4) or API key--> API Gateway --> api Lambda --> DynamoDB table
    EventBridge Scheduler rate(1 minute) x shards --> ticker Lambda {"shard": n}
    SQS dispatch queue (DLQ after max_attempts) --> callback Lambda --> job types
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import AssetHashType, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from timer_service.keys import PK, SK, TTL_ATTRIBUTE
from timer_service.provisioning import TABLE_INDEXES
from timer_service.settings import Settings
from timer_service_cdk.browser_function import browser_function as make_browser_function
from timer_service_cdk.bundle import LambdaBundle, bundling_options
from timer_service_cdk.front import ApiAuth, UsagePlanLimits, rest_api
from timer_service_cdk.functions import Functions
from timer_service_cdk.grants import JobTypeGrants
from timer_service_cdk.monitoring import Monitoring, Watched
from timer_service_cdk.nag import acknowledge
from timer_service_cdk.permissions import allow, grant, secret_arn
from timer_service_cdk.props import check_props
from timer_service_cdk.ticking import shard_registry, tick_schedules

__all__ = ["ApiAuth", "TimerService", "UsagePlanLimits"]

IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"  # powertools Idempotency's
# A batch's messages run at once, so a batch lasts as long as its slowest job: a webhook's
# deadline (totalTimeoutSeconds, retries included) is at most 120 s, an html_monitor fetch 60 s;
# with the wait for the firing's second and the reads and writes around the job, 3 minutes.
CALLBACK_TIMEOUT = Duration.minutes(3)
TICKER_TIMEOUT = Duration.seconds(70)  # one minute's work; the lease (90 s) outlives it
API_TIMEOUT = Duration.seconds(29)  # API Gateway's integration limit
DEAD_LETTER_TIMEOUT = Duration.seconds(60)


class TimerService(Construct):
    """The timer service: REST API, DynamoDB table, per-shard tickers, queues and callbacks.

    Props:
        shards: active shards (new timers hash onto them); one ticker schedule each.
        draining_shards: shards that take no new timers but keep ticking until
            ``timer-service shards rebalance`` has moved their timers away.
        lookahead_minutes: how far ahead a tick sends firings (1-10).
        api_auth: ``ApiAuth.IAM`` (SigV4; the owner is the caller's ARN) or
            ``ApiAuth.API_KEY`` (the owner is the key; ``usage_plan`` applies).
        usage_plan: throttling (and, with API keys, a daily quota).
        callback_max_concurrency: most callback Lambdas at once (2-1000).
        max_attempts: deliveries of a firing before it goes to the dead-letter queue.
        alarm_topic: where alarms go (a topic is made when none is given).
        removal_policy: of the table, queues and bucket; ``RETAIN`` (default) also turns on
            the table's deletion protection.
        callback_policy_statements: permissions the job types need beyond the service's own
            resources, e.g. ``ec2:StartInstances`` for ``ec2_instances``, ``sns:Publish`` on a
            topic for ``sns``, ``sts:AssumeRole`` on the roles ``roleArn`` names.
        job_type_grants: the same by what the job types do (:class:`JobTypeGrants`): the
            ``make deploy`` path's ``jobTypeGrants`` context value.
        webhook_signing_secret: a Secrets Manager secret or an SSM SecureString parameter
            holding the webhook signing secret (``X-Timer-Signature``); read by the callbacks.
        extra_requirements: more packages for the Lambda bundle (job-type plugins).
        environment: more environment variables for the three functions.
        code: the Lambda code; default: the bundle built from this project.
        runtime: the Python runtime (default 3.13); the bundle's wheels follow it.
        browser_fetcher: make the function that renders ``html_monitor``'s
            ``fetcher: "browser"`` pages (x86_64, 2 GB, Chromium from @sparticuz/chromium); the
            callbacks may invoke it and nothing else. Off: such a check is an ``error`` run.
        browser_code: that function's code; default: ``code`` when given, else the browser
            bundle built from this project (``npm`` fetches Chromium once).
        tracing: X-Ray active tracing of the functions and the API stage (off by default: it
            is billed per trace, about $5 per million beyond the free tier).
        output_prefix: prefix of the stack outputs (``ApiUrl``, ``TableName``, ...).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shards: int = 4,
        draining_shards: Sequence[int] = (),
        lookahead_minutes: int = 1,
        api_auth: ApiAuth = ApiAuth.IAM,
        usage_plan: UsagePlanLimits | None = None,
        callback_max_concurrency: int = 50,
        max_attempts: int = 5,
        alarm_topic: sns.ITopic | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        callback_policy_statements: Sequence[iam.PolicyStatement] = (),
        job_type_grants: JobTypeGrants | None = None,
        webhook_signing_secret: secretsmanager.ISecret | ssm.IParameter | None = None,
        extra_requirements: Sequence[str] = (),
        environment: Mapping[str, str] | None = None,
        code: lambda_.Code | None = None,
        runtime: lambda_.Runtime | None = None,
        tracing: bool = False,
        browser_fetcher: bool = False,
        browser_code: lambda_.Code | None = None,
        output_prefix: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        self.tracing = tracing
        check_props(
            shards, draining_shards, lookahead_minutes, callback_max_concurrency, max_attempts
        )
        self.shards = shards
        self.draining_shards = tuple(sorted(set(draining_shards)))
        self.ticking_shards = tuple(range(shards)) + self.draining_shards
        limits = usage_plan or UsagePlanLimits()
        retain = removal_policy == RemovalPolicy.RETAIN

        def table(construct_id: str, ttl: str, *keys: str) -> dynamodb.Table:
            """On demand, point-in-time recovery, TTL; deletion protection when retained."""
            attributes = [
                dynamodb.Attribute(name=k, type=dynamodb.AttributeType.STRING) for k in keys
            ]
            return dynamodb.Table(
                self,
                construct_id,
                partition_key=attributes[0],
                sort_key=attributes[1] if len(attributes) > 1 else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=ttl,
                deletion_protection=retain,
                removal_policy=removal_policy,
            )

        def queue(construct_id: str, **options: Any) -> sqs.Queue:
            """Encrypted at rest (SQS-managed keys), TLS only."""
            return sqs.Queue(
                self,
                construct_id,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                removal_policy=removal_policy,
                **options,
            )

        self.table = table("Table", TTL_ATTRIBUTE, PK, SK)
        for index in TABLE_INDEXES.values():  # as the local stack's table has them
            keys = {key["KeyType"]: key["AttributeName"] for key in index["KeySchema"]}
            self.table.add_global_secondary_index(
                index_name=index["IndexName"],
                partition_key=dynamodb.Attribute(
                    name=keys["HASH"], type=dynamodb.AttributeType.STRING
                ),
                sort_key=None
                if "RANGE" not in keys
                else dynamodb.Attribute(name=keys["RANGE"], type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        self.idempotency_table = table("IdempotencyTable", IDEMPOTENCY_TTL_ATTRIBUTE, "id")
        self.dlq = queue(  # what never finished (crashes, timeouts): the dead-letter function's
            "DeadLetterQueue",
            retention_period=Duration.days(14),
            visibility_timeout=Duration.seconds(DEAD_LETTER_TIMEOUT.to_seconds() * 6),
        )
        self.dispatch_queue = queue(
            "DispatchQueue",
            visibility_timeout=Duration.seconds(CALLBACK_TIMEOUT.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=max_attempts, queue=self.dlq),
        )
        self.output_queue = queue("OutputQueue")
        acknowledge(self.output_queue, "SQS3")
        self.snapshot_bucket = s3.Bucket(
            self,
            "SnapshotBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=removal_policy,
            auto_delete_objects=not retain,
        )
        acknowledge(self.snapshot_bucket, "S1")
        # Signs every dispatch-queue message; only the service's functions can read it.
        self.signing_key = secretsmanager.Secret(
            self,
            "MessageSigningKey",
            description="timer-service: signs the dispatch queue's messages",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            removal_policy=removal_policy,
        )
        acknowledge(self.signing_key, "SMG4")

        self.runtime = runtime or lambda_.Runtime.PYTHON_3_13
        bundle = LambdaBundle(
            python_version=self.runtime.name.removeprefix("python"),
            extra_requirements=tuple(extra_requirements),
        )
        self.code = code or lambda_.Code.from_asset(
            str(_code_source()),
            asset_hash_type=AssetHashType.OUTPUT,
            bundling=bundling_options(bundle),
        )
        self._functions = Functions(self, self.runtime, self.code, tracing)
        settings = Settings(
            table_name=self.table.table_name,
            idempotency_table=self.idempotency_table.table_name,
            dispatch_queue_url=self.dispatch_queue.queue_url,
            dlq_url=self.dlq.queue_url,
            output_queue_url=self.output_queue.queue_url,
            snapshot_bucket=self.snapshot_bucket.bucket_name,
            max_attempts=max_attempts,
            message_signing_key_arn=self.signing_key.secret_arn,
            api_auth=api_auth.value,
            lookahead_minutes=lookahead_minutes,
        )
        common_env = {
            **settings.to_env(),
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
            **(environment or {}),
        }
        self.api_function = self._functions.make(
            "ApiFunction", "api.handler.lambda_handler", common_env, API_TIMEOUT, 512
        )
        self.ticker_function = self._functions.make(
            "TickerFunction", "ticker.handler.lambda_handler", common_env, TICKER_TIMEOUT, 1024
        )
        self.dead_letter_function = self._functions.make(
            "DeadLetterFunction",
            "callbacks.handler.dead_letter_handler",
            common_env,
            DEAD_LETTER_TIMEOUT,
            256,
        )
        self.browser_function = (
            make_browser_function(
                self._functions, common_env, code=browser_code or code, source=_code_source()
            )
            if browser_fetcher
            else None
        )
        # The callbacks sign webhooks and must not invoke the service's own functions.
        callback_settings = Settings(
            service_functions=tuple(
                f.function_name
                for f in (
                    self.api_function,
                    self.ticker_function,
                    self.dead_letter_function,
                    *([self.browser_function] if self.browser_function else []),
                )
            ),
            webhook_signing_secret_arn=None
            if webhook_signing_secret is None
            else secret_arn(webhook_signing_secret),
            browser_function=None
            if self.browser_function is None
            else self.browser_function.function_name,
        )
        callback_env = {**common_env, **callback_settings.to_env()}
        self.callback_function = self._functions.make(
            "CallbackFunction",
            "callbacks.handler.lambda_handler",
            callback_env,
            CALLBACK_TIMEOUT,
            512,
        )

        grant(
            self,
            job_type_grants=job_type_grants or JobTypeGrants(),
            callback_policy_statements=callback_policy_statements,
            webhook_signing_secret=webhook_signing_secret,
        )
        if self.browser_function is not None:
            allow(
                self.callback_function,
                ("lambda:InvokeFunction",),
                self.browser_function.function_arn,
            )
        self.dead_letter_function.add_event_source(
            event_sources.SqsEventSource(
                self.dlq, batch_size=10, max_concurrency=2, report_batch_item_failures=True
            )
        )
        self.callback_function.add_event_source(
            event_sources.SqsEventSource(
                self.dispatch_queue,
                batch_size=10,
                max_concurrency=callback_max_concurrency,
                report_batch_item_failures=True,
            )
        )

        self.scheduler_role, self.schedules = tick_schedules(
            self, self.ticker_function, self.ticking_shards
        )
        self.shard_registry = shard_registry(
            self, self.table, active=self.shards, draining=self.draining_shards
        )
        front = rest_api(
            self,
            self.api_function,
            auth=api_auth,
            limits=limits,
            removal_policy=removal_policy,
            tracing=self.tracing,
        )
        self.api, self.api_key, self.usage_plan = front.api, front.api_key, front.usage_plan
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            service=Watched(
                api=self.api,
                api_function=self.api_function,
                ticker_function=self.ticker_function,
                callback_function=self.callback_function,
                dispatch_queue=self.dispatch_queue,
                dlq=self.dlq,
            ),
            alarm_topic=alarm_topic,
            ticks_per_minute=len(self.ticking_shards),
        )
        self._outputs(output_prefix)

    # --- parts ---------------------------------------------------------------------------

    @property
    def functions(self) -> tuple[lambda_.Function, ...]:
        return (
            self.api_function,
            self.ticker_function,
            self.callback_function,
            self.dead_letter_function,
        )

    def _outputs(self, prefix: str) -> None:
        stack = Stack.of(self)
        values = {
            "ApiUrl": self.api.url,
            "TableName": self.table.table_name,
            "QueueUrl": self.dispatch_queue.queue_url,
            "DlqUrl": self.dlq.queue_url,
            "OutputQueueUrl": self.output_queue.queue_url,
            "SnapshotBucket": self.snapshot_bucket.bucket_name,
            "AlarmTopicArn": self.monitoring.alarm_topic.topic_arn,
            "MessageSigningKeyArn": self.signing_key.secret_arn,
            "Shards": json.dumps({"active": self.shards, "draining": self.draining_shards}),
        }
        if self.api_key is not None:
            values["ApiKeyId"] = self.api_key.key_id
        if self.browser_function is not None:
            values["BrowserFunctionName"] = self.browser_function.function_name
        for name, value in values.items():
            CfnOutput(stack, f"{prefix}{name}", value=value)


def _code_source() -> Path:
    """A small, stable directory for the asset's source (the bundle is built elsewhere)."""
    return Path(__file__).resolve().parent / "asset_source"
