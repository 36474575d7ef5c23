"""Ticker and callback Lambdas against moto: firings reach webhooks and queues, once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from loadtest.stack import WebhookReceiver
from tests.conftest import ALICE, ApiCall, AwsResources, set_settings, signer
from tests.functional.conftest import (
    SECRET,
    consume,
    consume_until,
    dead_letters_api,
    sqs,
    webhook_timer,
)
from timer_service.clock import SystemClock
from timer_service.dispatch import Firing, SqsDispatchQueue
from timer_service_local.lambda_context import LocalContext


def test_trigger_delivers_a_signed_webhook(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    webhook_timer(call_api, receiver, "hook-1")
    triggered = call_api("POST", "/periodic/hook-1/trigger")
    assert triggered.status == 202
    consume(pipeline)
    (request,) = receiver.requests
    assert request.path == "/hook/hook-1"
    body = json.loads(request.body)
    assert body["timerId"] == "hook-1"
    assert body["timerCallbackData"] == {"timer": "hook-1"}
    assert body["attempt"] == 1
    assert body["scheduledAt"] == triggered.body["scheduledAt"]
    assert request.headers["X-Timer-Firing-Id"] == triggered.body["firingId"]
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Timer-Signature"] == f"sha256={expected}"


def test_sqs_job_sends_callback_data_to_the_output_queue(
    pipeline: AwsResources, call_api: ApiCall
) -> None:
    call_api("PUT", "/periodic/plain", {"timerCallbackData": {"orderId": 42}})
    call_api("POST", "/periodic/plain/trigger")
    consume(pipeline)
    response = sqs().receive_message(
        QueueUrl=pipeline.output_queue_url, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    (message,) = response["Messages"]
    assert json.loads(message["Body"]) == {"orderId": 42}
    assert message["MessageAttributes"]["timerId"]["StringValue"] == "plain"
    assert message["MessageAttributes"]["firingId"]["StringValue"].startswith(f"{ALICE}#plain@")


def test_firing_of_a_deleted_timer_is_skipped(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    webhook_timer(call_api, receiver, "gone")
    call_api("POST", "/periodic/gone/trigger")
    call_api("DELETE", "/periodic/gone")
    consume(pipeline)
    assert receiver.requests == []


def test_firing_made_before_a_pause_is_skipped(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    from timer_service.clock import SystemClock
    from timer_service.dispatch import Firing, SqsDispatchQueue

    webhook_timer(call_api, receiver, "pausing")
    queue = SqsDispatchQueue(
        sqs(), pipeline.dispatch_queue_url, clock=SystemClock(), signer=signer()
    )
    queue.send([Firing(ALICE, "pausing", 1, int(time.time()))])
    call_api("POST", "/periodic/pausing/pause")
    consume(pipeline)
    assert receiver.requests == []


def test_failing_webhook_is_retried_then_dead_lettered(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    receiver.status = 503
    webhook_timer(call_api, receiver, "flaky")
    call_api("POST", "/periodic/flaky/trigger")
    consume_until(pipeline, lambda: dead_letters_api(call_api))
    (dead,) = dead_letters_api(call_api)
    assert dead["receiveCount"] == 2 and "retries exhausted" in dead["error"]
    attempts = [json.loads(r.body)["attempt"] for r in receiver.requests]
    assert attempts[0] == 1 and attempts[-1] == 2  # each delivery retried quickly in process
    assert len(receiver.requests) == 2 * 3


def test_client_error_goes_to_dlq_at_once_and_can_be_redriven(
    pipeline: AwsResources,
    call_api: ApiCall,
    receiver: WebhookReceiver,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from timer_service_cli.main import main

    receiver.status = 404
    webhook_timer(call_api, receiver, "missing-page")
    call_api("POST", "/periodic/missing-page/trigger")
    consume(pipeline)
    assert len(receiver.requests) == 1
    (dead,) = dead_letters_api(call_api)
    assert "HTTP 404" in dead["error"]
    assert main(["dlq", "--state-dir", str(tmp_path), "list"]) == 0
    listed = capsys.readouterr().out
    assert "missing-page" in listed and "HTTP 404" in listed
    assert "1 firings in the dead-letter queue" in listed
    receiver.status = 200
    assert main(["dlq", "--state-dir", str(tmp_path), "redrive"]) == 0
    consume(pipeline)
    assert len(receiver.requests) == 2
    assert dead_letters_api(call_api) == []


def test_webhook_to_loopback_is_blocked_without_private_targets(
    pipeline: AwsResources,
    call_api: ApiCall,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_settings(monkeypatch, allow_private_targets=False)
    webhook_timer(call_api, receiver, "ssrf")
    call_api("POST", "/periodic/ssrf/trigger")
    consume(pipeline)
    assert receiver.requests == []
    (dead,) = dead_letters_api(call_api)
    assert "not a public address" in dead["error"]


def test_deduplicated_delivery_runs_a_firing_once(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    from timer_service.clock import SystemClock
    from timer_service.dispatch import Firing, SqsDispatchQueue

    webhook_timer(call_api, receiver, "once", delivery="deduplicated")
    webhook_timer(call_api, receiver, "twice")
    queue = SqsDispatchQueue(
        sqs(), pipeline.dispatch_queue_url, clock=SystemClock(), signer=signer()
    )
    now_s = int(time.time())
    firings = [Firing(ALICE, "once", 1, now_s), Firing(ALICE, "twice", 1, now_s)]
    queue.send(firings + firings)  # the same firings delivered twice
    consume(pipeline, rounds=2)
    paths = sorted(r.path for r in receiver.requests)
    assert paths == ["/hook/once", "/hook/twice", "/hook/twice"]


def test_ticker_sends_due_firings_that_the_callbacks_deliver(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    import api.handler
    import ticker.handler
    from timer_service.aws import client
    from timer_service.clock import FixedClock
    from timer_service.dispatch import SqsDispatchQueue
    from timer_service.job_types import JobTypeRegistry
    from timer_service.service import TimerService
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service.tick import TickEngine

    # GIVEN timers created a minute before they fire (2030-01-01T00:00:30 UTC)
    fire_s = int(datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC).timestamp())
    clock = FixedClock(fire_s - 90)
    store = DynamoTimerStore(client("dynamodb", "us-east-1", pipeline.endpoint_url), pipeline.table)
    queue = SqsDispatchQueue(sqs(), pipeline.dispatch_queue_url, clock=clock, signer=signer())
    api.handler.use_service(
        TimerService(
            store=store, clock=clock, job_types=JobTypeRegistry.from_entry_points(), queue=queue
        )
    )
    try:
        webhook_timer(call_api, receiver, "one-shot", schedule="at(2030-01-01T00:00:30)")
        webhook_timer(call_api, receiver, "deleted", schedule="at(2030-01-01T00:00:30)")
        webhook_timer(call_api, receiver, "cron", schedule="cron(0 0 1 1 ? 2030-2031)")
        call_api("DELETE", "/periodic/deleted")
    finally:
        api.handler.use_service(None)
    # WHEN the tick runs just as the firings are due
    clock.set(fire_s + 1)
    ticker.handler.use_engine(TickEngine(store=store, queue=queue, clock=clock))
    report = ticker.handler.lambda_handler({"shard": 0}, LocalContext())
    assert report["sent"] == 2
    consume(pipeline)
    # THEN the live timers' webhooks are called; the cron's next year is indexed
    assert sorted(r.path for r in receiver.requests) == ["/hook/cron", "/hook/one-shot"]
    next_year = int(datetime(2031, 1, 1, tzinfo=UTC).timestamp())
    items = [i for i in pipeline.scan() if i["pk"]["S"] == f"S#0#M#{next_year // 60}"]
    assert len(items) == 1
    assert report["successors"] == 1


def test_a_message_the_service_did_not_sign_is_never_run(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    from timer_service.messages import MessageSigner

    # GIVEN alice's timer, and messages naming it that the service did not make: no
    # signature, a signature by another key, a signed body with its version changed
    webhook_timer(call_api, receiver, "target")
    body = Firing(ALICE, "target", 1, int(time.time())).to_message()
    forged = [
        {},
        {"sig": {"DataType": "String", "StringValue": MessageSigner("x" * 32).sign(body)}},
        {
            "sig": {
                "DataType": "String",
                "StringValue": signer().sign(body.replace('"v":1', '"v":2')),
            }
        },
    ]
    for attributes in forged:
        sqs().send_message(
            QueueUrl=pipeline.dispatch_queue_url, MessageBody=body, MessageAttributes=attributes
        )
    sqs().send_message(QueueUrl=pipeline.dispatch_queue_url, MessageBody="not json")
    # WHEN the callbacks take them
    assert consume(pipeline) == 4
    # THEN none ran, none is anyone's dead letter, and none comes back
    assert receiver.requests == []
    assert dead_letters_api(call_api) == []
    assert call_api("GET", "/periodic/target/runs").body["items"] == []
    assert sqs().receive_message(QueueUrl=pipeline.dispatch_queue_url).get("Messages", []) == []
    # AND the same body signed by the service does run
    queue = SqsDispatchQueue(
        sqs(), pipeline.dispatch_queue_url, clock=SystemClock(), signer=signer()
    )
    queue.send([Firing.from_message(body)])
    consume(pipeline)
    assert [r.path for r in receiver.requests] == ["/hook/target"]


def test_a_pack_runs_each_firing_once_and_retries_a_failed_one_alone(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    from timer_service.clock import SystemClock
    from timer_service.dispatch import Firing, SqsDispatchQueue

    # GIVEN three timers firing in the same second, one of whose targets refuses connections
    webhook_timer(call_api, receiver, "a")
    webhook_timer(call_api, receiver, "b")
    body = {"schedule": "rate(1 hour)", "jobType": "webhook", "job": {"url": "http://127.0.0.1:9/"}}
    assert call_api("PUT", "/periodic/down", body).status == 201
    due_s = int(time.time())
    queue = SqsDispatchQueue(
        sqs(), pipeline.dispatch_queue_url, clock=SystemClock(), signer=signer()
    )
    queue.send([Firing(ALICE, timer_id, 1, due_s) for timer_id in ("a", "b", "down")])
    assert queue.calls == 1
    # one message carries all three (counted, not received: a receive is a delivery attempt,
    # and with MAX_ATTEMPTS 2 the callback's first would be the last, never retried alone)
    attributes = sqs().get_queue_attributes(
        QueueUrl=pipeline.dispatch_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"
    # WHEN the callbacks run until nothing is left
    consume_until(pipeline, lambda: dead_letters_api(call_api))
    # THEN the good ones ran once, the failing one was retried alone until MAX_ATTEMPTS (2),
    # then dead-lettered as a firing of its own
    assert sorted(r.path for r in receiver.requests) == ["/hook/a", "/hook/b"]
    (dead,) = dead_letters_api(call_api)
    assert dead["timerId"] == "down"
    assert "retries exhausted" in dead["error"]
    runs = call_api("GET", "/periodic/down/runs").body["items"]  # one run per attempt
    assert [(r["attempt"], r["outcome"]) for r in runs] == [(2, "error"), (1, "error")]
    assert runs[0]["summary"].endswith("(attempt 2; to the dead-letter queue)")
    assert runs[1]["summary"].endswith("(attempt 1; will retry)")


@dataclass
class HangingWebhook:
    """A webhook on 127.0.0.1 that records each call's path and answers only when released."""

    release: threading.Event = field(default_factory=threading.Event)
    arrived: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                hook.arrived.append(self.path.rsplit("/", 1)[-1])
                hook.release.wait(20)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def hanging() -> Iterator[HangingWebhook]:
    hook = HangingWebhook()
    yield hook
    hook.close()


