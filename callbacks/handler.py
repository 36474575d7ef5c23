"""Callback Lambda: SQS batches of the dispatch queue in, partial batch failures out.

The work is :class:`timer_service.delivery_policy.DeliveryPolicy`'s (open, deliver, retry
alone or dead-letter); this module adapts SQS events to it, logs each firing and builds the
policy from the environment. ``dead_letter_handler`` takes what SQS moved to the dead-letter
queue (a callback that crashed or timed out on it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.typing import LambdaContext

from callbacks.idempotency import firing_config, make_run_once
from timer_service import wiring
from timer_service.aws import Clients, dynamodb_client
from timer_service.clock import SystemClock, format_utc
from timer_service.delivery import Delivered, Delivery, RunOnce
from timer_service.delivery_policy import DeliveryPolicy, Received, RetryRule
from timer_service.firing import Firing
from timer_service.job_types import JobTypeRegistry, PermanentJobError
from timer_service.messages import SIGNATURE_ATTRIBUTE
from timer_service.observability import EmfMetrics
from timer_service.settings import Settings

logger = Logger(service="timer-callbacks")
tracer = Tracer(service="timer-callbacks")
metrics = Metrics(namespace="TimerService", service="timer-callbacks")

DeliveryListener = Callable[[Firing, Delivered | None, Exception | None], None]
listeners: list[DeliveryListener] = []  # the local stack prints each firing through this


@cache
def settings() -> Settings:
    return wiring.resolved(Settings.from_env(), webhook_secret=True)


@cache
def delivery() -> Delivery:
    current = settings()
    return Delivery(
        store=wiring.timer_store(current),
        job_types=JobTypeRegistry.from_entry_points(),
        clock=SystemClock(),
        settings=current,
        client=Clients(current),
        metrics=EmfMetrics(metrics),
    )


@cache
def idempotency_config() -> IdempotencyConfig:
    return firing_config()


@cache
def run_once() -> RunOnce | None:
    """Idempotent execution keyed by firing id, when an idempotency table is configured."""
    current = settings()
    if current.idempotency_table is None:
        return None
    return make_run_once(current.idempotency_table, dynamodb_client(current), idempotency_config())


@cache
def policy() -> DeliveryPolicy:
    current, clock = settings(), SystemClock()
    return DeliveryPolicy(
        delivery=delivery(),
        queue=wiring.dispatch_queue(current, clock),
        dead_letters=wiring.dead_letters(current, clock),
        signer=wiring.message_signer(current),
        rule=RetryRule.from_settings(current),
        run_once=run_once(),
        metrics=EmfMetrics(metrics),
        observer=_observe,
    )


def _observe(firing: Firing, result: Delivered | None, error: Exception | None) -> None:
    keys = {"timer_id": firing.timer_id, "firing_id": firing.firing_id}
    if isinstance(error, PermanentJobError):
        logger.warning("firing failed permanently", extra={**keys, "error": error.message})
    elif error is not None:
        logger.warning("firing failed", extra={**keys, "error": repr(error)})
    elif result is not None:
        lateness = result.lateness_s
        logger.info(
            "firing",
            extra={
                **keys,
                "outcome": result.outcome,
                "scheduled_at": format_utc(firing.scheduled_s),
                "lateness_ms": None if lateness is None else round(lateness * 1000, 1),
            },
        )
    for listener in listeners:
        listener(firing, result, error)


def received(record: dict[str, Any]) -> Received:
    """An SQS event record as the policy takes it."""
    signature = (record.get("messageAttributes") or {}).get(SIGNATURE_ATTRIBUTE) or {}
    return Received(
        message_id=record["messageId"],
        body=record["body"],
        signature=signature.get("stringValue"),
        receive_count=int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1),
    )


def _failures(ids: list[str]) -> dict[str, Any]:
    if ids:
        metrics.add_metric(name="BatchItemFailures", unit="Count", value=len(ids))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in ids]}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config().register_lambda_context(context)
    return _failures(policy().handle([received(record) for record in event["Records"]]))


@logger.inject_lambda_context
@metrics.log_metrics
def dead_letter_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _failures(policy().intake([received(record) for record in event["Records"]]))
