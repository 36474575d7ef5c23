"""AWS prices the cost figures use: us-east-1, on-demand, without free tiers. One place.

Each price names its public source and the date it was read. ``request_usd`` prices AWS
requests counted as ``"service:Operation"`` (as botocore names them) together with the
DynamoDB capacity they consumed; ``idle_month_usd`` is what a deployed stack costs per month
when no timer fires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "PRICES",
    "Price",
    "eventbridge_scheduler_usd_per_million",
    "idle_month_usd",
    "request_usd",
    "step_functions_usd_per_million",
]

CHECKED = "2026-11-22"


@dataclass(frozen=True)
class Price:
    """``usd`` per one ``unit``; where it was read and when."""

    usd: float
    unit: str
    source: str
    as_of: str = CHECKED


PRICES: dict[str, Price] = {
    "lambda.request": Price(
        0.20 / 1e6, "invocation", "https://aws.amazon.com/lambda/pricing/ (Arm, us-east-1)"
    ),
    "lambda.gb_second": Price(
        0.0000133334, "GB-second, Arm", "https://aws.amazon.com/lambda/pricing/ (first 7.5B)"
    ),
    "sqs.request": Price(
        0.40 / 1e6, "request (64 KB chunk)", "https://aws.amazon.com/sqs/pricing/ (standard)"
    ),
    "dynamodb.write_unit": Price(
        0.625 / 1e6,
        "write request unit (1 KB)",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/ (since the 2024-11-01 reduction)",
    ),
    "dynamodb.read_unit": Price(
        0.125 / 1e6,
        "read request unit (4 KB strongly consistent; 2 eventually consistent)",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/ (since the 2024-11-01 reduction)",
    ),
    "scheduler.invocation": Price(
        1.00 / 1e6,
        "EventBridge Scheduler invocation (beyond 14M free a month)",
        "https://aws.amazon.com/eventbridge/pricing/ (Scheduler)",
    ),
    "apigateway.request": Price(
        3.50 / 1e6, "REST API request", "https://aws.amazon.com/api-gateway/pricing/ (first 333M)"
    ),
    "stepfunctions.transition": Price(
        0.025 / 1000,
        "Standard Workflows state transition",
        "https://aws.amazon.com/step-functions/pricing/",
    ),
    "cloudwatch.alarm_month": Price(
        0.10, "standard-resolution alarm-month", "https://aws.amazon.com/cloudwatch/pricing/"
    ),
    "secretsmanager.secret_month": Price(
        0.40, "secret-month", "https://aws.amazon.com/secrets-manager/pricing/"
    ),
    "cloudwatch.metric_month": Price(
        0.30, "custom metric-month (EMF)", "https://aws.amazon.com/cloudwatch/pricing/"
    ),
    "cloudwatch.dashboard_month": Price(
        3.00, "dashboard-month (3 free)", "https://aws.amazon.com/cloudwatch/pricing/"
    ),
    "logs.ingested_gb": Price(
        0.50, "GB of log data ingested", "https://aws.amazon.com/cloudwatch/pricing/"
    ),
    "s3.put": Price(0.005 / 1000, "PUT request", "https://aws.amazon.com/s3/pricing/"),
    "s3.get": Price(0.0004 / 1000, "GET request", "https://aws.amazon.com/s3/pricing/"),
    "sns.publish": Price(0.50 / 1e6, "publish (64 KB)", "https://aws.amazon.com/sns/pricing/"),
    "events.put": Price(1.00 / 1e6, "custom event", "https://aws.amazon.com/eventbridge/pricing/"),
}

MINUTES_PER_MONTH = 30 * 24 * 60
_SQS = ("sqs:", "sqs.request")
_PER_REQUEST = {
    "lambda:Invoke": "lambda.request",
    "scheduler:Invoke": "scheduler.invocation",
    "apigateway:Request": "apigateway.request",
    "s3:PutObject": "s3.put",
    "s3:GetObject": "s3.get",
    "sns:Publish": "sns.publish",
    "events:PutEvents": "events.put",
}


def request_usd(
    requests: Mapping[str, float],
    *,
    read_units: float = 0.0,
    write_units: float = 0.0,
    lambda_gb_seconds: float = 0.0,
) -> float:
    """The price of ``requests`` (``{"sqs:SendMessageBatch": n, ...}``), the DynamoDB capacity
    they consumed, and Lambda compute. DynamoDB requests are priced by capacity, not count."""
    total = 0.0
    for name, count in requests.items():
        if name.startswith(_SQS[0]):
            total += count * PRICES[_SQS[1]].usd
        elif name in _PER_REQUEST:
            total += count * PRICES[_PER_REQUEST[name]].usd
        elif not name.startswith("dynamodb:"):
            raise KeyError(f"no price for {name!r}")
    total += read_units * PRICES["dynamodb.read_unit"].usd
    total += write_units * PRICES["dynamodb.write_unit"].usd
    total += lambda_gb_seconds * PRICES["lambda.gb_second"].usd
    return total


def idle_month_usd(
    *,
    shards: int,
    tick_seconds: float = 0.15,
    ticker_memory_gb: float = 1.0,
    tick_read_units: float = 2.0,
    tick_write_units: float = 2.0,
    alarms: int = 8,
    ticker_metrics: int = 4,
    log_bytes_per_tick: int = 600,
    callback_pollers: int = 5,
    dead_letter_pollers: int = 5,
    secrets: int = 1,
) -> dict[str, float]:
    """What a stack costs a month when nothing fires, item by item (USD).

    Each shard ticks once a minute: a scheduler invocation, a Lambda invocation, and the
    reads and writes of an empty tick (the lease/claim and done updates, the empty minute
    query). The callback and dead-letter functions' SQS event sources long-poll their queues
    (about three 20-second receives a minute per poller; Lambda runs five pollers at first);
    the message signing key is one secret.
    """
    ticks = shards * MINUTES_PER_MONTH
    receives = (callback_pollers + dead_letter_pollers) * 3 * MINUTES_PER_MONTH
    return {
        "scheduler": ticks * PRICES["scheduler.invocation"].usd,
        "ticker_lambda": ticks * PRICES["lambda.request"].usd
        + ticks * tick_seconds * ticker_memory_gb * PRICES["lambda.gb_second"].usd,
        "dynamodb": ticks
        * (
            tick_read_units * PRICES["dynamodb.read_unit"].usd
            + tick_write_units * PRICES["dynamodb.write_unit"].usd
        ),
        "sqs_polling": receives * PRICES["sqs.request"].usd,
        "alarms": alarms * PRICES["cloudwatch.alarm_month"].usd,
        "secrets": secrets * PRICES["secretsmanager.secret_month"].usd,
        "metrics": ticker_metrics * PRICES["cloudwatch.metric_month"].usd,
        "logs": ticks * log_bytes_per_tick / 1e9 * PRICES["logs.ingested_gb"].usd,
    }


def eventbridge_scheduler_usd_per_million() -> float:
    """One EventBridge schedule per job, delivering to SQS: an invocation and a send."""
    return 1e6 * (PRICES["scheduler.invocation"].usd + PRICES["sqs.request"].usd)


def step_functions_usd_per_million(transitions_per_firing: int = 3) -> float:
    """A Standard workflow per firing (start, Wait state, task): its state transitions."""
    return 1e6 * transitions_per_firing * PRICES["stepfunctions.transition"].usd
