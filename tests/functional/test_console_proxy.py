"""`timer-service console --stack`'s local proxy, spoken to with raw HTTP: a malformed request
is a JSON error that no page may frame, never a hang or a dropped connection."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from timer_service_cli.console_proxy import REQUESTED_BY, ConsoleProxy


@pytest.fixture
def proxy() -> Iterator[ConsoleProxy]:
    server = ConsoleProxy("http://127.0.0.1:9/v1/", region="eu-west-1", port=0).start()
    yield server
    server.stop()


def raw(proxy: ConsoleProxy, request: str) -> tuple[int, dict[str, str], bytes]:
    host = proxy.url.removeprefix("http://")
    address, port = host.split(":")
    with socket.create_connection((address, int(port)), timeout=5) as sock:
        sock.sendall(request.replace("HOST", host).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        while len(body) < int(headers.get("content-length", 0)):
            body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", " 5x"])
def test_a_bad_content_length_is_a_400_at_once(proxy: ConsoleProxy, length: str) -> None:
    status, headers, body = raw(
        proxy,
        f"POST /periodic/x/pause HTTP/1.1\r\nHost: HOST\r\nX-Requested-By: {REQUESTED_BY}\r\n"
        f"Content-Length: {length}\r\n\r\n",
    )
    assert status == 400
    assert json.loads(body)["error"]["code"] == "bad_request"
    assert headers["content-security-policy"] == "frame-ancestors 'none'"


@pytest.mark.parametrize("method", ["OPTIONS", "PATCH", "TRACE"])
def test_other_methods_are_json_errors_no_page_may_frame(proxy: ConsoleProxy, method: str) -> None:
    status, headers, body = raw(proxy, f"{method} /console/ HTTP/1.1\r\nHost: HOST\r\n\r\n")
    assert status in (405, 501)
    assert json.loads(body)["error"]["code"]
    assert headers["x-frame-options"] == "DENY"


def _head_lines(proxy: ConsoleProxy, request: str) -> tuple[int, list[tuple[str, str]]]:
    """Status and every header line as sent (repeated names kept)."""
    host = proxy.url.removeprefix("http://")
    address, port = host.split(":")
    with socket.create_connection((address, int(port)), timeout=5) as sock:
        sock.sendall(request.replace("HOST", host).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
    lines = data.partition(b"\r\n\r\n")[0].decode().split("\r\n")
    pairs = [(k.strip().lower(), v.strip()) for k, v in (line.split(":", 1) for line in lines[1:])]
    return int(lines[0].split()[1]), pairs


@pytest.mark.parametrize("path", ["/console/", "/console/app.js", "/console/views/timers.js"])
def test_the_console_modules_load_as_a_browser_fetches_them_under_one_policy(
    proxy: ConsoleProxy, path: str
) -> None:
    from timer_service_console import CONSOLE_POLICY

    # GIVEN a module script's request as Chromium sends it: CORS mode, the page's Origin, and
    # no X-Requested-By (only the console's fetch() calls carry it)
    status, headers = _head_lines(
        proxy,
        f"GET {path} HTTP/1.1\r\nHost: HOST\r\nOrigin: http://HOST\r\nSec-Fetch-Mode: cors\r\n"
        "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Dest: script\r\nConnection: close\r\n\r\n",
    )
    # THEN it is served (the API behind, at port 9, is never asked), under one policy
    assert status == 200
    types = [v for k, v in headers if k == "content-type"]
    assert types == [
        "text/html; charset=utf-8" if path.endswith("/") else "text/javascript; charset=utf-8"
    ]
    assert [v for k, v in headers if k == "content-security-policy"] == [CONSOLE_POLICY]
    assert [v for k, v in headers if k == "x-frame-options"] == ["DENY"]


def test_the_proxy_signs_each_call_on_one_connection_to_the_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.functional.test_deployment_cli import SignedApi

    # GIVEN AWS credentials and an API that checks SigV4 and notes each caller's address
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    api = SignedApi()
    proxy = ConsoleProxy(api.url, region="us-east-1", port=0).start()
    try:
        # WHEN the console's page makes three calls through the proxy
        request = f"GET /periodic HTTP/1.1\r\nHost: HOST\r\nX-Requested-By: {REQUESTED_BY}\r\n\r\n"
        answers = [raw(proxy, request) for _ in range(3)]
    finally:
        proxy.stop()
        api.server.shutdown()
    # THEN each was signed, and all went over one connection (one pool, kept alive)
    assert [json.loads(body)["signatureValid"] for _, _, body in answers] == [True] * 3
    assert len({seen["peer"] for seen in api.requests}) == 1
