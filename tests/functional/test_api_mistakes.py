"""The API Lambda's answers to client mistakes: a 4xx JSON error naming the field, nothing
written; bodies that are not UTF-8, not base64, or sent without a Content-Type."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import ALICE, ApiCall, AwsResources

LONG = "x" * 70_000

URL = "https://example.com/hook"
CLIENT_MISTAKES: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown field", {"raw": '{"schedule": "rate(1 minute)", "colour": "red"}'}, 400, "colour"),
    ("wrong type", {"raw": '{"enabled": "yes"}'}, 400, "enabled"),
    ("wrong type schedule", {"raw": '{"schedule": 5}'}, 400, "schedule"),
    ("malformed json", {"raw": '{"schedule": '}, 400, "body"),
    ("json array body", {"raw": "[1, 2]"}, 400, "body"),
    ("array of a timer", {"raw": '[{"schedule": "rate(1 minute)"}]'}, 400, "body"),
    ("array of objects", {"raw": "[{}, {}]"}, 400, "body"),
    ("NaN is not JSON", {"raw": '{"timerCallbackData": {"a": NaN}}'}, 400, "body"),
    ("Infinity is not JSON", {"raw": '{"timerCallbackData": -Infinity}'}, 400, "body"),
    ("number past a double", {"raw": '{"timerCallbackData": 1e400}'}, 400, "body"),
    ("integer of 5,000 digits", {"raw": '{"timerCallbackData": ' + "7" * 5000 + "}"}, 400, "body"),
    (
        "nested 5,000 deep",
        {"raw": '{"timerCallbackData": ' + "[" * 5000 + "]" * 5000 + "}"},
        400,
        "body",
    ),
    (
        "nested 300 deep",
        {"raw": '{"timerCallbackData": ' + "[" * 300 + "]" * 300 + "}"},
        400,
        "timerCallbackData",
    ),
    ("no body", {"raw": ""}, 400, "body"),
    ("bad cron", {"raw": '{"schedule": "cron(0 25 * * ? *)"}'}, 400, "schedule"),
    ("bad rate", {"raw": '{"schedule": "rate(0 minutes)"}'}, 400, "schedule"),
    ("gibberish schedule", {"raw": '{"schedule": "sometimes"}'}, 400, "schedule"),
    ("bad time zone", {"raw": '{"timezone": "Mars/Olympus"}'}, 400, "timezone"),
    ("bad date", {"raw": '{"startAt": "yesterday"}'}, 400, "startAt"),
    (
        "end before start",
        {"raw": '{"startAt": "2030-01-02T00:00:00Z", "endAt": "2030-01-01T00:00:00Z"}'},
        400,
        "endAt",
    ),
    ("unknown job type", {"raw": '{"jobType": "carrier-pigeon"}'}, 400, "jobType"),
    ("bad job config", {"raw": '{"jobType": "webhook", "job": {"url": 5}}'}, 400, "job.url"),
    ("bad misfire policy", {"raw": '{"misfirePolicy": "sometimes"}'}, 400, "misfirePolicy"),
    ("negative catch-up window", {"raw": '{"catchUpWindow": -1}'}, 400, "catchUpWindow"),
    ("catch-up window of 3 days", {"raw": '{"catchUpWindow": 259200}'}, 400, "catchUpWindow"),
    ("catch-up window as text", {"raw": '{"catchUpWindow": "1h"}'}, 400, "catchUpWindow"),
    *[
        (
            f"webhook header {case}",
            {"raw": json.dumps({"jobType": "webhook", "job": {"url": URL, "headers": headers}})},
            400,
            f"job.headers.{next(iter(headers))}",
        )
        for case, headers in [  # RFC 9110 5.1 (names are tokens) and 5.5 (field values)
            ("value with CR LF", {"X-Tenant": "a\r\nX-Injected: 1"}),
            ("value with LF", {"X-Tenant": "a\nb"}),
            ("value with NUL", {"X-Tenant": "a\x00b"}),
            ("value with DEL", {"X-Tenant": "a\x7fb"}),
            ("value with a leading space", {"X-Tenant": " a"}),
            ("value with a trailing tab", {"X-Tenant": "a\t"}),
            ("value not ASCII", {"X-Tenant": "caf\u00e9"}),
            ("name with a space", {"X Tenant": "a"}),
            ("name with a colon", {"X-Tenant:": "a"}),
            ("name with CR LF", {"X-A\r\nX-B": "a"}),
            ("name empty", {"": "a"}),
            ("name not ASCII", {"X-\u00c4": "a"}),
        ]
    ],
    (
        "html_monitor header value with LF",
        {
            "raw": json.dumps(
                {"jobType": "html_monitor", "job": {"url": URL, "headers": {"A": "\n"}}}
            )
        },
        400,
        "job.headers.A",
    ),
    (
        "callback data too big",
        {"raw": json.dumps({"timerCallbackData": LONG})},
        400,
        "timerCallbackData",
    ),
    ("body too big", {"raw": json.dumps({"timerCallbackData": "y" * 300_000})}, 413, "body"),
    ("bad id", {"path": "/periodic/no%20spaces", "raw": "{}"}, 400, "id"),
    ("id too long", {"path": "/periodic/" + "a" * 129, "raw": "{}"}, 400, "id"),
    ("past at", {"raw": '{"schedule": "at(2001-01-01T00:00:00)"}'}, 400, "schedule"),
    ("at after 2199", {"raw": '{"schedule": "at(9999-12-31T23:00:00)"}'}, 400, "schedule"),
    (
        "at 2199 that is 2200 in UTC",
        {"raw": '{"schedule": "at(2199-12-31T23:00:00)", "timezone": "America/New_York"}'},
        400,
        "schedule",
    ),
    ("rate past 2199", {"raw": '{"schedule": "rate(99999999999 minutes)"}'}, 400, "schedule"),
    ("startAt in year 9999", {"raw": '{"startAt": "9999-12-31T23:59:00Z"}'}, 400, "startAt"),
    ("startAt in year 1", {"raw": '{"startAt": "0001-01-01T00:00:00+14:00"}'}, 400, "startAt"),
    ("endAt in year 9999", {"raw": '{"endAt": "9999-12-31T23:59:59-12:00"}'}, 400, "endAt"),
    (
        "startAt 2199 that is 2200 in UTC",
        {"raw": '{"startAt": "2199-12-31T23:59:00-05:00"}'},
        400,
        "startAt",
    ),
    (
        "cron with no firing after startAt",
        {"raw": '{"schedule": "cron(0 0 29 2 ? *)", "startAt": "2199-03-01T00:00:00"}'},
        400,
        "startAt",
    ),
    ("cron in past years", {"raw": '{"schedule": "cron(0 0 * * ? 2020)"}'}, 400, "schedule"),
    # found by an outside review: other scripts' digits, host-defined zones, 2200 in UTC
    (
        "rate in Arabic-Indic digits",
        {"raw": '{"schedule": "rate(\u0665 minutes)"}'},
        400,
        "schedule",
    ),
    (
        "at in Arabic-Indic digits",
        {"raw": '{"schedule": "at(\u0662027-01-01T00:00:00)"}'},
        400,
        "schedule",
    ),
    ("the host's localtime", {"raw": '{"timezone": "localtime"}'}, 400, "timezone"),
    ("tzdata's Factory zone", {"raw": '{"timezone": "Factory"}'}, 400, "timezone"),
    (
        "endAt 2199 that is 2200 in UTC",
        {"raw": '{"schedule": "rate(1 day)", "endAt": "2199-12-31T23:59:59-14:00"}'},
        400,
        "endAt",
    ),
    ("bad if-match", {"raw": "{}", "headers": {"If-Match": "latest"}}, 400, "If-Match"),
    ("bad history policy", {"raw": '{"history": "most"}'}, 400, "history"),
    ("html: no url", {"raw": '{"jobType": "html_monitor", "job": {}}'}, 400, "job.url"),
    (
        "html: not css",
        {
            "raw": '{"jobType": "html_monitor", "job": {"url": "https://a.example/", '
            '"include": ["div..x"]}}'
        },
        400,
        "job.include.0",
    ),
    (
        "html: not a regex",
        {
            "raw": '{"jobType": "html_monitor", "job": {"url": "https://a.example/", '
            '"ignoreText": ["ok", "(unclosed"]}}'
        },
        400,
        "job.ignoreText.1",
    ),
    (
        "html: unsupported apprise url",
        {
            "raw": '{"jobType": "html_monitor", "job": {"url": "https://a.example/", '
            '"notify": {"apprise": ["pigeon://coop"]}}}'
        },
        400,
        "job.notify.apprise.0",
    ),
    (
        "html: max bytes too large",
        {
            "raw": '{"jobType": "html_monitor", "job": {"url": "https://a.example/", '
            '"maxBytes": 999999999}}'
        },
        400,
        "job.maxBytes",
    ),
    (
        "ec2: no filters",
        {"raw": '{"jobType": "ec2_instances", "job": {"action": "stop", "filters": []}}'},
        400,
        "job.filters",
    ),
    (
        "ec2: bad action",
        {
            "raw": '{"jobType": "ec2_instances", "job": {"action": "reboot", '
            '"filters": {"tag:env": "dev"}}}'
        },
        400,
        "job.action",
    ),
    (
        "ec2: bad role",
        {
            "raw": '{"jobType": "ec2_instances", "job": {"action": "stop", '
            '"filters": {"tag:env": "dev"}, "roleArn": "admin"}}'
        },
        400,
        "job.roleArn",
    ),
    (
        "sns: bad topic",
        {"raw": '{"jobType": "sns", "job": {"topicArn": "x"}}'},
        400,
        "job.topicArn",
    ),
    ("lambda: no function", {"raw": '{"jobType": "lambda", "job": {}}'}, 400, "job.functionName"),
    (
        "eventbridge: bad source",
        {"raw": '{"jobType": "eventbridge", "job": {"source": "has spaces"}}'},
        400,
        "job.source",
    ),
]


@pytest.mark.parametrize(
    ("mistake", "request_parts", "status", "field"),
    CLIENT_MISTAKES,
    ids=[case[0] for case in CLIENT_MISTAKES],
)
def test_client_mistake_is_4xx_json_naming_field_and_writes_nothing(
    call_api: ApiCall,
    aws: AwsResources,
    mistake: str,
    request_parts: dict[str, Any],
    status: int,
    field: str,
) -> None:
    before = aws.scan()
    response = call_api(
        "PUT",
        request_parts.get("path", "/periodic/t1"),
        raw_body=request_parts["raw"],
        headers=request_parts.get("headers"),
    )
    assert response.status == status, response.body
    error = response.body["error"]
    assert error["field"] == field
    assert error["code"]
    assert error["message"]
    assert aws.scan() == before


@pytest.mark.parametrize(
    ("method", "path", "query", "status", "field"),
    [
        ("GET", "/periodic", {"limit": "0"}, 400, "limit"),
        ("GET", "/periodic", {"limit": "many"}, 400, "limit"),
        ("GET", "/periodic", {"nextToken": "not-a-token!"}, 400, "nextToken"),
        ("GET", "/nowhere", None, 404, None),
        ("GET", "/periodic/absent", None, 404, "id"),
        ("GET", "/periodic/absent/runs", None, 404, "id"),
        ("GET", "/periodic/absent/runs", {"limit": "101"}, 400, "limit"),
        ("GET", "/periodic/absent/runs", {"nextToken": "bm9wZQ"}, 400, "nextToken"),
        ("GET", "/periodic/%C2%84", None, 400, "id"),
    ],
)
def test_other_client_mistakes_are_4xx_json(
    call_api: ApiCall,
    method: str,
    path: str,
    query: dict[str, str] | None,
    status: int,
    field: str | None,
) -> None:
    response = call_api(method, path, query=query)
    assert response.status == status
    assert response.body["error"]["field"] == field


def test_replace_with_bad_body_keeps_the_old_timer(call_api: ApiCall) -> None:
    call_api("PUT", "/periodic/t", {"timerCallbackData": "kept"})
    bad = call_api("PUT", "/periodic/t", {"schedule": "cron(bad)"})
    assert bad.status == 400
    kept = call_api("GET", "/periodic/t").body
    assert (kept["timerCallbackData"], kept["version"]) == ("kept", 1)


def test_body_without_content_type_is_read_as_json(call_api: ApiCall) -> None:
    response = call_api(
        "PUT",
        "/periodic/t",
        raw_body='{"schedule": "rate(2 minutes)"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (response.status, response.body["schedule"]) == (201, "rate(2 minutes)")


def test_base64_encoded_body_is_accepted(call_api: ApiCall, aws: AwsResources) -> None:
    from api.handler import lambda_handler
    from timer_service_local.gateway import build_event
    from timer_service_local.lambda_context import LocalContext

    event = build_event(
        method="PUT",
        raw_path="/periodic/b64",
        headers={"Content-Type": "application/json"},
        body=b"",
        owner=ALICE,
    )
    event["body"] = base64.b64encode(b'{"timerCallbackData": 1}').decode()
    event["isBase64Encoded"] = True
    assert lambda_handler(event, LocalContext())["statusCode"] == 201


def raw_event(method: str, path: str, body: bytes, *, base64_encoded: bool = True) -> Any:
    from timer_service_local.gateway import build_event

    event = build_event(
        method=method,
        raw_path=path,
        headers={"Content-Type": "application/json"},
        body=b"",
        owner=ALICE,
    )
    event["body"] = base64.b64encode(body).decode() if base64_encoded else body.decode("latin-1")
    event["isBase64Encoded"] = base64_encoded
    return event


@pytest.mark.parametrize("method", ["PUT", "GET", "POST", "DELETE"])
@pytest.mark.parametrize("body", [b"\x80", b'{"schedule": "\xff"}', b"\xef\xbb"])
def test_a_body_that_is_not_utf8_is_a_400_naming_the_body(
    call_api: ApiCall, aws: AwsResources, method: str, body: bytes
) -> None:
    from api.handler import lambda_handler
    from timer_service_local.lambda_context import LocalContext

    before = aws.scan()
    result = lambda_handler(raw_event(method, "/periodic/x", body), LocalContext())
    assert result["statusCode"] == 400
    error = json.loads(result["body"])["error"]
    assert error["field"] == "body" and "not UTF-8" in error["message"]
    assert aws.scan() == before


def test_a_body_that_is_not_base64_when_it_says_so_is_a_400(call_api: ApiCall) -> None:
    from api.handler import lambda_handler
    from timer_service_local.lambda_context import LocalContext

    event = raw_event("PUT", "/periodic/x", b"{}")
    event["body"] = "%%% not base64 %%%"
    result = lambda_handler(event, LocalContext())
    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"]["field"] == "body"
