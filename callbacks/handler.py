"""Callback Lambda: consumes the dispatch queue and runs each firing's job type.

powertools BatchProcessor reports partial batch failures; a failed firing is retried with
exponential backoff (its message's visibility), and after ``MAX_ATTEMPTS`` deliveries SQS
moves it to the DLQ. A permanent failure (4xx, blocked URL) goes to the DLQ at once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.typing import LambdaContext

from callbacks.idempotency import firing_config, make_run_once
from timer_service.aws import Clients, dynamodb_client
from timer_service.clock import SystemClock, format_utc
from timer_service.delivery import Delivered, Delivery, RunOnce, retry_delay_s
from timer_service.dispatch import Firing
from timer_service.job_types import JobTypeRegistry, PermanentJobError
from timer_service.observability import EmfMetrics
from timer_service.settings import Settings
from timer_service.store.dynamodb import DynamoTimerStore

logger = Logger(service="timer-callbacks")
tracer = Tracer(service="timer-callbacks")
metrics = Metrics(namespace="TimerService", service="timer-callbacks")

DeliveryListener = Callable[[Firing, Delivered | None, Exception | None], None]
listeners: list[DeliveryListener] = []  # the local stack prints each firing through this


@cache
def settings() -> Settings:
    return Settings.from_env()


def _client(service: str) -> Any:
    return Clients(settings())(service)


@cache
def delivery() -> Delivery:
    current = settings()
    return Delivery(
        store=DynamoTimerStore(dynamodb_client(current), current.table_name),
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


class _Batch:
    """One SQS batch: the timers are read once for all its firings."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.firings: dict[str, Firing] = {}
        for record in records:
            try:
                self.firings[record["messageId"]] = Firing.from_message(record["body"])
            except (ValueError, KeyError, TypeError):
                logger.warning("not a firing message", extra={"message_id": record["messageId"]})
        self.reads = delivery().reads(list(self.firings.values()))

    def handle(self, record: SQSRecord) -> None:
        firing = self.firings.get(record.message_id)
        if firing is None:
            _to_dlq(record, None, PermanentJobError("the message is not a firing"))
            return
        attempt = int(record.attributes.approximate_receive_count or 1)
        logger.append_keys(timer_id=firing.timer_id, firing_id=firing.firing_id)
        try:
            result = delivery().deliver(
                firing,
                attempt=attempt,
                reads=self.reads,
                run_once=run_once(),
                delivery_id=record.message_id,
            )
        except PermanentJobError as exc:
            logger.warning("firing failed permanently", extra={"error": exc.message})
            _to_dlq(record, firing, exc)
            _notify(firing, None, exc)
            return
        except Exception as exc:
            _back_off(record, attempt)
            logger.warning("firing failed", extra={"attempt": attempt, "error": repr(exc)})
            _notify(firing, None, exc)
            raise
        logger.info(
            "firing",
            extra={
                "outcome": result.outcome,
                "scheduled_at": format_utc(firing.scheduled_s),
                "lateness_ms": None
                if result.lateness_s is None
                else round(result.lateness_s * 1000, 1),
            },
        )
        _notify(firing, result, None)


def _notify(firing: Firing, result: Delivered | None, error: Exception | None) -> None:
    for listener in listeners:
        listener(firing, result, error)


def _back_off(record: SQSRecord, attempt: int) -> None:
    """Hold the failed message for base * 2^(attempt-1) s. After the last attempt it is made
    visible at once: SQS's redrive (maxReceiveCount = MAX_ATTEMPTS) moves it to the DLQ."""
    current = settings()
    last = attempt >= current.max_attempts
    if last:
        metrics.add_metric(name="DlqSends", unit="Count", value=1)
    if current.dispatch_queue_url is None:
        return
    _client("sqs").change_message_visibility(
        QueueUrl=current.dispatch_queue_url,
        ReceiptHandle=record.receipt_handle,
        VisibilityTimeout=0 if last else retry_delay_s(attempt, base_s=current.retry_base_s),
    )


def _to_dlq(record: SQSRecord, firing: Firing | None, error: PermanentJobError) -> None:
    current = settings()
    if current.dlq_url is None:
        raise error
    attributes = {"error": {"DataType": "String", "StringValue": error.message[:1000]}}
    if firing is not None:
        attributes["firingId"] = {"DataType": "String", "StringValue": firing.firing_id}
    _client("sqs").send_message(
        QueueUrl=current.dlq_url, MessageBody=record.body, MessageAttributes=attributes
    )
    metrics.add_metric(name="DlqSends", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config().register_lambda_context(context)
    batch = _Batch(event["Records"])
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=batch.handle, processor=processor, context=context
    )
    failures = len(response.get("batchItemFailures", []))
    if failures:
        metrics.add_metric(name="BatchItemFailures", unit="Count", value=failures)
    return dict(response)
