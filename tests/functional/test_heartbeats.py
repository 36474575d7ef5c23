"""Heartbeat timers through the API, the ticker, SQS and the callbacks on moto; the ping route
takes no caller identity (a plain ``curl`` of its URL, as Healthchecks.io's:
https://healthchecks.io/docs/http_api/ "HEAD|GET|POST https://hc-ping.com/<uuid>")."""

from __future__ import annotations

from typing import Any

import pytest

from loadtest.stack import WebhookReceiver
from tests.conftest import ApiCall, AwsResources, signer
from tests.functional.conftest import consume, runs, sqs


def heartbeat(call_api: ApiCall, timer_id: str = "hb", **beat: Any) -> dict[str, Any]:
    body = {"heartbeat": {"periodSeconds": 60, "graceSeconds": 0} | beat}
    created = call_api("PUT", f"/periodic/{timer_id}", body)
    assert created.status == 201, created.body
    return dict(created.body)


def token_of(timer: dict[str, Any]) -> str:
    return str(timer["pingUrl"]).rsplit("/", 1)[1]


def test_put_answers_the_ping_url_once_and_get_shows_the_heartbeat(call_api: ApiCall) -> None:
    timer = heartbeat(call_api)
    assert timer["pingUrl"].startswith("http://abc123.execute-api.us-east-1.amazonaws.com/prod/")
    assert len(token_of(timer)) == 43
    assert timer["heartbeat"] == {
        "periodSeconds": 60,
        "graceSeconds": 0,
        "status": "new",
        "lastPingAt": None,
        "deadline": None,
    }
    assert (timer["schedule"], timer["nextFireTimes"], timer["history"]) == (
        "heartbeat",
        [],
        "all",
    )
    assert call_api("GET", "/periodic/hb").body["pingUrl"] is None
    replaced = call_api("PUT", "/periodic/hb", {"heartbeat": {"periodSeconds": 120}})
    assert replaced.status == 200 and replaced.body["pingUrl"] is None


def test_a_ping_needs_no_identity_and_takes_get_post_with_any_body_and_head(
    call_api: ApiCall,
) -> None:
    token = token_of(heartbeat(call_api))
    got = call_api("GET", f"/ping/{token}", user=None)
    assert got.status == 200, got.body
    assert set(got.body) == {"status", "deadline", "recovered"}
    assert (got.body["status"], got.body["recovered"]) == ("up", False)
    posted = call_api("POST", f"/ping/{token}", raw_body="backup done: 3 GB", user=None)
    assert posted.status == 200, posted.body
    assert call_api("HEAD", f"/ping/{token}", user=None).status == 200
    assert call_api("GET", "/periodic/hb").body["heartbeat"]["status"] == "up"


@pytest.mark.parametrize(
    ("token", "status", "field"),
    [("A" * 43, 404, "token"), ("short", 400, "token"), ("A" * 42 + "!", 400, "token")],
    ids=["unknown", "too short", "not url-safe"],
)
def test_a_ping_with_a_wrong_token_is_a_4xx_naming_the_token(
    call_api: ApiCall, aws: AwsResources, token: str, status: int, field: str
) -> None:
    heartbeat(call_api)
    before = aws.scan()
    answer = call_api("GET", f"/ping/{token}", user=None)
    assert answer.status == status, answer.body
    assert answer.body["error"]["field"] == field
    assert aws.scan() == before


def test_a_ping_is_one_dynamodb_call_an_update_item(call_api: ApiCall, aws: AwsResources) -> None:
    from timer_service.aws import client
    from timer_service.pings import Heartbeats
    from timer_service.store.dynamodb import DynamoTimerStore

    token = token_of(heartbeat(call_api))
    dynamodb = client("dynamodb", "us-east-1", aws.endpoint_url)
    calls: list[str] = []
    dynamodb.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    pinger = Heartbeats(store=DynamoTimerStore(dynamodb, aws.table), clock=aws.clock)
    pinger.ping(token)  # the first: it arms the heartbeat, once
    assert calls == ["UpdateItem", "GetItem", "PutItem", "GetItem", "UpdateItem"]
    calls.clear()
    pinger.ping(token)
    assert calls == ["UpdateItem"]


def test_heartbeat_with_a_schedule_is_a_400_naming_it(call_api: ApiCall) -> None:
    body = {"heartbeat": {}, "schedule": "rate(5 minutes)"}
    answer = call_api("PUT", "/periodic/hb", body)
    assert (answer.status, answer.body["error"]["field"]) == (400, "schedule")
    for bad, field in (
        ({"periodSeconds": 59}, "heartbeat.periodSeconds"),
        ({"graceSeconds": -1}, "heartbeat.graceSeconds"),
        ({"every": 1}, "heartbeat.every"),
    ):
        answer = call_api("PUT", "/periodic/hb", {"heartbeat": bad})
        assert (answer.status, answer.body["error"]["field"]) == (400, field), answer.body


def test_the_ping_routes_are_documented_without_authentication(call_api: ApiCall) -> None:
    paths = call_api("GET", "/openapi.json").body["paths"]
    for method in ("get", "post"):
        operation = paths["/ping/{token}"][method]
        assert operation["security"] == []
        assert "404" in operation["responses"]
    assert paths["/periodic/{id}"]["get"]["security"]  # the rest still authenticate


def test_a_missed_heartbeat_fires_its_webhook_once_and_the_next_ping_recovers(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    from timer_service.aws import client
    from timer_service.dispatch import SqsDispatchQueue
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service.tick import TickEngine

    # GIVEN a heartbeat webhook (a minute, no grace), pinged once
    created = call_api(
        "PUT",
        "/periodic/hb",
        {
            "heartbeat": {"periodSeconds": 60, "graceSeconds": 0},
            "jobType": "webhook",
            "job": {"url": f"{receiver.url}/hook/hb"},
        },
    )
    token = token_of(created.body)
    pinged = call_api("GET", f"/ping/{token}", user=None).body
    # WHEN the ticker reads the deadline's minute and the deadline passes unpinged
    clock = pipeline.clock
    store = DynamoTimerStore(client("dynamodb", "us-east-1", pipeline.endpoint_url), pipeline.table)
    queue = SqsDispatchQueue(sqs(), pipeline.dispatch_queue_url, clock=clock, signer=signer())
    engine = TickEngine(store=store, queue=queue, clock=clock)
    assert engine.tick(0).sent == 1
    clock.advance(61)
    consume(pipeline)
    # THEN its webhook ran once, for the deadline; the run says missed; it reads down
    assert [r.path for r in receiver.requests] == ["/hook/hb"]
    (missed,) = runs(call_api, "hb")
    assert (missed["heartbeat"], missed["scheduledAt"]) == ("missed", pinged["deadline"])
    assert call_api("GET", "/periodic/hb").body["heartbeat"]["status"] == "down"
    engine.tick(0)
    clock.advance(120)
    consume(pipeline)
    assert len(receiver.requests) == 1  # missed once, not again
    # AND the next ping is a recovery, recorded
    again = call_api("GET", f"/ping/{token}", user=None).body
    assert again["recovered"] is True
    assert [run["heartbeat"] for run in runs(call_api, "hb")] == ["recovered", "missed"]
