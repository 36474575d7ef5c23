"""``timer-service dev``: failure alerts and flow control, on the wall clock."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from loadtest.stack import StackProcess, WebhookReceiver
from tests.functional.test_flow_control import CountingServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def alerts_box() -> Iterator[WebhookReceiver]:
    box = WebhookReceiver()
    yield box
    box.close()


@pytest.fixture
def destination() -> Iterator[CountingServer]:
    server = CountingServer(delay_s=0.2)
    yield server
    server.close()


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(int(epoch_s), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.wall_clock  # about a minute
def test_a_failing_timer_alerts_once_and_recovers_and_a_shared_key_caps_concurrency(
    local_stack: Callable[..., StackProcess],
    receiver: WebhookReceiver,
    alerts_box: WebhookReceiver,
    destination: CountingServer,
) -> None:
    stack = local_stack("--allow-private-targets", "--quiet")
    # GIVEN a rate(5 seconds) webhook whose target answers 503, alerting after 2 failures
    receiver.status = 503
    failing = {
        "schedule": "rate(5 seconds)",
        "jobType": "webhook",
        "job": {"url": f"{receiver.url}/job"},
        "alerts": {"webhookUrl": f"{alerts_box.url}/alerts", "afterFailures": 2},
    }
    assert httpx.put(f"{stack.url}/periodic/failing", json=failing).status_code == 201
    # AND 20 webhooks due at the same seconds, sharing a key with maxConcurrency 3
    start_s = int(time.time()) + 15
    for n in range(20):
        body = {
            "schedule": "rate(10 seconds)",
            "startAt": iso(start_s),
            "endAt": iso(start_s + 10),  # two firings each: 40 requests
            "jobType": "webhook",
            "job": {"url": f"{destination.url}/hook"},
            "concurrencyKey": "one-server",
            "maxConcurrency": 3,
        }
        answer = httpx.put(f"{stack.url}/periodic/flow-{n}", json=body)
        assert answer.status_code == 201, answer.text
    # WHEN the failing timer has failed a few times, then its target answers again
    time.sleep(max(0.0, start_s + 25 - time.time()))
    receiver.status = 200
    deadline = time.time() + 40
    while time.time() < deadline and (len(destination.seen) < 40 or len(alerts_box.requests) < 2):
        time.sleep(0.5)
    # THEN one notice said it was failing and one that it recovered
    events = [json.loads(r.body)["event"] for r in alerts_box.requests]
    assert events == ["failing", "recovered"], events
    # AND the shared destination never had more than 3 requests at once, and got all 40
    assert destination.most <= 3
    assert len(destination.seen) == 40 == len(set(destination.seen))
    assert stack.stop() == 0
