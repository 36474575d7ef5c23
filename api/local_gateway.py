"""A thin HTTP -> API Gateway (REST, v1 event) adapter around the API Lambda, for the local stack.

It does what API Gateway does in front of the handler: builds the proxy event with the
caller's identity, checks the API key when one is set, and turns the handler's result back
into an HTTP response. Calls into the handler are serialised, as one Lambda instance would be.
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from timer_service.local.lambda_context import LocalContext
from timer_service.local.limits import RateLimiter

__all__ = ["LOCAL_OWNER", "LocalContext", "LocalGateway", "build_event"]

LOCAL_OWNER = "local"
STAGE = "local"
OPEN_PATHS = frozenset({"/health", "/docs", "/openapi.json"})  # no API key needed

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def build_event(
    *,
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
    owner: str | None,
    api_key_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event for one HTTP request."""
    parts = urlsplit(raw_path)
    path = unquote(parts.path)  # API Gateway hands the handler the decoded path
    query = parse_qs(parts.query, keep_blank_values=True)
    request_id = str(uuid.uuid4())
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        import base64

        text, encoded = base64.b64encode(body).decode(), True
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "resourcePath": path,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "httpMethod": method,
            "requestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {
                "sourceIp": "127.0.0.1",
                "userArn": owner if api_key_id is None else None,
                "apiKeyId": api_key_id,
                "apiKey": None,
            },
        },
        "body": text if body else None,
        "isBase64Encoded": encoded,
    }


class LocalGateway:
    """Serves ``handler`` over HTTP on ``host:port`` (0 picks a free port) in a thread."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        api_keys: Sequence[str] = (),
        limiter: RateLimiter | None = None,
        on_request: Callable[[str, str, int, float], None] | None = None,
    ) -> None:
        self._handler = handler
        # Each key is an owner, as each API key is a tenant of a deployed stack; the first
        # key's owner is the keyless stack's, so its timers stay its own.
        self._api_keys = {
            key: LOCAL_OWNER if n == 0 else f"{LOCAL_OWNER}-key{n + 1}"
            for n, key in enumerate(api_keys)
        }
        self._limiter = limiter
        self._on_request = on_request
        self._lock = threading.Lock()
        self.changes = 0  # successful writes served: the local stack saves state after them
        gateway = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                gateway._serve(self)

            def __getattr__(self, name: str) -> Any:
                # Every method goes to the API (TRACE, PATCH, ...: 405 there), not to a 501.
                if name.startswith("do_"):
                    return self.do_GET
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # requests are reported through on_request

        class _Server(ThreadingHTTPServer):
            request_queue_size = 128

        self._server = _Server((host, port), _RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        started = time.perf_counter()
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        headers = {name: value for name, value in request.headers.items()}
        status, response_headers, payload = self._dispatch(
            request.command, request.path, headers, body
        )
        request.send_response(status)
        for name, value in response_headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(payload)
        if request.command in ("PUT", "POST", "DELETE") and status < 400:
            self.changes += 1
        if self._on_request is not None:
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._on_request(request.command, request.path, status, elapsed_ms)

    def _dispatch(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        open_path = urlsplit(path).path in OPEN_PATHS
        api_key_id = None
        owner = LOCAL_OWNER
        if self._api_keys and not open_path:
            given = next((v for k, v in headers.items() if k.lower() == "x-api-key"), None)
            if given not in self._api_keys:
                return _json_error(
                    401, "unauthorized", "a valid X-Api-Key header is required", "X-Api-Key"
                )
            owner = api_key_id = self._api_keys[given]
        if self._limiter is not None and not open_path:
            wait_s = self._limiter.check(owner)
            if wait_s is not None:
                status, extra, payload = _json_error(
                    429,
                    "too_many_requests",
                    f"over {self._limiter.rate:g} requests a second (bursts of "
                    f"{self._limiter.burst}): retry after {math.ceil(wait_s)} s",
                    None,
                )
                return status, {**extra, "Retry-After": str(math.ceil(wait_s))}, payload
        event = build_event(
            method=method,
            raw_path=path,
            headers=headers,
            body=body,
            owner=owner,
            api_key_id=api_key_id,
        )
        with self._lock:
            result = self._handler(event, LocalContext())
        response_headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name] = ", ".join(values)
        payload = result.get("body") or ""
        if result.get("isBase64Encoded"):
            import base64

            data = base64.b64decode(payload)
        else:
            data = payload.encode()
        return int(result["statusCode"]), response_headers, data


def _json_error(
    status: int, code: str, message: str, field: str | None
) -> tuple[int, dict[str, str], bytes]:
    """An answer of the gateway itself, in the API's error shape."""
    body = {"error": {"code": code, "message": message, "field": field}}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
