"""Failure alerts through the API, SQS and the callbacks on moto, with the real ``notify`` job
type: a webhook job failing against one local server alerts another, once per streak; and the
alert's target is held to the same SSRF guard as every job."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from loadtest.stack import WebhookReceiver
from tests.conftest import ALICE, ApiCall, AwsResources, set_settings, signer
from tests.functional.conftest import consume, sqs


@pytest.fixture
def alerts_box() -> Iterator[WebhookReceiver]:
    box = WebhookReceiver()
    yield box
    box.close()


def scheduled_firings(aws: AwsResources, timer_id: str, count: int) -> None:
    """``count`` scheduled firings of the timer, a second apart, as a tick would send them."""
    from timer_service.clock import SystemClock
    from timer_service.dispatch import Firing, SqsDispatchQueue

    queue = SqsDispatchQueue(sqs(), aws.dispatch_queue_url, clock=SystemClock(), signer=signer())
    start = int(time.time()) - 100
    queue.send([Firing(ALICE, timer_id, 1, start + n) for n in range(count)])


def test_a_failing_webhook_alerts_once_per_streak_and_on_recovery(
    pipeline: AwsResources,
    call_api: ApiCall,
    receiver: WebhookReceiver,
    alerts_box: WebhookReceiver,
) -> None:
    # GIVEN a webhook timer whose target answers 503, alerting another server after 2 failures
    receiver.status = 503
    body = {
        "schedule": "rate(1 hour)",
        "jobType": "webhook",
        "job": {"url": f"{receiver.url}/job"},
        "alerts": {"webhookUrl": f"{alerts_box.url}/alerts", "afterFailures": 2},
    }
    assert call_api("PUT", "/periodic/w", body).status == 201
    # WHEN three firings fail (each tried twice: six failed runs)
    scheduled_firings(pipeline, "w", 3)
    consume(pipeline, rounds=6)
    # THEN one notice said it is failing
    events = [json.loads(r.body)["event"] for r in alerts_box.requests]
    assert events == ["failing"]
    notice = json.loads(alerts_box.requests[0].body)
    assert notice["timerId"] == "w" and "HTTP 503" in notice["summary"]
    assert call_api("GET", "/periodic/w").body["failures"] >= 2
    # AND once its target answers again, one notice says it recovered
    receiver.status = 200
    from timer_service.clock import SystemClock
    from timer_service.dispatch import Firing, SqsDispatchQueue

    queue = SqsDispatchQueue(
        sqs(), pipeline.dispatch_queue_url, clock=SystemClock(), signer=signer()
    )
    queue.send([Firing(ALICE, "w", 1, int(time.time()))])
    consume(pipeline, rounds=2)
    events = [json.loads(r.body)["event"] for r in alerts_box.requests]
    assert events == ["failing", "recovered"]
    assert call_api("GET", "/periodic/w").body["failures"] == 0


def test_alerts_to_a_private_address_are_blocked_like_any_job_s_connection(
    pipeline: AwsResources,
    call_api: ApiCall,
    alerts_box: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from timer_service.settings import Settings

    # GIVEN a stack that keeps jobs off private addresses, and a timer whose job fails
    set_settings(
        monkeypatch, **(Settings.from_env().model_dump() | {"allow_private_targets": False})
    )
    body = {
        "schedule": "rate(1 hour)",
        "jobType": "webhook",
        "job": {"url": "https://203.0.113.9/unreachable"},  # TEST-NET-3: fails, never answers
        "alerts": {"webhookUrl": f"{alerts_box.url}/alerts", "afterFailures": 1},
        "pauseAfterFailures": 1,
    }
    assert call_api("PUT", "/periodic/p", body).status == 201
    # WHEN it fails
    scheduled_firings(pipeline, "p", 1)
    consume(pipeline, rounds=2)
    # THEN its alert to 127.0.0.1 was refused by the guard: nothing reached that server
    assert alerts_box.requests == []
    # AND it was paused after its failure, saying why
    view = call_api("GET", "/periodic/p").body
    assert view["enabled"] is False and "failed runs in a row" in view["pausedReason"]


def test_alerts_mistakes_are_400s_naming_the_field(call_api: ApiCall) -> None:
    for alerts, field in (
        ({"webhookUrl": "not a url"}, "alerts.webhookUrl"),
        ({"afterFailures": 0}, "alerts.afterFailures"),
        ({"apprise": ["nosuchscheme://x"]}, "alerts.apprise.0"),
        ({"snsTopicArn": "arn:aws:sqs:us-east-1:123456789012:q"}, "alerts.snsTopicArn"),
        ({"pagerduty": "x"}, "alerts.pagerduty"),
    ):
        answer = call_api("PUT", "/periodic/bad", {"alerts": alerts})
        assert answer.status == 400, answer.body
        assert answer.body["error"]["field"] == field, answer.body
    for body, field in (
        ({"pauseAfterFailures": 0}, "pauseAfterFailures"),
        ({"overlap": "queue"}, "overlap"),
    ):
        answer = call_api("PUT", "/periodic/bad", body)
        assert answer.status == 400 and answer.body["error"]["field"] == field, answer.body
