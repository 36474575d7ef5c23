"""``timer-service dev --allow-private-targets`` fires webhooks on their second."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from loadtest.stack import StackProcess, WebhookReceiver

pytestmark = pytest.mark.e2e

ON_TIME_S = 1.5  # receipt within this of scheduledAt counts as "on its second" here


def at(epoch_s: float) -> str:
    return datetime.fromtimestamp(int(epoch_s), tz=UTC).strftime("at(%Y-%m-%dT%H:%M:%S)")


def scheduled(body: dict[str, object]) -> float:
    return datetime.fromisoformat(str(body["scheduledAt"]).replace("Z", "+00:00")).timestamp()


@pytest.mark.wall_clock  # minutes: waits for the stack's minute ticks
def test_webhooks_fire_on_their_second_and_deleted_or_paused_do_not(
    local_stack: Callable[..., StackProcess], receiver: WebhookReceiver
) -> None:
    stack = local_stack("--allow-private-targets", "--quiet")

    def put(timer_id: str, schedule: str) -> dict[str, object]:
        response = httpx.put(
            f"{stack.url}/periodic/{timer_id}",
            json={
                "schedule": schedule,
                "jobType": "webhook",
                "job": {"url": f"{receiver.url}/{timer_id}"},
                "timerCallbackData": {"id": timer_id},
            },
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    created_s = time.time()
    one_shot_s = int(created_s) + 70
    put("one-shot", at(one_shot_s))
    rate = put("rate", "rate(1 minute)")
    put("deleted", at(one_shot_s))
    put("paused", "rate(1 minute)")
    assert httpx.delete(f"{stack.url}/periodic/deleted").status_code == 200
    assert httpx.post(f"{stack.url}/periodic/paused/pause").status_code == 200

    rate_fires = [
        datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
        for s in rate["nextFireTimes"][:2]  # type: ignore[union-attr]
    ]
    time.sleep(max(0.0, rate_fires[0] + 3 - time.time()))
    assert not [r for r in receiver.requests if r.path == "/paused"]
    resumed = httpx.post(f"{stack.url}/periodic/paused/resume").json()
    paused_next = datetime.fromisoformat(resumed["nextFireTimes"][0].replace("Z", "+00:00"))
    time.sleep(max(0.0, max(rate_fires[1], paused_next.timestamp(), one_shot_s) + 3 - time.time()))

    by_path: dict[str, list[tuple[float, float]]] = {}
    for request in receiver.requests:
        body = json.loads(request.body)
        by_path.setdefault(request.path, []).append((scheduled(body), request.at_s))
    assert "/deleted" not in by_path
    assert [s for s, _ in by_path["/one-shot"]] == [one_shot_s]
    assert [s for s, _ in by_path["/rate"]] == rate_fires
    assert [s for s, _ in by_path["/paused"]] == [paused_next.timestamp()]
    for path, firings in by_path.items():
        for scheduled_s, received_s in firings:
            lateness_s = received_s - scheduled_s
            assert 0 <= lateness_s < ON_TIME_S, (path, lateness_s)
    assert stack.stop() == 0
