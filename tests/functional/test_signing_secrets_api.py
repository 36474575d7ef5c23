"""``/signing-secrets`` through the API Lambda on moto: each caller's own, the value shown once,
rotations with a grace period, mistakes a 400 naming the field, never a 500."""

from __future__ import annotations

import re

import pytest

from tests.conftest import BOB, ApiCall

KEY_ID = re.compile(r"key_[0-9a-f]{16}")


def test_a_created_secret_is_shown_once_then_listed_without_its_value(call_api: ApiCall) -> None:
    # WHEN alice creates a signing secret
    created = call_api("POST", "/signing-secrets")
    # THEN the answer holds it, once
    assert created.status == 201, created.body
    body = created.body
    assert KEY_ID.fullmatch(body["id"]) and body["secret"].startswith("whsec_")
    assert body["state"] == "active" and body["retiresAt"] is None
    # AND her list names it without its value; bob's is empty
    listed = call_api("GET", "/signing-secrets")
    assert listed.status == 200
    assert listed.body == {
        "items": [
            {"id": body["id"], "state": "active", "createdAt": body["createdAt"], "retiresAt": None}
        ]
    }
    assert call_api("GET", "/signing-secrets", user=BOB).body == {"items": []}
    # AND a second active secret is a conflict naming the first
    answer = call_api("POST", "/signing-secrets")
    assert answer.status == 409 and body["id"] in answer.body["error"]["message"]


def test_rotate_makes_a_new_secret_and_retires_the_old_after_its_grace(
    call_api: ApiCall,
) -> None:
    old = call_api("POST", "/signing-secrets").body
    rotated = call_api("POST", f"/signing-secrets/{old['id']}/rotate", {"graceSeconds": 3600})
    assert rotated.status == 201, rotated.body
    assert rotated.body["secret"] not in (old["secret"], None)
    states = {i["id"]: i for i in call_api("GET", "/signing-secrets").body["items"]}
    assert states[rotated.body["id"]]["state"] == "active"
    assert states[old["id"]]["state"] == "retiring" and states[old["id"]]["retiresAt"]
    # one rotation at a time: the retiring one is deleted to rotate again
    again = call_api("POST", f"/signing-secrets/{rotated.body['id']}/rotate")
    assert again.status == 409 and old["id"] in again.body["error"]["message"]
    assert call_api("DELETE", f"/signing-secrets/{old['id']}").body == {"id": old["id"]}
    assert call_api("POST", f"/signing-secrets/{rotated.body['id']}/rotate").status == 201


def test_another_callers_secret_is_not_found(call_api: ApiCall) -> None:
    created = call_api("POST", "/signing-secrets").body
    for method, path in (
        ("DELETE", f"/signing-secrets/{created['id']}"),
        ("POST", f"/signing-secrets/{created['id']}/rotate"),
    ):
        answer = call_api(method, path, user=BOB)
        assert answer.status == 404, answer.body
        assert answer.body["error"]["field"] == "id"
    assert len(call_api("GET", "/signing-secrets").body["items"]) == 1


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/signing-secrets/key_0000000000000000/rotate", {"graceSeconds": -1}, "graceSeconds"),
        ("/signing-secrets/key_0000000000000000/rotate", {"graceSeconds": 10**9}, "graceSeconds"),
        ("/signing-secrets/key_0000000000000000/rotate", {"graceSeconds": "1h"}, "graceSeconds"),
        ("/signing-secrets/key_0000000000000000/rotate", {"grace": 60}, "grace"),
        ("/signing-secrets/key_0000000000000000/rotate", [], "body"),
        ("/signing-secrets/not-a-key/rotate", None, "id"),
    ],
)
def test_mistakes_are_400s_naming_the_field(
    call_api: ApiCall, path: str, body: object, field: str
) -> None:
    answer = call_api("POST", path, body)
    assert answer.status == 400, answer.body
    assert answer.body["error"]["field"] == field


def test_a_malformed_id_to_delete_is_a_400_naming_it(call_api: ApiCall) -> None:
    answer = call_api("DELETE", "/signing-secrets/KEY_1")
    assert answer.status == 400 and answer.body["error"]["field"] == "id"


def test_the_openapi_document_declares_the_signing_secret_operations(call_api: ApiCall) -> None:
    paths = call_api("GET", "/openapi.json").body["paths"]
    assert set(paths["/signing-secrets"]) == {"get", "post"}
    assert {"201", "409"} <= set(paths["/signing-secrets"]["post"]["responses"])
    rotate = paths["/signing-secrets/{id}/rotate"]["post"]["responses"]
    assert {"201", "400", "404", "409"} <= set(rotate)
    assert "404" in paths["/signing-secrets/{id}"]["delete"]["responses"]
