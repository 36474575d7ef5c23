"""The API Lambda with API Gateway REST events against DynamoDB on moto: timers by id, their
runs, the quota."""

from __future__ import annotations

import pytest

from tests.conftest import ALICE, BOB, ApiCall, AwsResources, set_settings


def test_put_get_list_delete_round_trip(call_api: ApiCall) -> None:
    # GIVEN a new timer
    created = call_api("PUT", "/periodic/order-42", {"timerCallbackData": {"orderId": 42}})
    assert created.status == 201
    assert created.headers["ETag"] == '"1"'
    timer = created.body
    for key in (
        "id",
        "shardId",
        "timeShardId",
        "schedule",
        "timezone",
        "jobType",
        "job",
        "timerCallbackData",
        "enabled",
        "version",
        "createdAt",
        "updatedAt",
        "nextFireTimes",
    ):
        assert key in timer
    assert timer["schedule"] == "rate(1 minute)"
    assert timer["jobType"] == "sqs"
    assert len(timer["nextFireTimes"]) == 5
    # WHEN it is read, listed, replaced and deleted THEN each answer says so
    assert call_api("GET", "/periodic/order-42").body == timer
    assert [t["id"] for t in call_api("GET", "/periodic").body["items"]] == ["order-42"]
    replaced = call_api("PUT", "/periodic/order-42", {"timerCallbackData": "v2"})
    assert (replaced.status, replaced.body["version"]) == (200, 2)
    deleted = call_api("DELETE", "/periodic/order-42")
    assert (deleted.status, deleted.body) == (200, {"id": "order-42"})
    assert call_api("GET", "/periodic/order-42").status == 404
    assert call_api("DELETE", "/periodic/order-42").status == 404


def test_delete_leaves_no_item_behind(call_api: ApiCall, aws: AwsResources) -> None:
    call_api("PUT", "/periodic/a", {"schedule": "rate(5 minutes)"})
    call_api("PUT", "/periodic/b", {"schedule": "cron(0/10 * * * ? *)"})
    call_api("PUT", "/periodic/c", {"schedule": "at(2099-01-01T00:00:00)"})
    assert len([i for i in aws.scan() if i["pk"]["S"].startswith("S#")]) == 3
    for timer_id in "abc":
        assert call_api("DELETE", f"/periodic/{timer_id}").status == 200
    left = [i["pk"]["S"] for i in aws.scan() if i["pk"]["S"].startswith(("T#", "S#"))]
    assert left == []


def test_pause_and_resume(call_api: ApiCall, aws: AwsResources) -> None:
    call_api("PUT", "/periodic/t", {"schedule": "rate(5 minutes)"})
    paused = call_api("POST", "/periodic/t/pause")
    assert (paused.status, paused.body["enabled"], paused.body["nextFireTimes"]) == (
        200,
        False,
        [],
    )
    assert not [i for i in aws.scan() if i["pk"]["S"].startswith("S#")]
    resumed = call_api("POST", "/periodic/t/resume")
    assert resumed.body["enabled"] is True
    assert len(resumed.body["nextFireTimes"]) == 5
    assert call_api("POST", "/periodic/missing/pause").status == 404


def test_if_match_guards_replace_and_delete(call_api: ApiCall) -> None:
    call_api("PUT", "/periodic/t", {"timerCallbackData": 1})
    stale = call_api("PUT", "/periodic/t", {"timerCallbackData": 2}, headers={"If-Match": '"5"'})
    assert stale.status == 412
    assert stale.body["error"]["code"] == "version_conflict"
    assert call_api("GET", "/periodic/t").body["timerCallbackData"] == 1
    fresh = call_api("PUT", "/periodic/t", {"timerCallbackData": 2}, headers={"If-Match": "1"})
    assert fresh.status == 200
    assert call_api("DELETE", "/periodic/t", headers={"If-Match": "1"}).status == 412
    assert call_api("DELETE", "/periodic/t", headers={"If-Match": "2"}).status == 200


def test_if_none_match_star_creates_only_and_if_match_star_replaces_only(
    call_api: ApiCall, aws: AwsResources
) -> None:
    created = call_api(
        "PUT", "/periodic/t", {"timerCallbackData": 1}, headers={"If-None-Match": "*"}
    )
    assert created.status == 201
    again = call_api("PUT", "/periodic/t", {"timerCallbackData": 2}, headers={"If-None-Match": "*"})
    assert again.status == 412
    assert again.body["error"]["field"] == "If-None-Match"
    assert "exists (version 1)" in again.body["error"]["message"]
    assert call_api("GET", "/periodic/t").body["timerCallbackData"] == 1
    replaced = call_api("PUT", "/periodic/t", {"timerCallbackData": 3}, headers={"If-Match": "*"})
    assert (replaced.status, replaced.body["version"]) == (200, 2)
    before = aws.scan()
    absent = call_api("PUT", "/periodic/new", {}, headers={"If-Match": "*"})
    assert absent.status == 412
    assert absent.body["error"]["message"] == (
        "timer 'new' does not exist (If-Match expected any version)"
    )
    versioned = call_api("PUT", "/periodic/new", {}, headers={"If-None-Match": '"1"'})
    assert (versioned.status, versioned.body["error"]["field"]) == (400, "If-None-Match")
    assert aws.scan() == before
    assert call_api("DELETE", "/periodic/t", headers={"If-Match": "*"}).status == 200


