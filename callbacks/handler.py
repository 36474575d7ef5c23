"""Callback Lambda: SQS batches of the dispatch queue in, partial batch failures out.

The work is :class:`timer_service.delivery_policy.DeliveryPolicy`'s (open, deliver, retry
alone or dead-letter); this module adapts SQS events to it, logs each firing and builds the
policy from the environment. ``dead_letter_handler`` takes what SQS moved to the dead-letter
queue (a callback that crashed or timed out on it). With X-Ray on (the construct's ``tracing``),
each firing's job runs in a subsegment annotated with its W3C ``traceId``, so the trace id a
receiver got (or a run shows) finds it: ``annotation.traceId = "..."``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from callbacks.idempotency import firing_config, make_run_once
from timer_service import wiring
from timer_service.aws import dynamodb_client
from timer_service.clock import format_utc
from timer_service.delivery import Delivered, RunOnce
from timer_service.delivery_policy import Received
from timer_service.firing import Firing
from timer_service.job_types import PermanentJobError
from timer_service.messages import SIGNATURE_ATTRIBUTE
from timer_service.observability import EmfMetrics
from timer_service.settings import Settings
from timer_service.tracing import TraceParent

logger = Logger(service="timer-callbacks")
tracer = Tracer(service="timer-callbacks")
metrics = Metrics(namespace="TimerService", service="timer-callbacks")

DeliveryListener = Callable[[Firing, Delivered | None, Exception | None], None]
listeners: list[DeliveryListener] = []  # the local stack prints each firing through this


wired = wiring.Wired(webhook_secret=True)  # settings, clock, parts (tests set theirs)
idempotency_config = wired.part(lambda context: firing_config())


def settings() -> Settings:
    return wired.settings()


def _run_once(context: wiring.Context) -> RunOnce | None:
    """Idempotent execution keyed by firing id, when an idempotency table is configured."""
    current = context.settings
    if current.idempotency_table is None:
        return None
    return make_run_once(current.idempotency_table, dynamodb_client(current), idempotency_config())


run_once = wired.part(_run_once)
policy = wired.part(
    lambda context: wiring.delivery_policy(
        context.settings,
        context.clock,
        sleep=context.sleep,
        run_once=run_once(),
        metrics=EmfMetrics(metrics),
        observer=_observe,
        span=_span,
        remaining=_remaining_s,
    )
)


def _remaining_s() -> float | None:
    """Seconds this invocation has left: how long a pack's ledger item is held."""
    context = getattr(idempotency_config(), "lambda_context", None)
    return None if context is None else context.get_remaining_time_in_millis() / 1000


@contextmanager
def _span(firing: Firing, trace: TraceParent) -> Iterator[None]:
    """The firing's job in an X-Ray subsegment, found by its W3C trace id."""
    with tracer.provider.in_subsegment("## firing") as subsegment:
        subsegment.put_annotation("traceId", trace.trace_id)
        subsegment.put_annotation("timerId", firing.timer_id)
        subsegment.put_metadata("firingId", firing.firing_id)
        subsegment.put_metadata("traceparent", trace.header)
        yield


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
