"""A heartbeat timer on ``timer-service dev``: pinged with a plain GET (no API key), it fires its
webhook once when a ping is late, on the deadline's second, and the next ping recovers it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from loadtest.stack import StackProcess, WebhookReceiver, start_stack

pytestmark = pytest.mark.e2e

KEY = {"X-Api-Key": "k1"}
ON_TIME_S = 1.5  # as tests/e2e/test_firing.py: receipt within this of the deadline
PERIOD_S, GRACE_S = 60, 30  # the shortest period: a minute, as Healthchecks.io's


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """One keyed stack for the module (a ping needs no key; the API does)."""
    started = start_stack(
        "--allow-private-targets", "--quiet", "--api-key", "k1", cwd=tmp_path_factory.mktemp("hb")
    )
    yield started
    started.kill()


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def put_heartbeat(stack: StackProcess, receiver: WebhookReceiver, timer_id: str) -> str:
    body: dict[str, Any] = {
        "heartbeat": {"periodSeconds": PERIOD_S, "graceSeconds": GRACE_S},
        "jobType": "webhook",
        "job": {"url": f"{receiver.url}/{timer_id}"},
    }
    created = httpx.put(f"{stack.url}/periodic/{timer_id}", json=body, headers=KEY)
    assert created.status_code == 201, created.text
    ping_url = str(created.json()["pingUrl"])
    assert ping_url.startswith(f"{stack.url}/ping/")
    return ping_url


@pytest.mark.wall_clock  # a minute and a half: a deadline of period + grace
def test_missed_heartbeat_fires_once_on_its_deadline_and_the_next_ping_recovers(
    stack: StackProcess, receiver: WebhookReceiver
) -> None:
    # GIVEN two heartbeats, each pinged as a cron job would (GET, no API key)
    late_url = put_heartbeat(stack, receiver, "late")
    steady_url = put_heartbeat(stack, receiver, "steady")
    pinged = httpx.get(late_url)
    assert pinged.status_code == 200, pinged.text
    deadline_s = epoch(pinged.json()["deadline"])
    assert httpx.post(steady_url, content=b"backup done").status_code == 200
    # WHEN "late" is not pinged again, and "steady" is, every 30 s, past the deadline
    while time.time() < deadline_s + 5:
        time.sleep(min(30.0, max(0.1, deadline_s + 5 - time.time())))
        assert httpx.get(steady_url).status_code == 200
    # THEN "late" fired its webhook once, on its deadline; "steady" never did
    fired = [(json.loads(r.body), r.at_s) for r in receiver.requests]
    assert [r.path for r in receiver.requests] == ["/late"]
    ((body, received_s),) = fired
    assert epoch(body["scheduledAt"]) == deadline_s
    assert 0 <= received_s - deadline_s < ON_TIME_S
    # AND it reads down, its run says missed; the next ping recovers it, recorded
    timer = httpx.get(f"{stack.url}/periodic/late", headers=KEY).json()
    assert timer["heartbeat"]["status"] == "down"
    again = httpx.get(late_url).json()
    assert again["recovered"] is True
    runs = httpx.get(f"{stack.url}/periodic/late/runs", headers=KEY).json()["items"]
    assert [(r["heartbeat"], r["outcome"]) for r in runs] == [("recovered", "ok"), ("missed", "ok")]
    assert (
        httpx.get(f"{stack.url}/periodic/late", headers=KEY).json()["heartbeat"]["status"] == "up"
    )
    assert httpx.get(f"{stack.url}/periodic/steady/runs", headers=KEY).json()["items"] == []
