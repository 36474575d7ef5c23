"""``POST /periodic/{id}/backfill`` through the API, SQS and the callbacks on moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from loadtest.stack import WebhookReceiver
from tests.conftest import ApiCall, AwsResources
from tests.functional.conftest import consume, runs, webhook_timer


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(int(epoch_s), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_at(receiver: WebhookReceiver) -> list[str]:
    return sorted(json.loads(r.body)["scheduledAt"] for r in receiver.requests)


def test_backfill_fires_the_interval_once_and_again_only_when_not_deduplicated(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    # GIVEN two minute-rate webhooks, one deduplicated, keeping all their runs
    for timer_id, delivery in (("dedup", "deduplicated"), ("plain", "atLeastOnce")):
        webhook_timer(
            call_api,
            receiver,
            timer_id,
            schedule="rate(1 minute)",
            delivery=delivery,
            history="all",
        )
    now_s = pipeline.clock.now()
    body = {"from": iso(now_s - 3600), "to": iso(now_s - 3600 + 300)}
    # WHEN the same past five minutes are backfilled twice, each time delivered
    for _ in range(2):
        for timer_id in ("dedup", "plain"):
            answer = call_api("POST", f"/periodic/{timer_id}/backfill", body)
            assert answer.status == 202, answer.body
            assert answer.body["backfilled"] == 5
            assert answer.body["more"] is False
        consume(pipeline, rounds=2)
    # THEN the deduplicated one ran each scheduled time once, the other twice
    dedup = [r for r in receiver.requests if r.path == "/hook/dedup"]
    plain = [r for r in receiver.requests if r.path == "/hook/plain"]
    assert (len(dedup), len(plain)) == (5, 10)
    firing_ids = {r.headers["X-Timer-Firing-Id"] for r in dedup}
    assert len(firing_ids) == 5 and all(i.endswith("~backfill") for i in firing_ids)
    # AND its runs say backfill, at their own scheduled times
    kept = runs(call_api, "dedup")
    assert len(kept) == 5
    assert all(run["backfill"] and run["latenessMs"] is None for run in kept)
    assert sorted(run["scheduledAt"] for run in kept) == sorted(
        json.loads(r.body)["scheduledAt"] for r in dedup
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2026-01-01T00:00:00Z"}, "to"),
        ({"to": "2026-01-01T00:00:00Z"}, "from"),
        ({"from": "yesterday", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"from": 5, "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2199-01-01T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "by": 1}, "by"),
    ],
    ids=["no to", "no from", "from not a date", "from a number", "to first", "future", "extra"],
)
def test_backfill_mistake_is_a_400_naming_the_field_and_sends_nothing(
    pipeline: AwsResources, call_api: ApiCall, body: dict[str, Any], field: str
) -> None:
    assert call_api("PUT", "/periodic/t", {"schedule": "rate(1 hour)"}).status == 201
    answer = call_api("POST", "/periodic/t/backfill", body)
    assert answer.status == 400, answer.body
    assert answer.body["error"]["field"] == field
    assert consume(pipeline) == 0


def test_backfill_of_an_unknown_timer_is_a_404(call_api: ApiCall) -> None:
    body = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
    assert call_api("POST", "/periodic/nope/backfill", body).status == 404


def test_backfill_is_in_the_openapi_document_with_its_202(call_api: ApiCall) -> None:
    document = call_api("GET", "/openapi.json").body
    operation = document["paths"]["/periodic/{id}/backfill"]["post"]
    assert {"202", "400", "404"} <= set(operation["responses"])
    schema = document["components"]["schemas"]["BackfillRequest"]
    assert set(schema["required"]) == {"from", "to"}
