"""The REST API in front of the API function: IAM (SigV4) or API keys with a usage plan,
throttled, with access logs and execution logs that expire, API Gateway's own refusals in the
API's one error shape, and a heartbeat's ping route and a feed's read outside IAM and API keys."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from timer_service_cdk.nag import acknowledge

__all__ = ["API_STAGE", "LOG_RETENTION", "ApiAuth", "Front", "UsagePlanLimits", "rest_api"]

API_STAGE = "v1"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
API_GATEWAY_LOGS = (
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
)


# API Gateway's refusals (before the function runs) by response type: the API's error code and
# the field at fault. Its own body is {"message": ...}; the API's shape (ErrorBody of
# /openapi.json) lets clients handle every error alike. Templates are not VTL: the code is fixed.
_REFUSALS: dict[str, tuple[str, str | None]] = {
    "MISSING_AUTHENTICATION_TOKEN": ("unauthorized", "Authorization"),
    "INVALID_SIGNATURE": ("unauthorized", "Authorization"),
    "EXPIRED_TOKEN": ("unauthorized", "Authorization"),
    "ACCESS_DENIED": ("access_denied", "Authorization"),
    "INVALID_API_KEY": ("unauthorized", "X-Api-Key"),
    "THROTTLED": ("too_many_requests", None),
    "QUOTA_EXCEEDED": ("request_quota_exceeded", None),
    "REQUEST_TOO_LARGE": ("payload_too_large", "body"),
    "DEFAULT_4XX": ("$context.error.responseType", None),
    "DEFAULT_5XX": ("$context.error.responseType", None),
}
RETRY_AFTER_S = 1  # with a throttled answer: API Gateway gives no wait of its own


def _error_template(code: str, field: str | None) -> str:
    field_json = "null" if field is None else f'"{field}"'
    return (
        f'{{"error": {{"code": "{code}", "message": $context.error.messageString,'
        f' "field": {field_json}}}}}'
    )


class ApiAuth(enum.Enum):
    """How callers authenticate: SigV4 with IAM, or an API key (with a usage plan)."""

    IAM = "IAM"
    API_KEY = "API_KEY"


@dataclass(frozen=True)
class UsagePlanLimits:
    """Throttling and quota of the API (the usage plan with ``API_KEY``; the stage with IAM)."""

    rate_limit: float = 50.0  # requests per second, steady
    burst_limit: int = 100
    quota_per_day: int | None = 100_000  # API_KEY only; None: no quota


@dataclass(frozen=True)
class Front:
    api: apigateway.RestApi
    api_key: apigateway.IApiKey | None
    usage_plan: apigateway.UsagePlan | None


PING_METHODS = ("GET", "POST", "HEAD")  # Healthchecks.io's: a plain curl or wget of the URL


def _token_route(
    parent: apigateway.Resource, integration: apigateway.Integration, methods: tuple[str, ...]
) -> None:
    """``{parent}/{token}`` outside IAM and API keys for ``methods``: the token in the URL is
    the credential (the function checks it); the stage's throttling still applies."""
    token = parent.add_resource("{token}")
    for method in methods:
        token.add_method(
            method,
            integration,
            authorization_type=apigateway.AuthorizationType.NONE,
            api_key_required=False,
        )
    acknowledge(token, "APIG4")


def _ping_route(api: apigateway.LambdaRestApi, function: lambda_.Function) -> None:
    """``/ping/{token}`` for heartbeat timers: a cron job's ``curl`` has no credential. API
    Gateway matches it before ``{proxy+}``."""
    # A proxying LambdaRestApi refuses root.add_resource; a Resource made on the root is the same
    # resource, as add_resource would have made it.
    ping = apigateway.Resource(api.root, "ping", parent=api.root, path_part="ping")
    _token_route(ping, apigateway.LambdaIntegration(function), PING_METHODS)


FEED_READ_METHODS = ("GET", "HEAD")  # what a feed reader sends


def _feed_route(api: apigateway.LambdaRestApi, function: lambda_.Function) -> None:
    """``GET|HEAD /feeds/{token}``, a feed of changes: a feed reader signs nothing. ``/feeds``
    itself, which makes and revokes feeds, keeps the API's authorization (an explicit resource
    hides ``{proxy+}`` for its path), as do the token path's other methods."""
    feeds = apigateway.Resource(api.root, "feeds", parent=api.root, path_part="feeds")
    integration = apigateway.LambdaIntegration(function)
    feeds.add_method("ANY", integration)  # the API's default authorization
    _token_route(feeds, integration, FEED_READ_METHODS)


def rest_api(
    scope: Construct,
    function: lambda_.Function,
    *,
    auth: ApiAuth,
    limits: UsagePlanLimits,
    removal_policy: RemovalPolicy,
    tracing: bool,
) -> Front:
    access_logs = logs.LogGroup(
        scope, "ApiAccessLogs", retention=LOG_RETENTION, removal_policy=removal_policy
    )
    api = apigateway.LambdaRestApi(
        scope,
        "Api",
        handler=function,
        proxy=True,
        description="timer-service: timers by id",
        cloud_watch_role=True,
        default_method_options=apigateway.MethodOptions(
            authorization_type=apigateway.AuthorizationType.IAM
            if auth is ApiAuth.IAM
            else apigateway.AuthorizationType.NONE,
            api_key_required=auth is ApiAuth.API_KEY,
        ),
        deploy_options=apigateway.StageOptions(
            stage_name=API_STAGE,
            tracing_enabled=tracing,
            metrics_enabled=True,
            logging_level=apigateway.MethodLoggingLevel.ERROR,
            access_log_destination=apigateway.LogGroupLogDestination(access_logs),
            access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                caller=True,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=True,
            ),
            throttling_rate_limit=limits.rate_limit,
            throttling_burst_limit=limits.burst_limit,
        ),
    )
    # API Gateway writes execution logs (ERROR level) to a group of its own, which it would
    # make without a retention: made here first, with one.
    logs.LogGroup(
        scope,
        "ApiExecutionLogs",
        log_group_name=f"API-Gateway-Execution-Logs_{api.rest_api_id}/{API_STAGE}",
        retention=LOG_RETENTION,
        removal_policy=removal_policy,
    )
    for kind, (code, field) in _REFUSALS.items():
        api.add_gateway_response(
            f"Refusal{kind.title().replace('_', '')}",
            type=apigateway.ResponseType.of(kind),
            templates={"application/json": _error_template(code, field)},
            response_headers={"Retry-After": f"'{RETRY_AFTER_S}'"} if kind == "THROTTLED" else None,
        )
    _ping_route(api, function)
    _feed_route(api, function)
    acknowledge(api, "APIG2")
    acknowledge(api, "COG4")
    acknowledge(api, "APIG3")
    if api.node.try_find_child("CloudWatchRole") is not None:
        acknowledge(api.node.find_child("CloudWatchRole"), "IAM4", API_GATEWAY_LOGS)
    if auth is not ApiAuth.API_KEY:
        return Front(api, None, None)
    acknowledge(api, "APIG4")
    usage_plan = api.add_usage_plan(
        "UsagePlan",
        throttle=apigateway.ThrottleSettings(
            rate_limit=limits.rate_limit, burst_limit=limits.burst_limit
        ),
        quota=None
        if limits.quota_per_day is None
        else apigateway.QuotaSettings(limit=limits.quota_per_day, period=apigateway.Period.DAY),
    )
    usage_plan.add_api_stage(stage=api.deployment_stage)
    api_key = api.add_api_key("ApiKey")
    usage_plan.add_api_key(api_key)
    return Front(api, api_key, usage_plan)
