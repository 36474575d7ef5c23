"""Tenant isolation: two owners using the same timer ids, through every endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest

from loadtest.stack import WebhookReceiver
from tests.conftest import ALICE, BOB, ApiCall, AwsResources
from tests.functional.conftest import runs, trigger

IDS = ["shared", "other"]


@pytest.fixture
def two_tenants(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> dict[str, dict[str, Any]]:
    """Alice and Bob each own timers called "shared" and "other", with their own data."""
    created = {}
    for user, name in ((ALICE, "alice"), (BOB, "bob")):
        for timer_id in IDS:
            body = {
                "schedule": "rate(1 hour)",
                "jobType": "webhook",
                "job": {"url": f"{receiver.url}/{name}/{timer_id}"},
                "timerCallbackData": {"owner": name, "id": timer_id},
                "history": "all",
            }
            answer = call_api("PUT", f"/periodic/{timer_id}", body, user=user)
            assert answer.status == 201
            created[f"{name}:{timer_id}"] = answer.body
    return created


def data(call_api: ApiCall, user: str, timer_id: str) -> Any:
    return call_api("GET", f"/periodic/{timer_id}", user=user).body["timerCallbackData"]


def test_each_owner_reads_and_lists_only_their_own(
    two_tenants: dict[str, Any], call_api: ApiCall
) -> None:
    assert data(call_api, ALICE, "shared") == {"owner": "alice", "id": "shared"}
    assert data(call_api, BOB, "shared") == {"owner": "bob", "id": "shared"}
    for user, name in ((ALICE, "alice"), (BOB, "bob")):
        listed = call_api("GET", "/periodic", user=user).body["items"]
        assert [t["timerCallbackData"]["owner"] for t in listed] == [name, name]


def test_replacing_pausing_and_deleting_touch_only_the_callers_timer(
    two_tenants: dict[str, Any], call_api: ApiCall
) -> None:
    assert (
        call_api("PUT", "/periodic/shared", {"timerCallbackData": "bob v2"}, user=BOB).status == 200
    )
    assert data(call_api, ALICE, "shared") == {"owner": "alice", "id": "shared"}
    assert call_api("POST", "/periodic/shared/pause", user=BOB).body["enabled"] is False
    assert call_api("GET", "/periodic/shared", user=ALICE).body["enabled"] is True
    # Bob's If-Match names his own version, never Alice's
    alice_version = call_api("GET", "/periodic/shared", user=ALICE).body["version"]
    conflict = call_api(
        "DELETE", "/periodic/shared", headers={"If-Match": str(alice_version)}, user=BOB
    )
    assert conflict.status == 412
    assert call_api("DELETE", "/periodic/shared", user=BOB).status == 200
    assert call_api("GET", "/periodic/shared", user=BOB).status == 404
    assert call_api("GET", "/periodic/shared", user=ALICE).status == 200
    assert call_api("POST", "/periodic/shared/resume", user=BOB).status == 404
    assert call_api("POST", "/periodic/shared/trigger", user=BOB).status == 404


def test_a_trigger_fires_the_callers_timer_and_its_runs_are_theirs(
    two_tenants: dict[str, Any],
    pipeline: AwsResources,
    call_api: ApiCall,
    receiver: WebhookReceiver,
) -> None:
    from tests.functional.conftest import consume

    trigger(call_api, pipeline, "shared")  # as Alice
    pipeline.clock.next_second()
    assert call_api("POST", "/periodic/other/trigger", user=BOB).status == 202
    consume(pipeline)
    paths = [r.path for r in receiver.requests]
    assert paths == ["/alice/shared", "/bob/other"]
    bodies = [json.loads(r.body)["timerCallbackData"] for r in receiver.requests]
    assert bodies == [{"owner": "alice", "id": "shared"}, {"owner": "bob", "id": "other"}]
    (alice_run,) = runs(call_api, "shared")
    assert alice_run["firingId"].startswith(f"{ALICE}#shared@")
    assert call_api("GET", "/periodic/shared/runs", user=BOB).body["items"] == []
    (bob_run,) = call_api("GET", "/periodic/other/runs", user=BOB).body["items"]
    assert bob_run["firingId"].startswith(f"{BOB}#other@")
    assert runs(call_api, "other") == []


def test_owners_are_isolated_at_the_storage_keys(
    two_tenants: dict[str, Any], aws: AwsResources
) -> None:
    timers = [i for i in aws.scan() if i["sk"]["S"] == "T"]
    owners_of_shared = sorted(i["owner"]["S"] for i in timers if i["id"]["S"] == "shared")
    assert owners_of_shared == sorted([ALICE, BOB])
    assert all(i["pk"]["S"] == f"T#{i['owner']['S']}#{i['id']['S']}" for i in timers)
