"""The local stack's HTTP front (uvicorn): limits, CORS, and clients that misbehave."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from timer_service.local.gateway import Gateway, GatewayApp

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
    answer = raw_request(
        gateway,
        b"PUT /periodic/x HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
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
        connection.sendall(b"PUT /periodic/x HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\n{")
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
    assert event["multiValueQueryStringParameters"]["limit"] == ["5", "6"]
    assert event["headers"]["X-Custom"] == "v"
    assert json.loads(event["body"]) == {"k": 1}
    assert event["requestContext"]["stage"] and event["requestContext"]["path"]
