"""The local stack's HTTP front (uvicorn): limits, CORS, and clients that misbehave."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from timer_service_local.gateway import Gateway, GatewayApp

ORIGIN = "http://console.example"


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail = False

    async def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("the function crashed")
        self.events.append(event)
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"path": event["path"], "size": len(event["body"] or "")}),
        }


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def gateway(recorder: Recorder) -> Iterator[Gateway]:
    app = GatewayApp(recorder, cors_origins=[ORIGIN], max_body_bytes=1000)
    served = Gateway(app, port=0).start()
    yield served
    served.stop()


def raw_request(gateway: Gateway, data: bytes, *, read: bool = True) -> bytes:
    host, port = gateway.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(data)
        if not read:
            return b""
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                head, _, body = answer.partition(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                if len(body) >= length:
                    break
        return answer


def test_a_body_over_the_limit_is_refused_before_it_is_sent(
    gateway: Gateway, recorder: Recorder
) -> None:
    # the headers announce 10 MB and no byte of it follows: the answer comes anyway
    started = time.monotonic()
    host = gateway.url.removeprefix("http://").encode()
    answer = raw_request(
        gateway,
        b"PUT /periodic/x HTTP/1.1\r\nHost: " + host + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10000000\r\n\r\n",
    )
    assert time.monotonic() - started < 2
    assert answer.startswith(b"HTTP/1.1 413")
    error = json.loads(answer.partition(b"\r\n\r\n")[2])["error"]
    assert (error["code"], error["field"]) == ("payload_too_large", "body")
    assert recorder.events == []


def test_a_chunked_body_over_the_limit_is_refused(gateway: Gateway, recorder: Recorder) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"x" * 400

    response = httpx.put(f"{gateway.url}/periodic/x", content=chunks())
    assert response.status_code == 413
    assert recorder.events == []
    small = httpx.put(f"{gateway.url}/periodic/x", content=iter([b"{}"]))
    assert small.status_code == 200 and small.json()["size"] == 2


def test_a_slow_client_does_not_hold_up_the_others(gateway: Gateway) -> None:
    host, port = gateway.url.removeprefix("http://").split(":")
    stalled = []
    for _ in range(20):  # half a request each, then silence
        connection = socket.create_connection((host, int(port)))
        head = f"PUT /periodic/x HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 50\r\n\r\n"
        connection.sendall(head.encode() + b"{")
        stalled.append(connection)
    try:
        started = time.monotonic()
        for _ in range(5):
            assert httpx.get(f"{gateway.url}/periodic/y", timeout=5).status_code == 200
        assert time.monotonic() - started < 2
    finally:
        for connection in stalled:
            connection.close()


def test_cors_answers_the_configured_origin_only(gateway: Gateway) -> None:
    allowed = httpx.get(f"{gateway.url}/periodic", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    other = httpx.get(f"{gateway.url}/periodic", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = httpx.options(
        f"{gateway.url}/periodic/x",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type, x-api-key",
        },
    )
    assert preflight.status_code == 204
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]
    assert "X-Api-Key" in preflight.headers["Access-Control-Allow-Headers"]


def test_head_has_no_body_and_a_failed_function_is_a_502(
    gateway: Gateway, recorder: Recorder
) -> None:
    head = httpx.head(f"{gateway.url}/periodic")
    assert head.status_code == 200 and head.content == b""
    recorder.fail = True
    failed = httpx.get(f"{gateway.url}/periodic")
    assert failed.status_code == 502
    assert failed.json()["error"]["code"] == "internal_error"


def test_the_event_is_api_gateways_shape(gateway: Gateway, recorder: Recorder) -> None:
    httpx.put(
        f"{gateway.url}/periodic/a%20b?limit=5&limit=6",
        json={"k": 1},
        headers={"X-Custom": "v"},
    )
    (event,) = recorder.events
    assert event["httpMethod"] == "PUT"
    assert event["path"] == "/periodic/a b"
    httpx.get(f"{gateway.url}/periodic/a%2fpause%2F%41")
    assert recorder.events[-1]["path"] == "/periodic/a%2Fpause%2FA"  # a slash stays encoded
    assert event["multiValueQueryStringParameters"]["limit"] == ["5", "6"]
    assert event["headers"]["X-Custom"] == "v"
    assert json.loads(event["body"]) == {"k": 1}
    assert event["requestContext"]["stage"] and event["requestContext"]["path"]


# --- cross-site requests and DNS rebinding ------------------------------------------------
# A browser sends Origin on every cross-origin request and on every POST, PUT and DELETE
# (Fetch standard, "append a request `Origin` header"); a simple POST needs no preflight, so
# the gateway itself must refuse one from another origin. Clients that are not browsers send
# no Origin and are not affected.


def _port(gateway: Gateway) -> int:
    return int(gateway.url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/periodic/x/pause"),
        ("POST", "/periodic/x/trigger"),
        ("PUT", "/periodic/x"),
        ("DELETE", "/periodic/x"),
    ],
)
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},  # a sandboxed frame, a data: URL, a no-referrer form
        {"Origin": "http://127.0.0.1:1"},  # same host, another port: another origin
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port of localhost is the same site
        {"Referer": "http://evil.example/page.html"},
    ],
    ids=["origin", "null-origin", "other-port", "fetch-cross-site", "fetch-same-site", "referer"],
)
def test_gateway_state_change_from_another_origin_is_a_403_and_not_invoked(
    gateway: Gateway, recorder: Recorder, method: str, path: str, headers: dict[str, str]
) -> None:
    response = httpx.request(method, f"{gateway.url}{path}", headers=headers, content=b"{}")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "cross_origin_request"
    assert error["field"] in {"Origin", "Sec-Fetch-Site", "Referer"}
    assert error["message"]
    assert recorder.events == []


def test_gateway_state_change_from_its_own_or_an_allowed_origin_is_served(
    gateway: Gateway, recorder: Recorder
) -> None:
    port = _port(gateway)
    for headers in [
        {},  # curl, httpx, the CLI: no Origin at all
        {"Origin": gateway.url},
        {"Origin": f"http://localhost:{port}", "Host": f"localhost:{port}"},
        {"Origin": ORIGIN},  # allowed with --cors-origin
        {"Sec-Fetch-Site": "same-origin", "Referer": f"{gateway.url}/console/"},
        {"Sec-Fetch-Site": "none"},  # typed by the user
    ]:
        response = httpx.post(f"{gateway.url}/periodic/x/pause", headers=headers)
        assert response.status_code == 200, (headers, response.text)
    assert len(recorder.events) == 6


def test_gateway_reads_from_another_origin_are_left_to_cors(
    gateway: Gateway, recorder: Recorder
) -> None:
    response = httpx.get(f"{gateway.url}/periodic", headers={"Origin": "http://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers  # the page cannot read it


def test_gateway_with_any_cors_origin_takes_state_changes_from_anywhere(
    recorder: Recorder,
) -> None:
    served = Gateway(GatewayApp(recorder, cors_origins=["*"]), port=0).start()
    try:
        response = httpx.post(
            f"{served.url}/periodic/x/pause", headers={"Origin": "http://evil.example"}
        )
        assert response.status_code == 200
    finally:
        served.stop()


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost.evil.example:{port}", ""],
)
def test_gateway_forged_host_is_a_403_for_every_method(
    gateway: Gateway, recorder: Recorder, host: str
) -> None:
    # DNS rebinding: a page of evil.example, whose name now resolves to 127.0.0.1, calls
    # the stack as its own origin; only the Host header tells
    forged = {"Host": host.format(port=_port(gateway))}
    for method in ("GET", "POST", "OPTIONS"):
        response = httpx.request(method, f"{gateway.url}/periodic", headers=forged)
        assert response.status_code == 403, (method, host)
        error = response.json()["error"]
        assert (error["code"], error["field"]) == ("wrong_host", "Host")
    assert recorder.events == []


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}"])
def test_gateway_loopback_host_names_are_served(
    gateway: Gateway, recorder: Recorder, host: str
) -> None:
    named = {"Host": host.format(port=_port(gateway))}
    response = httpx.get(f"{gateway.url}/periodic", headers=named)
    assert response.status_code == 200


def test_gateway_ipv6_loopback_and_the_bind_host_are_served(recorder: Recorder) -> None:
    served = Gateway(GatewayApp(recorder, host="::1"), host="::1", port=0).start()
    try:
        port = _port(served)
        assert served.url == f"http://[::1]:{port}"
        assert httpx.get(f"{served.url}/periodic").status_code == 200
        named = httpx.get(f"{served.url}/periodic", headers={"Host": f"localhost:{port}"})
        assert named.status_code == 200
        other = httpx.get(f"{served.url}/periodic", headers={"Host": f"evil.example:{port}"})
        assert other.status_code == 403
    finally:
        served.stop()


def test_gateway_answers_forbid_framing(gateway: Gateway) -> None:
    for path in ("/periodic", "/console/"):
        response = httpx.get(f"{gateway.url}{path}")
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/console/", "/console/app.js", "/console/views/edit.js"])
def test_gateway_serves_the_console_modules_as_a_browser_fetches_them_under_one_policy(
    gateway: Gateway, recorder: Recorder, path: str
) -> None:
    from timer_service_console import CONSOLE_POLICY

    # a module script is fetched in CORS mode (HTML 8.1.3.4): Sec-Fetch-Mode cors, and the
    # page's Origin when Chromium sends one
    fetched = {
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Site": "same-origin",
        "Sec-Fetch-Dest": "script",
        "Origin": gateway.url,
        "Referer": f"{gateway.url}/console/",
    }
    response = httpx.get(f"{gateway.url}{path}", headers=fetched)
    assert response.status_code == 200
    expected = "text/html" if path.endswith("/") else "text/javascript"
    assert response.headers["Content-Type"].startswith(expected)
    assert response.headers.get_list("Content-Security-Policy") == [CONSOLE_POLICY]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert recorder.events == []  # the console's files never reach the API


def test_a_keyed_gateway_passes_a_heartbeat_ping_without_a_key_and_nothing_else(
    recorder: Recorder,
) -> None:
    logged: list[str] = []
    app = GatewayApp(recorder, api_keys=["k1"], on_request=lambda m, t, s, ms: logged.append(t))
    served = Gateway(app, port=0).start()
    try:
        token = "A" * 43
        for method in ("GET", "POST", "HEAD"):
            answer = httpx.request(method, f"{served.url}/ping/{token}", content=b"log line")
            assert answer.status_code == 200, (method, answer.text)
        assert [e["requestContext"]["identity"]["userArn"] for e in recorder.events] == [None] * 3
        assert httpx.get(f"{served.url}/periodic").status_code == 401
        assert httpx.get(f"{served.url}/ping/{token}/more").status_code == 401
        assert not [line for line in logged if token in line]  # the token is its credential
    finally:
        served.stop()


def test_a_keyed_gateway_passes_a_feed_read_without_a_key_and_no_other_feed_call(
    recorder: Recorder,
) -> None:
    # GIVEN a local stack with API keys, whose feed URLs feed readers fetch with no key
    logged: list[str] = []
    app = GatewayApp(recorder, api_keys=["k1"], on_request=lambda m, t, s, ms: logged.append(t))
    served = Gateway(app, port=0).start()
    try:
        token = "B" * 43
        # WHEN a reader fetches a feed THEN it reaches the API with no identity
        for method in ("GET", "HEAD"):
            answer = httpx.request(method, f"{served.url}/feeds/{token}")
            assert answer.status_code == 200, (method, answer.text)
        assert [e["requestContext"]["identity"]["userArn"] for e in recorder.events] == [None] * 2
        # AND managing feeds still takes a key
        assert httpx.post(f"{served.url}/feeds", json={"label": "a=b"}).status_code == 401
        assert httpx.get(f"{served.url}/feeds").status_code == 401
        assert httpx.delete(f"{served.url}/feeds/{token}").status_code == 401
        assert httpx.post(f"{served.url}/periodic/t/feed").status_code == 401
        assert httpx.get(f"{served.url}/feeds/{token}/more").status_code == 401
        assert not [line for line in logged if token in line]  # the token is its credential
    finally:
        served.stop()
