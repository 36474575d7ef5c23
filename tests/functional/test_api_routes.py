"""The API Lambda's routes: methods a path does not take, bodies that are not JSON objects,
ids that are not ids (dot segments, encoded slashes), the collection with a trailing slash."""

from __future__ import annotations

import pytest

from tests.conftest import ALICE, ApiCall, AwsResources


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/periodic/x", "DELETE, GET, HEAD, OPTIONS, PUT"),
        ("PATCH", "/periodic/x", "DELETE, GET, HEAD, OPTIONS, PUT"),
        ("GET", "/periodic/x/pause", "OPTIONS, POST"),
        ("PUT", "/periodic", "GET, HEAD, OPTIONS"),
        ("DELETE", "/job-types", "GET, HEAD, OPTIONS"),
        ("POST", "/docs", "GET, HEAD, OPTIONS"),
    ],
)
def test_a_method_a_path_does_not_take_is_405_with_allow(
    call_api: ApiCall, method: str, path: str, allowed: str
) -> None:
    response = call_api(method, path)
    assert response.status == 405
    assert response.headers["Allow"] == allowed
    assert response.body["error"]["code"] == "method_not_allowed"


def test_options_and_head_answer_without_a_body(call_api: ApiCall) -> None:
    options = call_api("OPTIONS", "/periodic/x/runs")
    assert (options.status, options.headers["Allow"]) == (204, "GET, HEAD, OPTIONS")
    call_api("PUT", "/periodic/x", {})
    head = call_api("HEAD", "/periodic/x")
    assert (head.status, head.body) == (200, "")
    assert head.headers["ETag"] == '"1"'
    assert call_api("HEAD", "/periodic/absent").status == 404


WRITE_ROUTES = [
    ("PUT", "/periodic/t"),
    ("DELETE", "/periodic/t"),
    ("POST", "/periodic/t/pause"),
    ("POST", "/periodic/t/resume"),
    ("POST", "/periodic/t/trigger"),
    ("POST", "/schedules/preview"),
    ("POST", "/dlq/redrive"),
]


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
@pytest.mark.parametrize("body", ["junk", "[1]", "[{}]", "1", '"text"', "true", "{"])
def test_a_body_that_is_not_a_json_object_is_a_400_naming_body_on_every_route(
    call_api: ApiCall, aws: AwsResources, method: str, path: str, body: str
) -> None:
    # GIVEN a timer the route could act on
    call_api("PUT", "/periodic/t", {"schedule": "rate(1 hour)"})
    before = aws.scan()
    # WHEN the body is not a JSON object THEN 400 naming it, and nothing changed
    response = call_api(method, path, raw_body=body)
    assert response.status == 400, (method, path, body, response.body)
    assert response.body["error"]["field"] == "body"
    assert aws.scan() == before


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("DELETE", "/periodic/t", 200),
        ("POST", "/periodic/t/pause", 200),
        ("POST", "/periodic/t/resume", 200),
        ("POST", "/periodic/t/trigger", 202),
        ("POST", "/dlq/redrive", 200),
    ],
)
@pytest.mark.parametrize("body", ["", "{}", "null"])
def test_routes_without_a_body_take_none_an_object_or_null(
    call_api: ApiCall, method: str, path: str, status: int, body: str
) -> None:
    call_api("PUT", "/periodic/t", {"schedule": "rate(1 hour)"})
    response = call_api(method, path, raw_body=body)
    assert response.status == status, response.body


@pytest.mark.parametrize("timer_id", [".", "..", "%2E", "%2e%2E"])
@pytest.mark.parametrize(
    ("method", "suffix"), [("PUT", ""), ("GET", ""), ("DELETE", ""), ("POST", "/pause")]
)
def test_dot_segment_ids_are_a_400_naming_id(
    call_api: ApiCall, aws: AwsResources, timer_id: str, method: str, suffix: str
) -> None:
    # a URL's path drops . and .. segments (RFC 3986 5.2.4): such a timer could not be reached
    from urllib.parse import unquote

    before = aws.scan()
    response = call_api(method, f"/periodic/{unquote(timer_id)}{suffix}", raw_body="{}")
    assert response.status == 400, response.body
    assert response.body["error"]["field"] == "id"
    assert aws.scan() == before


def test_ids_of_three_dots_or_more_are_ids(call_api: ApiCall) -> None:
    assert call_api("PUT", "/periodic/...", {}).status == 201
    assert call_api("GET", "/periodic/...").body["id"] == "..."
    assert call_api("PUT", "/periodic/.hidden", {}).status == 201


def test_a_stored_dot_id_is_listed_and_answers_400_never_500(
    call_api: ApiCall, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.handler
    import timer_service.service
    from timer_service.models import TimerSpec

    # GIVEN timers stored before ids . and .. were refused
    with monkeypatch.context() as patch:
        patch.setattr(timer_service.service, "check_timer_id", lambda timer_id: timer_id)
        for timer_id in (".", ".."):
            api.handler.service().put(ALICE, timer_id, TimerSpec())
    call_api("PUT", "/periodic/a", {})
    # THEN the list shows them and pages past them; addressing one is a 400
    first = call_api("GET", "/periodic", query={"limit": "1"}).body
    assert [t["id"] for t in first["items"]] == ["."]
    rest = call_api("GET", "/periodic", query={"nextToken": first["nextToken"]}).body
    assert [t["id"] for t in rest["items"]] == ["..", "a"]
    assert call_api("GET", "/periodic/.").status == 400


@pytest.mark.parametrize(
    "segment",
    ["\n", "abc\n", "abc\r\n", " ", "abc ", "\x00", "a\x00b", "/", "%2F", "a%2Fpause", "\t"],
    ids=repr,
)
@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/runs"), ("POST", "/trigger")],
)
def test_an_id_segment_that_is_not_an_id_is_a_400_naming_id(
    call_api: ApiCall, aws: AwsResources, segment: str, method: str, suffix: str
) -> None:
    # GIVEN a timer whose id the bad segment contains (a router that strips would find it)
    call_api("PUT", "/periodic/abc", {})
    before = aws.scan()
    response = call_api(method, f"/periodic/{segment}{suffix}", raw_body="{}")
    assert response.status == 400, (segment, response.body)
    assert response.body["error"]["field"] == "id"
    assert aws.scan() == before


def test_the_collection_with_a_trailing_slash_is_the_list(call_api: ApiCall) -> None:
    call_api("PUT", "/periodic/abc", {})
    assert [t["id"] for t in call_api("GET", "/periodic/").body["items"]] == ["abc"]
