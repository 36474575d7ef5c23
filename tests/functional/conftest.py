"""Fixtures of the functional tests: the Lambda handlers wired to moto for a firing's trip."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from loadtest.stack import WebhookReceiver
from tests.conftest import ApiCall, AwsResources, set_settings
from tests.pages import PageServer

SECRET = "s3cret"


@pytest.fixture
def pipeline(aws: AwsResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsResources]:
    """The callback Lambda configured for tests: private targets allowed, fast retries."""
    import ticker.handler
    from timer_service.aws import client
    from timer_service.provisioning import create_idempotency_table, create_queues

    create_idempotency_table(client("dynamodb", "us-east-1", aws.endpoint_url), "idem-test")
    create_queues(client("sqs", "us-east-1", aws.endpoint_url), "timers-test", max_receive_count=2)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    set_settings(
        monkeypatch,
        idempotency_table="idem-test",
        allow_private_targets=True,
        webhook_signing_secret=SECRET,
        max_attempts=2,
        retry_base_s=1,
    )
    yield aws
    ticker.handler.use_engine(None)


def sqs() -> Any:
    from timer_service.aws import sqs_client
    from timer_service.settings import Settings

    return sqs_client(Settings.from_env())


def consume(aws: AwsResources, *, rounds: int = 1) -> int:
    """Run the callback Lambda on what the dispatch queue holds now, like the event source."""
    from callbacks.handler import lambda_handler
    from timer_service_local.queue_worker import QueueWorker

    worker = QueueWorker(sqs(), aws.dispatch_queue_url, lambda_handler, wait_s=0)
    return sum(worker.poll_once() for _ in range(rounds))


def webhook_timer(
    call_api: ApiCall, receiver: WebhookReceiver, timer_id: str, **extra: Any
) -> None:
    body = {
        "schedule": "rate(1 hour)",
        "jobType": "webhook",
        "job": {"url": f"{receiver.url}/hook/{timer_id}"},
        "timerCallbackData": {"timer": timer_id},
    } | extra
    assert call_api("PUT", f"/periodic/{timer_id}", body).status == 201


def trigger(call_api: ApiCall, aws: AwsResources, timer_id: str) -> dict[str, Any]:
    """POST /trigger in a second of its own (a new firing), then run the callback Lambda on
    it: the trigger's answer."""
    aws.clock.next_second()
    answer = call_api("POST", f"/periodic/{timer_id}/trigger")
    assert answer.status == 202, answer.body
    consume(aws)
    return dict(answer.body)


def runs(call_api: ApiCall, timer_id: str, **query: str) -> list[dict[str, Any]]:
    answer = call_api("GET", f"/periodic/{timer_id}/runs", query=query or None)
    assert answer.status == 200, answer.body
    return list(answer.body["items"])


@pytest.fixture
def pages() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.close()


def dead_letters_api(call_api: ApiCall, **query: str) -> list[dict[str, Any]]:
    """GET /dlq: the caller's dead letters, newest first."""
    answer = call_api("GET", "/dlq", query=query or None)
    assert answer.status == 200, answer.body
    return list(answer.body["items"])


def dead_letter_box(aws: AwsResources) -> Any:
    """The stack's dead letters as the callbacks write them (timer_service.dead_letters)."""
    from timer_service import wiring
    from timer_service.settings import Settings

    return wiring.dead_letters(Settings.from_env(), aws.clock)


def consume_until(aws: AwsResources, done: Any, *, seconds: int = 30) -> None:
    """Run the callback Lambda on the dispatch queue, a second later each time (a retry waits
    out its backoff on the clock), until ``done()`` holds."""
    for _ in range(seconds):
        if done():
            return
        consume(aws)
        aws.clock.advance(1.0)
    assert done(), f"not done after {seconds} s"
