"""Dead letters on a running `timer-service dev` with two tenants: what was broken on main
(a tenant's letters hidden by another's, a failing redrive picked up again and again)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from loadtest.stack import StackProcess, WebhookReceiver

pytestmark = pytest.mark.e2e

ALICE, BOB = {"X-Api-Key": "alice-key"}, {"X-Api-Key": "bob-key"}


def letters(stack: StackProcess, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = httpx.get(f"{stack.url}/dlq", params={"limit": 100}, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def wait_for(condition: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)


def fail_firings(stack: StackProcess, headers: dict[str, str], url: str, count: int) -> None:
    for n in range(count):
        body = {"schedule": "rate(1 hour)", "jobType": "webhook", "job": {"url": f"{url}/{n}"}}
        assert httpx.put(f"{stack.url}/periodic/t{n}", json=body, headers=headers).is_success
        triggered = httpx.post(f"{stack.url}/periodic/t{n}/trigger", headers=headers)
        assert triggered.status_code == 202


def test_each_tenant_redrives_all_its_letters_once_while_the_callbacks_run(
    local_stack: Callable[..., StackProcess], receiver: WebhookReceiver
) -> None:
    # GIVEN two tenants whose webhooks answer 404 (permanent): bob 14 dead letters, alice 21
    stack = local_stack(
        *("--api-key", "alice-key", "--api-key", "bob-key", "--allow-private-targets"),
        *("--rate-limit", "0", "--shards", "1", "--quiet"),
    )
    receiver.status = 404
    fail_firings(stack, BOB, f"{receiver.url}/bob", 14)
    fail_firings(stack, ALICE, f"{receiver.url}/alice", 21)
    wait_for(lambda: len(letters(stack, BOB)) == 14 and len(letters(stack, ALICE)) == 21)
    alice_calls = sum(1 for r in receiver.requests if r.path.startswith("/alice"))
    # WHEN alice redrives, with the callbacks failing each firing again as it arrives
    started = time.monotonic()
    answer = httpx.post(f"{stack.url}/dlq/redrive", headers=ALICE, timeout=30)
    elapsed_s = time.monotonic() - started
    # THEN each of hers went back once, in one quick call, and came back as a letter once
    assert answer.json() == {"redriven": 21, "more": False}
    assert elapsed_s < 5
    wait_for(lambda: sum(1 for r in receiver.requests if r.path.startswith("/alice")) >= 42)
    wait_for(lambda: len(letters(stack, ALICE)) == 21)
    time.sleep(1)  # nothing more arrives
    assert sum(1 for r in receiver.requests if r.path.startswith("/alice")) == alice_calls + 21
    # AND bob's are all there, untouched
    assert len(letters(stack, BOB)) == 14
    assert all(item["receiveCount"] == 1 for item in letters(stack, BOB))