def test_the_messages_of_a_batch_run_at_once(
    pipeline: AwsResources, call_api: ApiCall, hanging: HangingWebhook
) -> None:
    """Five webhooks that hang until released are all called before any is released. One
    message after another, a tenant's webhook that hangs for its whole deadline delayed every
    other firing of its batch, and ten such ran the function into its timeout: the whole batch
    again, the jobs that had succeeded included."""
    names = [f"hangs-{n}" for n in range(5)]
    for name in names:
        body = {
            "schedule": "rate(1 hour)",
            "jobType": "webhook",
            "job": {
                "url": f"{hanging.url}/{name}",
                "readTimeoutSeconds": 30,
                "totalTimeoutSeconds": 30,
            },
        }
        assert call_api("PUT", f"/periodic/{name}", body).status == 201
        assert call_api("POST", f"/periodic/{name}/trigger").status == 202
    consumer = threading.Thread(target=consume, args=(pipeline,))
    consumer.start()
    try:
        deadline = time.monotonic() + 15
        while len(hanging.arrived) < len(names) and time.monotonic() < deadline:
            time.sleep(0.05)
        before_release = sorted(hanging.arrived)
    finally:
        hanging.release.set()
        consumer.join(60)
    assert before_release == names
    assert sorted(hanging.arrived) == names  # and each ran once


def test_a_webhooks_total_timeout_bounds_the_whole_job_retries_included(
    hanging: HangingWebhook,
) -> None:
    """`totalTimeoutSeconds` is the job's deadline: before, each of three tries had it afresh,
    so a webhook that never answers ran three times as long as configured (plus pauses)."""
    from timer_service.testing import JobHarness

    harness = JobHarness()
    job = {"url": f"{hanging.url}/hangs", "readTimeoutSeconds": 1.5, "totalTimeoutSeconds": 2}
    harness.put("hangs", jobType="webhook", job=job)
    started = time.monotonic()
    run = harness.fire("hangs")
    elapsed = time.monotonic() - started
    assert run is not None and run.outcome == "error"
    assert "webhook failed after 1 try" in run.summary  # no retry could fit in what was left
    assert hanging.arrived == ["hangs"]
    assert elapsed < 3.5  # 2 s and the firing's bookkeeping; it was 5.7 s (3 x 1.5 + pauses)
