"""``timer-service dev``: second rates, jitter and completion with delete, on the wall clock."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime

import httpx
import pytest

from loadtest.stack import StackProcess, WebhookReceiver

pytestmark = pytest.mark.e2e

ON_TIME_S = 1.5  # receipt within this of the time it is due counts as on time here


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.mark.wall_clock  # about 90 s: waits for a minute rate's jittered firing
def test_second_rates_fire_each_second_jitter_holds_and_a_spent_timer_deletes_itself(
    local_stack: Callable[..., StackProcess], receiver: WebhookReceiver
) -> None:
    stack = local_stack("--allow-private-targets", "--quiet")

    def put(timer_id: str, **fields: object) -> dict[str, object]:
        body = {
            "jobType": "webhook",
            "job": {"url": f"{receiver.url}/{timer_id}"},
            "history": "all",
            **fields,
        }
        response = httpx.put(f"{stack.url}/periodic/{timer_id}", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    # GIVEN a rate(1 second) timer of 20 firings, a rate(5 seconds) one of 8 that deletes
    # itself when done, and a minute rate with a 20-second jitter window
    put("second", schedule="rate(1 second)", maxFirings=20)
    fives = put("fives", schedule="rate(5 seconds)", maxFirings=8, onComplete="delete")
    jittered = put("jittered", schedule="rate(1 minute)", jitterSeconds=20)
    first_run_s = epoch(jittered["nextRunTimes"][0])  # type: ignore[index]
    assert 0 <= first_run_s - epoch(jittered["nextFireTimes"][0]) <= 20  # type: ignore[index]
    last_fives_s = epoch(fives["nextFireTimes"][0]) + 7 * 5  # type: ignore[index]
    time.sleep(max(0.0, max(first_run_s, last_fives_s) + 4 - time.time()))

    received: dict[str, list[tuple[float, float]]] = {}
    for request in receiver.requests:
        body = json.loads(request.body)
        received.setdefault(request.path, []).append((epoch(body["scheduledAt"]), request.at_s))
    # THEN the second rate fired on 20 consecutive seconds, once each, then completed
    seconds = sorted(s for s, _ in received["/second"])
    assert seconds == [seconds[0] + n for n in range(20)]
    second = httpx.get(f"{stack.url}/periodic/second").json()
    assert (second["state"], second["firingsLeft"]) == ("completed", 0)
    # AND the 5-second rate fired 8 times, 5 s apart, and is gone, its runs still listed
    fives_at = sorted(s for s, _ in received["/fives"])
    assert fives_at == [fives_at[0] + 5 * n for n in range(8)]
    assert httpx.get(f"{stack.url}/periodic/fives").status_code == 404
    runs = httpx.get(f"{stack.url}/periodic/fives/runs", params={"limit": "50"}).json()["items"]
    assert len(runs) == 8 and {r["outcome"] for r in runs} == {"ok"}
    # AND every firing reached its webhook on time, never early
    for path in ("/second", "/fives"):
        for scheduled_s, at_s in received[path]:
            assert 0 <= at_s - scheduled_s < ON_TIME_S, (path, at_s - scheduled_s)
    # AND the jittered firing kept its scheduled time and ran at its offset, not before
    [(scheduled_s, at_s)] = received["/jittered"]
    [run] = httpx.get(f"{stack.url}/periodic/jittered/runs").json()["items"]
    offset = run["offsetSeconds"] or 0
    assert scheduled_s + offset == first_run_s
    assert 0 <= at_s - first_run_s < ON_TIME_S, at_s - first_run_s
    assert stack.stop() == 0
