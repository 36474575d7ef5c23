"""Callback Lambda: consumes the dispatch queue and runs each firing's job type.

A message holds one firing, or a pack of firings due in the same second (``messages_of``),
which run at once. powertools BatchProcessor reports partial batch failures; a failed single
firing is retried with exponential backoff (its message's visibility), and after
``MAX_ATTEMPTS`` deliveries SQS moves it to the DLQ. A firing of a pack that fails is retried
alone, as a message of its own carrying its attempts (the rest of its pack is done); after
``MAX_ATTEMPTS`` it goes to the DLQ. A permanent failure (4xx, blocked URL) goes to the DLQ at
once.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
from timer_service.dispatch import MAX_DELAY_S, Firing, firings_in
from timer_service.errors import TimerServiceError
from timer_service.job_types import JobTypeRegistry, PermanentJobError
from timer_service.observability import EmfMetrics
from timer_service.settings import Settings
from timer_service.store.dynamodb import DynamoTimerStore

ATTEMPTS_ATTRIBUTE = "attemptsBefore"  # a firing retried alone: its pack's attempts so far
PACK_WORKERS = 32  # firings of one pack run at once
RECORD_WORKERS = 10  # the messages of a batch (the event source's batch size) run at once

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
        self.records = [SQSRecord(record) for record in records]
        self.firings: dict[str, list[Firing]] = {}
        self.outcomes: dict[str, Exception | None] = {}
        for record in records:
            try:
                self.firings[record["messageId"]] = firings_in(record["body"])
            except (ValueError, KeyError, TypeError, AttributeError):
                logger.warning("not a firing message", extra={"message_id": record["messageId"]})
        self.reads = delivery().reads([f for group in self.firings.values() for f in group])

    def run_all(self) -> None:
        """Every message of the batch at once, each outcome kept for :meth:`handle`: a batch
        takes as long as its slowest job, not the sum of them, so one tenant's slow webhook
        neither holds up the others' firings nor runs the batch into the function's timeout
        (which would retry the whole batch, jobs that succeeded included)."""
        workers = max(1, min(RECORD_WORKERS, len(self.records)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(self._outcome, self.records))
        for record, outcome in zip(self.records, outcomes, strict=True):
            self.outcomes[record.message_id] = outcome

    def _outcome(self, record: SQSRecord) -> Exception | None:
        try:
            self._handle_now(record)
        except Exception as exc:
            return exc
        return None

    def handle(self, record: SQSRecord) -> None:
        """The record handler powertools' batch processor calls, after :meth:`run_all`: the
        record's outcome, raised again when it failed (so the batch response lists it)."""
        outcome = self.outcomes[record.message_id]
        if outcome is not None:
            raise outcome

    def _handle_now(self, record: SQSRecord) -> None:
        firings = self.firings.get(record.message_id)
        if firings is None:
            _to_dlq(record.body, None, PermanentJobError("the message is not a firing"))
            return
        received = int(record.attributes.approximate_receive_count or 1)
        before = _attempts_before(record)
        if len(firings) == 1 and not _is_pack(record.body):
            self._single(record, firings[0], received + before, before)
        else:
            self._pack(record, firings, received)

    def _single(self, record: SQSRecord, firing: Firing, attempt: int, before: int) -> None:
        try:
            self._deliver(firing, attempt, record.message_id)
        except PermanentJobError as exc:
            _to_dlq(record.body, firing, exc)
        except Exception as exc:
            if before and attempt >= settings().max_attempts:  # split from a pack: no redrive
                _to_dlq(record.body, firing, PermanentJobError(f"retries exhausted: {exc!r}"))
                return
            _back_off(record, attempt)
            raise

    def _pack(self, record: SQSRecord, firings: list[Firing], attempt: int) -> None:
        """Every firing of the pack at once (they share a second); a firing that fails goes on
        alone, as a message of its own that carries its attempts, so the others run once."""
        workers = min(PACK_WORKERS, len(firings))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(
                pool.map(
                    lambda n: self._try(firings[n], attempt, f"{record.message_id}/{n}"),
                    range(len(firings)),
                )
            )
        for firing, error in zip(firings, outcomes, strict=True):
            if error is None:
                continue
            if isinstance(error, PermanentJobError):
                _to_dlq(firing.to_message(), firing, error)
            elif attempt >= settings().max_attempts:
                _to_dlq(
                    firing.to_message(), firing, PermanentJobError(f"retries exhausted: {error!r}")
                )
            else:
                _retry_alone(firing, attempt)

    def _try(self, firing: Firing, attempt: int, delivery_id: str) -> Exception | None:
        try:
            self._deliver(firing, attempt, delivery_id)
        except Exception as exc:
            return exc
        return None

    def _deliver(self, firing: Firing, attempt: int, delivery_id: str) -> None:
        keys = {"timer_id": firing.timer_id, "firing_id": firing.firing_id}
        try:
            result = delivery().deliver(
                firing,
                attempt=attempt,
                reads=self.reads,
                run_once=run_once(),
                delivery_id=delivery_id,
            )
        except PermanentJobError as exc:
            logger.warning("firing failed permanently", extra={**keys, "error": exc.message})
            _notify(firing, None, exc)
            raise
        except Exception as exc:
            logger.warning("firing failed", extra={**keys, "attempt": attempt, "error": repr(exc)})
            _notify(firing, None, exc)
            raise
        logger.info(
            "firing",
            extra={
                **keys,
                "outcome": result.outcome,
                "scheduled_at": format_utc(firing.scheduled_s),
                "lateness_ms": None
                if result.lateness_s is None
                else round(result.lateness_s * 1000, 1),
            },
        )
        _notify(firing, result, None)


def _is_pack(body: str) -> bool:
    return body.startswith('{"p":')


def _attempts_before(record: SQSRecord) -> int:
    attribute = (record.message_attributes or {}).get(ATTEMPTS_ATTRIBUTE)
    if attribute is None:
        return 0
    try:
        return int(attribute.get("stringValue") or 0)
    except (TypeError, ValueError):
        return 0


def _retry_alone(firing: Firing, attempt: int) -> None:
    """A firing of a pack that failed: retried as a message of its own after the backoff."""
    current = settings()
    if current.dispatch_queue_url is None:
        raise TimerServiceError(f"{firing.firing_id} failed and there is no queue to retry it")
    _client("sqs").send_message(
        QueueUrl=current.dispatch_queue_url,
        MessageBody=firing.to_message(),
        DelaySeconds=min(MAX_DELAY_S, retry_delay_s(attempt, base_s=current.retry_base_s)),
        MessageAttributes={ATTEMPTS_ATTRIBUTE: {"DataType": "Number", "StringValue": str(attempt)}},
    )


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


def _to_dlq(body: str, firing: Firing | None, error: PermanentJobError) -> None:
    current = settings()
    if current.dlq_url is None:
        raise error
    attributes = {"error": {"DataType": "String", "StringValue": error.message[:1000]}}
    if firing is not None:
        attributes["firingId"] = {"DataType": "String", "StringValue": firing.firing_id}
    _client("sqs").send_message(
        QueueUrl=current.dlq_url, MessageBody=body, MessageAttributes=attributes
    )
    metrics.add_metric(name="DlqSends", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config().register_lambda_context(context)
    batch = _Batch(event["Records"])
    batch.run_all()
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=batch.handle, processor=processor, context=context
    )
    failures = len(response.get("batchItemFailures", []))
    if failures:
        metrics.add_metric(name="BatchItemFailures", unit="Count", value=failures)
    return dict(response)
