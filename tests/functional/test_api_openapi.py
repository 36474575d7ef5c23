"""The API Lambda's OpenAPI document, Swagger UI and health check."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.conftest import ApiCall, set_settings


def test_openapi_document_is_valid_openapi_3_1(call_api: ApiCall) -> None:
    response = call_api("GET", "/openapi.json")
    assert response.status == 200
    document = response.body
    assert document["openapi"].startswith("3.1")
    validate(document)
    paths = document["paths"]
    assert set(paths["/periodic/{id}"]) == {"put", "get", "delete"}
    assert "/periodic/{id}/pause" in paths
    assert "/periodic" in paths
    assert set(paths["/periodic/{id}/runs"]) == {"get"}
    assert "/job-types" in paths
    run_fields = document["components"]["schemas"]["RunView"]["properties"]
    assert {"firingId", "scheduledAt", "startedAt", "finishedAt", "attempt", "outcome"} <= set(
        run_fields
    )
    schemas = document["components"]["schemas"]
    assert "timerCallbackData" in schemas["TimerSpec"]["properties"]


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_openapi_document_server_is_the_stage_the_request_came_through(
    call_api: ApiCall, path: str
) -> None:
    # the execute-api URL of a stage is https://{id}.execute-api.{region}.amazonaws.com/{stage}
    response = call_api("GET", path, query={"format": "json"})
    document = response.body if isinstance(response.body, dict) else json.loads(response.body)
    assert document["servers"] == [{"url": "/prod"}]


def _security(document: dict[str, Any]) -> set[str]:
    """The security requirements of every documented operation, as scheme names."""
    found = set()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            requirements = operation.get("security")
            # a heartbeat's ping and a feed: the token in their URL is their credential
            if path in ("/ping/{token}", "/feeds/{token}"):
                assert requirements == [], operation["operationId"]
                continue
            assert requirements, operation["operationId"]  # every operation says
            found |= {name for requirement in requirements for name in requirement}
    return found


@pytest.mark.parametrize(
    ("api_auth", "schemes"),
    [(None, {"sigv4"}), ("IAM", {"sigv4"}), ("API_KEY", {"api_key"})],
)
def test_openapi_document_declares_how_callers_authenticate(
    call_api: ApiCall, monkeypatch: pytest.MonkeyPatch, api_auth: str | None, schemes: set[str]
) -> None:
    # GIVEN a stack deployed with IAM (SigV4) or API keys, told by API_AUTH or not at all

    if api_auth is not None:
        set_settings(monkeypatch, api_auth=api_auth)
    for path in ("/openapi.json", "/docs"):
        response = call_api("GET", path, query={"format": "json"})
        document = response.body if isinstance(response.body, dict) else json.loads(response.body)
        validate(document)
        declared = document["components"]["securitySchemes"]
        assert set(declared) == schemes and _security(document) == schemes
    # THEN the schemes are the ones API Gateway itself exports for these authorizations
    if "sigv4" in schemes:
        assert declared["sigv4"] == {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "awsSigv4",
            "description": declared["sigv4"]["description"],
        }
    if "api_key" in schemes:
        assert (declared["api_key"]["type"], declared["api_key"]["in"]) == ("apiKey", "header")
        assert declared["api_key"]["name"] == "X-Api-Key"


def test_openapi_document_of_a_key_caller_without_api_auth_declares_the_key(
    call_api: ApiCall,
) -> None:
    # API Gateway puts the key's id in the request context of a stack with apiAuth=API_KEY
    from api.handler import lambda_handler
    from timer_service_local.gateway import build_event
    from timer_service_local.lambda_context import LocalContext

    event = build_event(
        method="GET", raw_path="/openapi.json", headers={}, body=b"", owner=None, api_key_id="k1"
    )
    document = json.loads(lambda_handler(event, LocalContext())["body"])
    assert _security(document) == {"api_key"}


def test_openapi_document_of_a_keyless_local_stack_asks_for_nothing(
    call_api: ApiCall, monkeypatch: pytest.MonkeyPatch
) -> None:

    set_settings(monkeypatch, api_auth="NONE")
    document = call_api("GET", "/openapi.json").body
    validate(document)
    assert "securitySchemes" not in document["components"]
    assert all(
        "security" not in operation
        for operations in document["paths"].values()
        for operation in operations.values()
    )


def test_swagger_ui_is_served(call_api: ApiCall) -> None:
    response = call_api("GET", "/docs")
    assert response.status == 200
    assert "swagger" in response.body.lower()


def test_health(call_api: ApiCall) -> None:
    assert call_api("GET", "/health").body["status"] == "ok"
