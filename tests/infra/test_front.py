"""The API's front in the synthesized TimerService: IAM or API keys on every route but a
heartbeat's ping, execution logs that expire, API Gateway's refusals in the API's error shape."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.conftest import Synthesized


def ping_methods(stack: Synthesized, parent: str = "ping") -> dict[str, dict[str, Any]]:
    """The methods of ``/ping/{token}`` (or ``/{parent}/{token}``), by logical id."""
    resources = stack.resources("AWS::ApiGateway::Resource")
    (ping,) = [k for k, r in resources.items() if r["Properties"]["PathPart"] == parent]
    (token,) = [
        k
        for k, r in resources.items()
        if r["Properties"]["PathPart"] == "{token}" and r["Properties"]["ParentId"] == {"Ref": ping}
    ]
    return {
        k: m
        for k, m in stack.resources("AWS::ApiGateway::Method").items()
        if m["Properties"]["ResourceId"] == {"Ref": token}
    }


def public_methods(stack: Synthesized) -> dict[str, dict[str, Any]]:
    """The methods whose token in the URL is the credential: a ping's and a feed's read."""
    return ping_methods(stack) | ping_methods(stack, "feeds")


def test_api_requires_iam_by_default_and_api_keys_with_a_usage_plan(
    default_stack: Synthesized, api_key_stack: Synthesized
) -> None:
    pings = public_methods(default_stack)  # a ping, a feed: the token is their credential
    methods = [
        m for k, m in default_stack.resources("AWS::ApiGateway::Method").items() if k not in pings
    ]
    assert {m["Properties"]["AuthorizationType"] for m in methods} == {"AWS_IAM"}
    assert default_stack.resources("AWS::ApiGateway::UsagePlan") == {}
    keyed_pings = public_methods(api_key_stack)
    keyed = [
        m
        for k, m in api_key_stack.resources("AWS::ApiGateway::Method").items()
        if k not in keyed_pings
    ]
    assert {m["Properties"]["ApiKeyRequired"] for m in keyed} == {True}
    plan = api_key_stack.one("AWS::ApiGateway::UsagePlan")
    assert plan["Throttle"] == {"RateLimit": 20, "BurstLimit": 40}
    assert plan["Quota"] == {"Limit": 5000, "Period": "DAY"}
    assert len(api_key_stack.resources("AWS::ApiGateway::ApiKey")) == 1
    assert "ApiKeyId" in api_key_stack.template["Outputs"]


def test_the_ping_route_takes_no_iam_or_api_key_and_reaches_the_api_function(
    default_stack: Synthesized, api_key_stack: Synthesized
) -> None:
    for stack in (default_stack, api_key_stack):
        methods = [m["Properties"] for m in ping_methods(stack).values()]
        assert sorted(m["HttpMethod"] for m in methods) == ["GET", "HEAD", "POST"]
        for method in methods:
            assert method["AuthorizationType"] == "NONE"
            assert method.get("ApiKeyRequired", False) is False
            assert method["Integration"]["Type"] == "AWS_PROXY"
            (target,) = [
                part for part in method["Integration"]["Uri"]["Fn::Join"][1] if "Fn::GetAtt" in part
            ]
            assert target["Fn::GetAtt"][0].startswith("TimersApiFunction")


def test_the_feed_read_takes_no_iam_or_api_key_and_managing_feeds_does(
    default_stack: Synthesized, api_key_stack: Synthesized
) -> None:
    for stack, authorized in ((default_stack, "AWS_IAM"), (api_key_stack, "NONE")):
        # GIVEN the methods of /feeds/{token} and of /feeds
        reads = [m["Properties"] for m in ping_methods(stack, "feeds").values()]
        resources = stack.resources("AWS::ApiGateway::Resource")
        (feeds,) = [k for k, r in resources.items() if r["Properties"]["PathPart"] == "feeds"]
        managing = [
            m["Properties"]
            for m in stack.resources("AWS::ApiGateway::Method").values()
            if m["Properties"]["ResourceId"] == {"Ref": feeds}
        ]
        # THEN a feed reader's GET and HEAD need nothing, and reach the API function
        assert sorted(m["HttpMethod"] for m in reads) == ["GET", "HEAD"]
        for method in reads:
            assert method["AuthorizationType"] == "NONE"
            assert method.get("ApiKeyRequired", False) is False
            assert method["Integration"]["Type"] == "AWS_PROXY"
        # AND making, listing and revoking feeds keep the API's authorization
        assert [m["HttpMethod"] for m in managing] == ["ANY"]
        assert managing[0]["AuthorizationType"] == authorized
        assert managing[0].get("ApiKeyRequired", False) is (stack is api_key_stack)
        assert managing[0]["Integration"]["Type"] == "AWS_PROXY"


def test_api_gateway_execution_logs_expire(default_stack: Synthesized) -> None:
    groups = default_stack.resources("AWS::Logs::LogGroup").values()
    (execution,) = [
        g["Properties"]
        for g in groups
        if "API-Gateway-Execution-Logs_" in json.dumps(g["Properties"].get("LogGroupName"))
    ]
    assert '"/v1"' in json.dumps(execution["LogGroupName"]) or "/v1" in json.dumps(execution)
    assert execution["RetentionInDays"] == 30
    assert all("RetentionInDays" in g["Properties"] for g in groups)


# What API Gateway puts in a gateway response's template (API Gateway Developer Guide, "Gateway
# responses for REST APIs" and "$context variables": messageString is the message, quoted).
GATEWAY_CONTEXT = {
    "$context.error.messageString": '"Missing Authentication Token"',
    "$context.error.message": "Missing Authentication Token",
    "$context.error.responseType": "MISSING_AUTHENTICATION_TOKEN",
}


# The refusals API Gateway answers itself before the API function runs (supported gateway
# response types): SigV4 and API key failures, throttling and quota, a body over its limit.
GATEWAY_REFUSALS = {
    "MISSING_AUTHENTICATION_TOKEN",
    "INVALID_SIGNATURE",
    "EXPIRED_TOKEN",
    "ACCESS_DENIED",
    "INVALID_API_KEY",
    "THROTTLED",
    "QUOTA_EXCEEDED",
    "REQUEST_TOO_LARGE",
    "DEFAULT_4XX",
    "DEFAULT_5XX",
}


def test_api_gateway_refusals_answer_in_the_apis_error_shape(
    default_stack: Synthesized, api_key_stack: Synthesized
) -> None:
    import jsonschema

    from api.openapi import ERROR_SCHEMA

    for stack in (default_stack, api_key_stack):
        # GIVEN the gateway responses of a deployed stack, IAM or keyed
        responses = {
            r["Properties"]["ResponseType"]: r["Properties"]
            for r in stack.resources("AWS::ApiGateway::GatewayResponse").values()
        }
        assert set(responses) >= GATEWAY_REFUSALS
        for kind, response in responses.items():
            # WHEN API Gateway fills in the template THEN it is the API's one error shape
            body = response["ResponseTemplates"]["application/json"]
            for name, value in GATEWAY_CONTEXT.items():
                body = body.replace(name, value)
            answered = json.loads(body)
            jsonschema.validate(answered, ERROR_SCHEMA)
            assert answered["error"]["message"] == "Missing Authentication Token", kind
        throttled = responses["THROTTLED"]["ResponseParameters"]
        assert throttled["gatewayresponse.header.Retry-After"] == "'1'"  # clients wait, then retry
