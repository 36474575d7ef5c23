"""Labels and bulk actions through the API Lambda on DynamoDB (moto): labels on PUT and GET, a
refused label named in the 400, listings filtered by labels, job type and state, the label items
kept in step with their timer, and ``POST /periodic/bulk`` driven to the end."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import BOB, ApiCall, AwsResources

HOOK = {"jobType": "webhook", "job": {"url": "https://example.com/hook"}}


def label_items(aws: AwsResources) -> set[tuple[str, str]]:
    return {(i["pk"]["S"], i["sk"]["S"]) for i in aws.scan() if i["pk"]["S"].startswith("L#")}


def listed(call_api: ApiCall, **query: str | list[str]) -> list[str]:
    """Every id the listing gives, following its tokens."""
    ids: list[str] = []
    while True:
        answer = call_api("GET", "/periodic", query={"limit": "2", **query})
        assert answer.status == 200, answer.body
        ids += [t["id"] for t in answer.body["items"]]
        token = answer.body["nextToken"]
        if token is None:
            return ids
        query = {**query, "nextToken": token}


def test_labels_are_kept_shown_and_kept_in_step_with_their_items(
    call_api: ApiCall, aws: AwsResources
) -> None:
    # GIVEN a timer put with labels
    put = call_api("PUT", "/periodic/t", {"labels": {"team": "pay", "env": "prod"}})
    assert put.status == 201
    assert put.body["labels"] == {"team": "pay", "env": "prod"}
    assert call_api("GET", "/periodic/t").body["labels"] == {"team": "pay", "env": "prod"}
    assert {pk.rsplit("#", 1)[1] for pk, _ in label_items(aws)} == {"team=pay", "env=prod"}
    # WHEN its labels change, and then it is deleted
    call_api("PUT", "/periodic/t", {"labels": {"team": "ops"}})
    assert {pk.rsplit("#", 1)[1] for pk, _ in label_items(aws)} == {"team=ops"}
    call_api("DELETE", "/periodic/t")
    # THEN no label item is left
    assert label_items(aws) == set()


def test_a_change_of_labels_alone_writes_no_index_item(
    call_api: ApiCall, aws: AwsResources
) -> None:
    call_api("PUT", "/periodic/r", {"schedule": "rate(5 minutes)"})
    index = [i for i in aws.scan() if i["pk"]["S"].startswith("S#")]
    replaced = call_api("PUT", "/periodic/r", {"schedule": "rate(5 minutes)", "labels": {"a": "b"}})
    assert (replaced.status, replaced.body["version"]) == (200, 2)
    assert [i for i in aws.scan() if i["pk"]["S"].startswith("S#")] == index


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ({"Team": "pay"}, "labels.Team"),
        ({"team": "a b"}, "labels.team"),
        ({"team": 3}, "labels.team"),
        ({f"k{n}": "v" for n in range(21)}, "labels"),
        (["team"], "labels"),
    ],
)
def test_a_refused_label_is_a_400_naming_it(call_api: ApiCall, labels: Any, field: str) -> None:
    answer = call_api("PUT", "/periodic/t", {"labels": labels})
    assert answer.status == 400
    assert answer.body["error"]["field"] == field
    assert answer.body["error"]["message"].startswith(f"{field}: ")


def test_listings_filter_by_labels_job_type_and_state(call_api: ApiCall) -> None:
    # GIVEN timers with labels, job types and states, and another owner's
    for n in range(8):
        body: dict[str, Any] = {"labels": {"team": "pay" if n % 2 else "ops", "env": "prod"}}
        if n % 3 == 0:
            body |= HOOK
        if n == 5:
            body["enabled"] = False
        assert call_api("PUT", f"/periodic/t{n}", body).status == 201
    call_api("PUT", "/periodic/x", {"labels": {"team": "pay"}}, user=BOB)
    # THEN each listing holds the timers with all it asks for, every page followed
    assert listed(call_api, label="team:pay") == ["t1", "t3", "t5", "t7"]
    assert listed(call_api, label=["team:pay", "env:prod"]) == ["t1", "t3", "t5", "t7"]
    assert listed(call_api, label=["team:pay", "env:dev"]) == []
    assert listed(call_api, label="team:pay", jobType="webhook") == ["t3"]
    assert listed(call_api, jobType="webhook") == ["t0", "t3", "t6"]
    assert listed(call_api, state="paused") == ["t5"]
    assert listed(call_api, label="team:pay", state="active") == ["t1", "t3", "t7"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"label": "team"}, "label"),
        ({"label": "Team:pay"}, "label"),
        ({"label": ["team:a", "team:b"]}, "label"),
        ({"state": "sleeping"}, "state"),
        ({"jobType": "x" * 65}, "jobType"),
    ],
)
def test_a_refused_filter_is_a_400_naming_it(
    call_api: ApiCall, query: dict[str, Any], field: str
) -> None:
    answer = call_api("GET", "/periodic", query=query)
    assert answer.status == 400
    assert answer.body["error"]["field"] == field


def test_a_bulk_pause_by_label_driven_to_the_end(call_api: ApiCall, aws: AwsResources) -> None:
    # GIVEN 25 timers of team=pay and 3 of team=ops
    for n in range(25):
        call_api("PUT", f"/periodic/p{n:02d}", {"labels": {"team": "pay"}})
    for n in range(3):
        call_api("PUT", f"/periodic/o{n}", {"labels": {"team": "ops"}})
    # WHEN team=pay is paused, 10 a call, each call from the last one's token
    answers, token = [], None
    while True:
        body = {"action": "pause", "selector": {"team": "pay"}, "limit": 10, "nextToken": token}
        answer = call_api("POST", "/periodic/bulk", body)
        assert answer.status == 200, answer.body
        answers.append(answer.body)
        token = answer.body["nextToken"]
        if token is None:
            break
    # THEN three calls paused all 25, and only them
    assert [a["matched"] for a in answers] == [10, 10, 5]
    assert sum(a["changed"] for a in answers) == 25
    assert answers[0] | {"nextToken": None} == {
        "action": "pause",
        "matched": 10,
        "changed": 10,
        "skipped": 0,
        "failed": 0,
        "reasons": {},
        "failures": [],
        "nextToken": None,
    }
    assert listed(call_api, state="paused") == [f"p{n:02d}" for n in range(25)]
    assert listed(call_api, state="active") == ["o0", "o1", "o2"]
    # AND a relabel and a delete by ids work the same way
    relabel = {"action": "relabel", "ids": ["o0", "o1", "zz"], "setLabels": {"tier": "gold"}}
    answer = call_api("POST", "/periodic/bulk", relabel).body
    assert (answer["changed"], answer["reasons"]) == (2, {"not found": 1})
    assert listed(call_api, label="tier:gold") == ["o0", "o1"]
    gone = call_api("POST", "/periodic/bulk", {"action": "delete", "selector": {"tier": "gold"}})
    assert gone.body["changed"] == 2
    assert listed(call_api, label="tier:gold") == []
    assert not any(sk in ("o0", "o1") for _, sk in label_items(aws))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "explode", "ids": ["a"]}, "action"),
        ({"action": "pause"}, "selector"),
        ({"action": "pause", "ids": []}, "ids"),
        ({"action": "pause", "ids": ["a/b"]}, "ids.0"),
        ({"action": "pause", "selector": {"Team": "x"}}, "selector.Team"),
        ({"action": "pause", "ids": ["a"], "limit": 201}, "limit"),
        ({"action": "relabel", "ids": ["a"]}, "setLabels"),
        ({"action": "pause", "ids": ["a"], "nextToken": "a b"}, "nextToken"),
    ],
)
def test_a_refused_bulk_request_is_a_400_naming_the_field(
    call_api: ApiCall, body: dict[str, Any], field: str
) -> None:
    answer = call_api("POST", "/periodic/bulk", body)
    assert answer.status == 400
    assert answer.body["error"]["field"] == field
