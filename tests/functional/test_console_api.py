"""The API operations the console stands on: schedule previews and each owner's dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import ALICE, BOB, ApiCall, AwsResources
from tests.functional.conftest import dead_letter_box, sqs
from timer_service.dispatch import Firing


def test_preview_shows_the_next_firings_in_utc_and_in_the_zone(call_api: ApiCall) -> None:
    response = call_api(
        "POST",
        "/schedules/preview",
        {"schedule": "cron(30 9 ? * MON-FRI *)", "timezone": "Europe/Paris"},
    )
    assert response.status == 200, response.body
    body = response.body
    assert body["schedule"] == "cron(30 9 ? * MON-FRI *)"
    assert len(body["nextFireTimes"]) == len(body["nextFireTimesLocal"]) == 5
    for utc_text, local_text in zip(body["nextFireTimes"], body["nextFireTimesLocal"], strict=True):
        utc = datetime.fromisoformat(utc_text)
        local = datetime.fromisoformat(local_text)
        assert utc == local  # the same instant
        assert (local.hour, local.minute) == (9, 30)
        assert local.weekday() < 5
        assert local.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert body["nextFireTimes"] == sorted(body["nextFireTimes"])


def test_preview_matches_what_the_timer_then_has(call_api: ApiCall) -> None:
    spec = {"schedule": "rate(7 minutes)", "timezone": "Asia/Kolkata"}
    preview = call_api("POST", "/schedules/preview", spec | {"count": 3}).body
    timer = call_api("PUT", "/periodic/seven", spec).body
    assert len(preview["nextFireTimes"]) == 3
    first, second = (datetime.fromisoformat(t) for t in preview["nextFireTimes"][:2])
    assert second - first == timedelta(minutes=7)
    # created within the same second or the next: the same phase of the rate
    assert abs(datetime.fromisoformat(timer["nextFireTimes"][0]) - first) <= timedelta(seconds=1)


def test_preview_of_a_past_one_shot_is_empty(call_api: ApiCall) -> None:
    response = call_api("POST", "/schedules/preview", {"schedule": "at(2020-01-01T00:00:00)"})
    assert response.status == 200
    assert response.body["nextFireTimes"] == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"schedule": "cron(0 25 * * ? *)"}, "schedule", "25 is out of range"),
        ({"schedule": "rate(5 minutes)", "timezone": "Mars/Olympus"}, "timezone", "Mars"),
        ({"schedule": "rate(5 minutes)", "count": 21}, "count", "20"),
        ({"timezone": "UTC"}, "schedule", "required"),
        ({"schedule": "rate(5 minutes)", "jobType": "webhook"}, "jobType", "unknown field"),
        (
            {
                "schedule": "rate(5 minutes)",
                "startAt": "2030-01-02T00:00:00",
                "endAt": "2030-01-01T00:00:00",
            },
            "endAt",
            "later than startAt",
        ),
    ],
)
def test_a_preview_of_a_mistake_is_a_400_naming_the_field(
    call_api: ApiCall, body: dict[str, Any], field: str, words: str
) -> None:
    response = call_api("POST", "/schedules/preview", body)
    assert response.status == 400, response.body
    assert response.body["error"]["field"] == field
    assert words in response.body["error"]["message"]


def _drain(queue_url: str) -> list[Firing]:
    from timer_service.dispatch import firings_in

    found: list[Firing] = []
    while True:
        messages = (
            sqs().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        )
        if not messages:
            return found
        for message in messages:
            found += firings_in(message["Body"])
            sqs().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def dead_letters(aws: AwsResources) -> dict[str, Firing]:
    """Dead letters of two owners, two each."""
    s = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    firings = {
        "alice-alone": Firing(owner=ALICE, timer_id="a1", version=1, scheduled_s=s, raced=True),
        "bob-alone": Firing(owner=BOB, timer_id="b1", version=1, scheduled_s=s),
        "alice-packed": Firing(owner=ALICE, timer_id="a2", version=3, scheduled_s=s + 60),
        "bob-packed": Firing(owner=BOB, timer_id="b2", version=1, scheduled_s=s + 60),
    }
    box = dead_letter_box(aws)
    box.record(firings["alice-alone"], error="webhook answered 500", attempts=5)
    box.record(firings["bob-alone"], error="retries exhausted", attempts=5)
    box.record(firings["alice-packed"], error="timeout", attempts=5)
    box.record(firings["bob-packed"], error="timeout", attempts=5)
    return firings


def test_each_owner_sees_only_their_dead_letters(
    call_api: ApiCall, dead_letters: dict[str, Firing]
) -> None:
    alice = call_api("GET", "/dlq").body["items"]
    assert {item["firingId"] for item in alice} == {
        dead_letters["alice-alone"].firing_id,
        dead_letters["alice-packed"].firing_id,
    }
    by_timer = {item["timerId"]: item for item in alice}
    assert by_timer["a1"]["error"] == "webhook answered 500"
    assert by_timer["a2"]["error"] == "timeout"
    assert by_timer["a2"]["version"] == 3
    assert by_timer["a2"]["scheduledAt"] == "2030-01-01T00:01:00Z"
    assert [item["timerId"] for item in alice] == ["a2", "a1"]  # newest first
    bob = call_api("GET", "/dlq", user=BOB).body["items"]
    assert {item["timerId"] for item in bob} == {"b1", "b2"}
    # looking takes nothing away
    assert len(call_api("GET", "/dlq").body["items"]) == 2


def test_redrive_sends_back_only_the_callers_firings(
    call_api: ApiCall, aws: AwsResources, dead_letters: dict[str, Firing]
) -> None:
    response = call_api("POST", "/dlq/redrive")
    assert response.status == 200, response.body
    assert response.body == {"redriven": 2, "more": False}
    sent = _drain(aws.dispatch_queue_url)
    assert sorted(f.firing_id for f in sent) == sorted(
        [dead_letters["alice-alone"].firing_id, dead_letters["alice-packed"].firing_id]
    )
    assert not any(f.raced for f in sent)  # its race is long over: it runs unclaimed
    assert call_api("GET", "/dlq").body["items"] == []
    bob = call_api("GET", "/dlq", user=BOB).body["items"]
    assert {item["timerId"]: item["error"] for item in bob} == {
        "b1": "retries exhausted",
        "b2": "timeout",
    }


def test_redrive_of_named_firings_leaves_the_rest(
    call_api: ApiCall, aws: AwsResources, dead_letters: dict[str, Firing]
) -> None:
    named = dead_letters["alice-packed"].firing_id
    response = call_api("POST", "/dlq/redrive", {"firingIds": [named]})
    assert response.body == {"redriven": 1, "more": False}
    assert [f.firing_id for f in _drain(aws.dispatch_queue_url)] == [named]
    assert [item["timerId"] for item in call_api("GET", "/dlq").body["items"]] == ["a1"]
    assert len(call_api("GET", "/dlq", user=BOB).body["items"]) == 2


def test_a_redrive_body_with_a_mistake_is_a_400(call_api: ApiCall) -> None:
    response = call_api("POST", "/dlq/redrive", {"firingIds": "all"})
    assert response.status == 400
    assert response.body["error"]["field"] == "firingIds"
    response = call_api("POST", "/dlq/redrive", raw_body=json.dumps({"ids": []}))
    assert response.status == 400
    assert response.body["error"]["field"] == "ids"


@pytest.mark.parametrize(
    "body", [[None, None], "all", 3, True, [], [{}, {}], [{"firingIds": ["x"]}, 1]]
)
def test_a_redrive_body_that_is_not_an_object_is_a_400_and_redrives_nothing(
    call_api: ApiCall, dead_letters: dict[str, Firing], body: Any
) -> None:
    """`[{}, {}]` was found by make fuzz: powertools validated its first element as the body,
    so it arrived as "no firingIds" and redrove every dead letter."""
    response = call_api("POST", "/dlq/redrive", body)
    assert response.status == 400, response.body
    assert response.body["error"]["field"] == "body"
    assert len(call_api("GET", "/dlq").body["items"]) == 2


@pytest.mark.parametrize("field", ["startAt", "endAt"])
def test_a_date_time_given_as_a_number_is_a_400(call_api: ApiCall, field: str) -> None:
    body = {"schedule": "rate(5 minutes)", field: 0}
    for method, path in (("POST", "/schedules/preview"), ("PUT", "/periodic/numbers")):
        response = call_api(method, path, body)
        assert response.status == 400, response.body
        assert response.body["error"]["field"] == field
        assert "ISO 8601" in response.body["error"]["message"]


@pytest.mark.parametrize("count", [True, "3", 2.0])
def test_a_preview_count_that_is_not_a_whole_number_is_a_400(call_api: ApiCall, count: Any) -> None:
    response = call_api("POST", "/schedules/preview", {"schedule": "rate(1 day)", "count": count})
    assert response.status == 400, response.body
    assert response.body["error"]["field"] == "count"