def test_callers_are_isolated(call_api: ApiCall) -> None:
    call_api("PUT", "/periodic/same", {"timerCallbackData": "alice"}, user=ALICE)
    assert call_api("GET", "/periodic/same", user=BOB).status == 404
    assert call_api("GET", "/periodic", user=BOB).body["items"] == []
    assert call_api("DELETE", "/periodic/same", user=BOB).status == 404
    assert call_api("GET", "/periodic/same", user=ALICE).body["timerCallbackData"] == "alice"


def test_request_without_identity_is_401(call_api: ApiCall) -> None:
    response = call_api("GET", "/periodic", user=None)
    assert response.status == 401
    assert response.body["error"]["code"] == "unauthorized"


def test_list_paginates(call_api: ApiCall) -> None:
    for n in range(7):
        call_api("PUT", f"/periodic/t{n}", {})
    seen, token = [], None
    while True:
        query = {"limit": "3"} | ({"nextToken": token} if token else {})
        page = call_api("GET", "/periodic", query=query).body
        assert len(page["items"]) <= 3
        seen += [item["id"] for item in page["items"]]
        token = page["nextToken"]
        if token is None:
            break
    assert seen == [f"t{n}" for n in range(7)]


def test_job_types_lists_every_installed_type_with_its_schema(call_api: ApiCall) -> None:
    response = call_api("GET", "/job-types")
    assert response.status == 200
    by_name = {t["name"]: t for t in response.body}
    assert {"sqs", "webhook", "html_monitor", "ec2_instances", "sns", "lambda", "eventbridge"} <= (
        set(by_name)
    )
    assert "http_check" in by_name  # the example plugin, installed by make test
    html = by_name["html_monitor"]
    assert html["defaultHistory"] == "changes-and-errors"
    assert {"url", "include", "exclude", "ignoreText", "notify"} <= set(
        html["schema"]["properties"]
    )


def test_history_is_the_job_types_default_unless_set(call_api: ApiCall) -> None:
    webhook = {"jobType": "webhook", "job": {"url": "https://a.example/"}}
    assert call_api("PUT", "/periodic/w", webhook).body["history"] == "errors"
    html = {"jobType": "html_monitor", "job": {"url": "https://a.example/"}}
    assert call_api("PUT", "/periodic/h", html).body["history"] == "changes-and-errors"
    chosen = call_api("PUT", "/periodic/h", html | {"history": "all"}).body
    assert chosen["history"] == "all"


def test_runs_are_owned_expire_and_page(call_api: ApiCall, aws: AwsResources) -> None:
    import time

    from timer_service.aws import client
    from timer_service.dispatch import Firing
    from timer_service.runs import Run
    from timer_service.store.dynamodb import DynamoTimerStore

    # GIVEN Alice's timer with three runs and Bob's timer of the same id with none
    created = call_api("PUT", "/periodic/same", {"history": "all"}).body
    assert call_api("PUT", "/periodic/same", {}, user=BOB).status == 201
    store = DynamoTimerStore(client("dynamodb", "us-east-1", aws.endpoint_url), aws.table)
    timer = store.get_timer(ALICE, "same")
    assert timer is not None and timer.version == created["version"]
    now = time.time()
    for n in range(3):
        firing = Firing(ALICE, "same", 1, int(now) + n)
        run = Run(
            ALICE,
            "same",
            timer.created_s,
            firing.firing_id,
            firing.scheduled_s,
            now,
            now,
            1,
            "ok",
            f"run {n}",
        )
        store.put_run(run, expires_s=int(now) + 30 * 86400)
    # WHEN each reads the runs THEN Alice pages through hers, newest first; Bob sees none
    page = call_api("GET", "/periodic/same/runs", query={"limit": "2"}).body
    assert [r["summary"] for r in page["items"]] == ["run 2", "run 1"]
    rest = call_api("GET", "/periodic/same/runs", query={"nextToken": page["nextToken"]}).body
    assert [r["summary"] for r in rest["items"]] == ["run 0"] and rest["nextToken"] is None
    assert call_api("GET", "/periodic/same/runs", user=BOB).body["items"] == []
    assert call_api("GET", "/periodic/other/runs", user=BOB).status == 404
    # AND every run item carries its expiry (TTL)
    expiries = [int(i["expiresAt"]["N"]) for i in aws.scan() if i["pk"]["S"].startswith("R#")]
    assert len(expiries) == 3 and all(e > now + 29 * 86400 for e in expiries)


def test_an_owner_cannot_create_more_timers_than_the_quota(
    call_api: ApiCall, aws: AwsResources, monkeypatch: pytest.MonkeyPatch
) -> None:

    set_settings(monkeypatch, max_timers_per_owner=3)
    for n in range(3):
        assert call_api("PUT", f"/periodic/t{n}", {}).status == 201
    before = aws.scan()
    refused = call_api("PUT", "/periodic/t3", {"schedule": "rate(5 minutes)"})
    assert refused.status == 403
    assert refused.body["error"]["code"] == "quota_exceeded"
    assert refused.body["error"]["field"] == "id"
    assert aws.scan() == before  # nothing half-written
    assert call_api("PUT", "/periodic/t0", {"timerCallbackData": "replaced"}).status == 200
    assert call_api("PUT", "/periodic/t3", {}, user=BOB).status == 201  # Bob has his own
    assert call_api("DELETE", "/periodic/t1").status == 200
    assert call_api("PUT", "/periodic/t3", {}).status == 201


# --- bodies on routes that take none, and ids that cannot be addressed -------------------
