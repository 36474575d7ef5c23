"""Faults on the real adapters (moto): throttled DynamoDB calls answered at the HTTP layer, so
botocore's own retries run; SQS refusing part of a batch; two tickers at once; callbacks that
die after their job ran."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from loadtest.stack import WebhookReceiver
from tests.conftest import ALICE, ApiCall, AwsResources, signer
from tests.functional.conftest import consume, sqs, webhook_timer
from timer_service.clock import FixedClock
from timer_service.dispatch import Firing, SqsDispatchQueue, firings_in
from timer_service.job_types import JobTypeRegistry
from timer_service.messages import SIGNATURE_ATTRIBUTE
from timer_service.models import TimerSpec
from timer_service.service import TimerService
from timer_service.store.dynamodb import DynamoTimerStore
from timer_service.tick import TickEngine

T0 = 1_795_348_800  # 2026-11-22T12:00:00Z


class RawBody:
    """A botocore raw HTTP body holding ``body`` (for answers made up in tests)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


class Throttle:
    """Answers the next ``times`` calls of a DynamoDB operation with a throttling error."""

    def __init__(self, client: Any, operation: str, times: int, code: str) -> None:
        self.remaining = times
        self.code = code
        self.answered = 0
        self._event = f"before-send.dynamodb.{operation}"
        self._client = client
        client.meta.events.register(self._event, self)

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.remaining <= 0:
            return None
        self.remaining -= 1
        self.answered += 1
        body = json.dumps(
            {"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": "slow down"}
        ).encode()
        headers = {"x-amzn-ErrorType": self.code, "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 400, headers, RawBody(body))

    def remove(self) -> None:
        self._client.meta.events.unregister(self._event, self)


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry delays (exponential, with jitter, up to 20 s each), as it computes
    them: kept, not slept. The retries happen as they would; the test does not wait them out."""
    from botocore.retries.standard import ExponentialBackoff

    delays: list[float] = []
    computed = ExponentialBackoff.delay_amount

    def delay_amount(self: ExponentialBackoff, context: Any) -> float:
        delays.append(computed(self, context))
        return 0.0

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", delay_amount)
    return delays


def world(aws: AwsResources) -> tuple[DynamoTimerStore, SqsDispatchQueue, FixedClock, Any]:
    from timer_service.aws import client

    dynamodb = client("dynamodb", "us-east-1", aws.endpoint_url)
    store = DynamoTimerStore(dynamodb, aws.table)
    clock = FixedClock(T0 + 1)
    # The queue's clock runs an hour ahead: no message is delayed, the test can see them all.
    queue = SqsDispatchQueue(
        sqs(), aws.dispatch_queue_url, clock=FixedClock(T0 + 3600), signer=signer()
    )
    api = TimerService(
        store=store, clock=clock, job_types=JobTypeRegistry.from_entry_points(), queue=queue
    )
    for n in range(15):  # fireAll: a firing caught up late is sent, not coalesced
        for timer_id, schedule in ((f"r{n}", "rate(1 minute)"), (f"c{n}", "cron(* * * * ? *)")):
            spec = TimerSpec.model_validate({"schedule": schedule, "misfirePolicy": "fireAll"})
            api.put("alice", timer_id, spec)
    return store, queue, clock, dynamodb


def queued(aws: AwsResources) -> Counter[str]:
    """Every message on the dispatch queue, by firing id (drained)."""
    seen: Counter[str] = Counter()
    while True:
        messages = (
            sqs()
            .receive_message(
                QueueUrl=aws.dispatch_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            .get("Messages", [])
        )
        if not messages:
            return seen
        for message in messages:
            for firing in firings_in(message["Body"]):
                seen[firing.firing_id] += 1
        sqs().delete_message_batch(
            QueueUrl=aws.dispatch_queue_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
            ],
        )


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("Query", "ProvisionedThroughputExceededException"),
        ("UpdateItem", "ThrottlingException"),
        ("PutItem", "ProvisionedThroughputExceededException"),
    ],
)
def test_throttled_dynamodb_calls_are_retried_and_the_tick_completes(
    aws: AwsResources, backoff: list[float], operation: str, code: str
) -> None:
    store, queue, clock, dynamodb = world(aws)
    clock.set(T0 + 60 + 1)
    throttle = Throttle(dynamodb, operation, times=2, code=code)
    try:
        report = TickEngine(store=store, queue=queue, clock=clock).tick(0)
    finally:
        throttle.remove()
    assert throttle.answered == 2  # botocore retried through both
    assert len(backoff) == 2 and 0 <= backoff[0] <= 1 and 0 <= backoff[1] <= 2
    assert report.sent == 60  # 30 timers, minutes 12:01 and 12:02
    assert set(queued(aws).values()) == {1}


def test_throttling_past_the_retries_fails_the_tick_and_the_next_one_catches_up(
    aws: AwsResources, backoff: list[float]
) -> None:
    store, queue, clock, dynamodb = world(aws)
    clock.set(T0 + 60 + 1)
    throttle = Throttle(dynamodb, "Query", times=50, code="ThrottlingException")
    try:
        with pytest.raises(Exception, match="ThrottlingException"):
            TickEngine(store=store, queue=queue, clock=clock, token="first").tick(0)
    finally:
        throttle.remove()
    assert backoff and max(backoff) <= 20  # botocore backed off (its cap is 20 s): not waited
    clock.set(T0 + 3 * 60 + 1)  # the dead tick's lease has run out
    report = TickEngine(store=store, queue=queue, clock=clock, token="second").tick(0)
    firings = queued(aws)
    assert report.first_minute == (T0 + 60) // 60  # from the minute the dead tick claimed
    assert set(firings.values()) == {1}
    assert len(firings) == 30 * 4  # 12:01 through 12:04, each once


def test_sqs_refusing_part_of_a_batch_is_retried_without_duplicates(aws: AwsResources) -> None:
    store, queue, clock, _ = world(aws)
    refused: list[str] = []
    this_call = threading.local()  # the ticker sends batches from several threads at once
    client = sqs()

    def keep_half(params: dict[str, Any], **_: Any) -> None:
        this_call.refused = []
        if not refused and len(params["Entries"]) > 1:  # once: half of the first batch
            half = len(params["Entries"]) // 2
            this_call.refused = [e["Id"] for e in params["Entries"][half:]]
            refused.extend(this_call.refused)
            params["Entries"] = params["Entries"][:half]

    def report_refused(parsed: dict[str, Any], **_: Any) -> None:
        if this_call.refused:
            parsed["Failed"] = [
                {"Id": i, "SenderFault": False, "Code": "InternalError"} for i in this_call.refused
            ]

    client.meta.events.register("provide-client-params.sqs.SendMessageBatch", keep_half)
    client.meta.events.register("after-call.sqs.SendMessageBatch", report_refused)
    try:
        clock.set(T0 + 60 + 1)
        TickEngine(store=store, queue=queue, clock=clock).tick(0)
    finally:
        client.meta.events.unregister("provide-client-params.sqs.SendMessageBatch", keep_half)
        client.meta.events.unregister("after-call.sqs.SendMessageBatch", report_refused)
    firings = queued(aws)
    assert refused  # part of a batch was refused
    assert len(firings) == 60 and set(firings.values()) == {1}


def test_two_tickers_at_once_send_each_firing_once(aws: AwsResources) -> None:
    store, queue, clock, _ = world(aws)
    clock.set(T0 + 60 + 1)
    engines = [TickEngine(store=store, queue=queue, clock=clock, token=t) for t in "ab"]
    reports: list[Any] = []
    start = threading.Barrier(2)

    def tick(engine: TickEngine) -> None:
        start.wait()
        reports.append(engine.tick(0))

    threads = [threading.Thread(target=tick, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.busy for r in reports) == [False, True]
    assert set(queued(aws).values()) == {1}


@pytest.mark.parametrize(("delivery", "runs"), [("deduplicated", 1), ("atLeastOnce", 2)])
def test_a_callback_that_dies_after_its_job_ran(
    pipeline: AwsResources,
    call_api: ApiCall,
    receiver: WebhookReceiver,
    delivery: str,
    runs: int,
) -> None:
    from callbacks.handler import lambda_handler
    from timer_service_local.lambda_context import LocalContext
    from timer_service_local.queue_worker import sqs_event

    # GIVEN a firing whose webhook ran, but whose message was not deleted (the function died)
    webhook_timer(call_api, receiver, "t", delivery=delivery)
    firing = Firing(ALICE, "t", 1, int(time.time()))
    body = firing.to_message()
    signature = {"DataType": "String", "StringValue": signer().sign(body)}
    sqs().send_message(
        QueueUrl=pipeline.dispatch_queue_url,
        MessageBody=body,
        MessageAttributes={SIGNATURE_ATTRIBUTE: signature},
    )
    (message,) = sqs().receive_message(
        QueueUrl=pipeline.dispatch_queue_url,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )["Messages"]
    lambda_handler(sqs_event([message]), LocalContext())
    # WHEN SQS delivers the same message again
    message["Attributes"]["ApproximateReceiveCount"] = "2"
    lambda_handler(sqs_event([message]), LocalContext())
    # THEN deduplicated delivery runs the job once; atLeastOnce runs it again (counted)
    assert len(receiver.requests) == runs


def test_a_callback_that_crashes_mid_job_retries_and_completes_once(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    # GIVEN a deduplicated webhook whose first attempt fails after reaching the target
    receiver.status = 500
    webhook_timer(call_api, receiver, "t", delivery="deduplicated")
    call_api("POST", "/periodic/t/trigger")
    consume(pipeline)
    failed_attempts = len(receiver.requests)
    # WHEN the message comes back (after its backoff) and the target answers
    receiver.status = 200
    pipeline.clock.advance(1.2)
    consume(pipeline)
    consume(pipeline)  # and once more: nothing left to run
    # THEN the job completed exactly once after its failed tries
    assert failed_attempts == 3  # the webhook's quick in-process retries
    assert len(receiver.requests) == failed_attempts + 1
