"""The local stack's HTTP front: what API Gateway does in front of the API Lambda, on uvicorn.

It builds the REST proxy event with the caller's identity, checks the API key when keys are
set, applies each tenant's request rate (as a usage plan would), answers CORS preflights,
refuses a body over the limit with 413 before reading it, and turns the handler's result back
into an HTTP response. The handler runs in ``invoke`` (the local stack passes a pool of
processes, each a warm Lambda instance); asyncio serves every connection, so a slow or broken
client holds up nobody else.

Web pages are kept out by :class:`~timer_service_local.host_guard.HostGuard` (a request must
name the stack in its ``Host``, a change come from no origin or an allowed one), before the API
runs. Every answer forbids framing (:data:`NO_FRAMING`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from timer_service.limits import MAX_BODY_BYTES
from timer_service_console import NO_FRAMING, asset
from timer_service_local.host_guard import HostGuard, host_literal
from timer_service_local.limits import RateLimiter
from timer_service_local.proxy_event import build_event

__all__ = ["LOCAL_OWNER", "Gateway", "GatewayApp", "build_event"]  # build_event: re-exported

LOCAL_OWNER = "local"
OPEN_PATHS = frozenset({"/health", "/docs", "/openapi.json"})  # no API key needed
PING_PATH = re.compile(r"/ping/[^/?]+")  # nor here: GET|POST|HEAD /ping/{token}, as deployed
FEED_PATH = re.compile(r"/feeds/[^/?]+")  # nor GET|HEAD /feeds/{token}: a feed reader's
FEED_METHODS = frozenset({"GET", "HEAD"})
BODY_TIMEOUT_S = 30.0  # a client that stops sending its body is answered 408
CORS_ALLOW_HEADERS = "Content-Type, X-Api-Key, If-Match, If-None-Match, Authorization"
CORS_EXPOSE_HEADERS = "ETag, Location, Retry-After"
CORS_MAX_AGE_S = 600

Invoke = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _error(
    status: int, code: str, message: str, field: str | None
) -> tuple[int, dict[str, str], bytes]:
    """An answer of the gateway itself, in the API's error shape."""
    body = {"error": {"code": code, "message": message, "field": field}}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


class _TooLarge(Exception):
    pass


class GatewayApp:
    """The ASGI application: one API Gateway stage in front of ``invoke``."""

    def __init__(
        self,
        invoke: Invoke,
        *,
        api_keys: Sequence[str] = (),
        limiter: RateLimiter | None = None,
        cors_origins: Sequence[str] = (),
        max_body_bytes: int = MAX_BODY_BYTES,
        on_request: Callable[[str, str, int, float], None] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self._invoke = invoke
        # Each key is an owner, as each API key is a tenant of a deployed stack; the first
        # key's owner is the keyless stack's, so its timers stay its own.
        self._api_keys = {
            key: LOCAL_OWNER if n == 0 else f"{LOCAL_OWNER}-key{n + 1}"
            for n, key in enumerate(api_keys)
        }
        self._limiter = limiter
        self._cors = frozenset(cors_origins)
        self._max_body = max_body_bytes
        self._on_request = on_request
        self._guard = HostGuard(host=host, cors_origins=cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        method = scope["method"]
        target = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1").title(), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        refusal = self._guard.refusal(method, headers, scope.get("server"))
        if refusal is not None:
            status, response_headers, payload = _error(403, *refusal)
        else:
            status, response_headers, payload = await self._answer(method, target, headers, receive)
        cors = self._cors_headers(headers.get("Origin"))
        response_headers = {**NO_FRAMING, **response_headers, **cors}
        response_headers["Content-Length"] = str(len(payload))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode("latin-1")) for k, v in response_headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else payload})
        if self._on_request is not None:
            elapsed_ms = (time.perf_counter() - started) * 1000
            # A ping's token is its credential: the request log shows where, not which.
            shown = PING_PATH.sub("/ping/…", target) if "/ping/" in target else target
            shown = FEED_PATH.sub("/feeds/…", shown) if "/feeds/" in shown else shown
            self._on_request(method, shown, status, elapsed_ms)

    async def _answer(
        self, method: str, target: str, headers: dict[str, str], receive: Receive
    ) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(target).path
        if method == "OPTIONS" and "Access-Control-Request-Method" in headers and self._cors:
            return 204, self._preflight_headers(), b""  # a CORS preflight carries no API key
        if method in ("GET", "HEAD"):
            console = asset(path)  # the console's files are public; its API calls are not
            if console is not None:
                return console
        open_path = unquote(path) in OPEN_PATHS
        api_key_id = None
        owner: str | None = LOCAL_OWNER
        ping = PING_PATH.fullmatch(path) is not None
        ping |= method in FEED_METHODS and FEED_PATH.fullmatch(path) is not None
        if ping:  # a heartbeat's ping, a feed's read: the token in its URL is its credential
            open_path, owner = True, None
        if self._api_keys and not open_path:
            given = headers.get("X-Api-Key")
            if given not in self._api_keys:
                return _error(
                    401, "unauthorized", "a valid X-Api-Key header is required", "X-Api-Key"
                )
            owner = api_key_id = self._api_keys[given]
        if self._limiter is not None and (ping or not open_path):  # pings share one bucket
            wait_s = self._limiter.check(owner or "ping")
            if wait_s is not None:
                status, extra, payload = _error(
                    429,
                    "too_many_requests",
                    f"over {self._limiter.rate:g} requests a second (bursts of "
                    f"{self._limiter.burst}): retry after {math.ceil(wait_s)} s",
                    None,
                )
                return status, {**extra, "Retry-After": str(math.ceil(wait_s))}, payload
        try:
            body = await self._read_body(headers, receive)
        except _TooLarge:
            return _error(
                413,
                "payload_too_large",
                f"the body is over {self._max_body} bytes; at most {self._max_body}",
                "body",
            )
        except TimeoutError:
            return _error(408, "request_timeout", "the body did not arrive in time", "body")
        event = build_event(
            method=method,
            raw_path=target,
            headers=headers,
            body=body,
            owner=owner,
            api_key_id=api_key_id,
        )
        try:
            result = await self._invoke(event)
        except Exception as exc:  # the Lambda failed: API Gateway answers 502
            return _error(502, "internal_error", f"the API failed: {type(exc).__name__}", None)
        response_headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name] = ", ".join(values)
        text = result.get("body") or ""
        data = base64.b64decode(text) if result.get("isBase64Encoded") else text.encode()
        return int(result["statusCode"]), response_headers, data

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes:
        declared = headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body:
            raise _TooLarge  # refused before a byte of it is read
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await asyncio.wait_for(receive(), timeout=BODY_TIMEOUT_S)
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise _TooLarge  # a chunked body: refused as soon as it is over
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _allowed_origin(self, origin: str | None) -> str | None:
        if origin is None or not self._cors:
            return None
        if "*" in self._cors:
            return "*"
        return origin if origin in self._cors else None

    def _cors_headers(self, origin: str | None) -> dict[str, str]:
        allowed = self._allowed_origin(origin)
        if allowed is None:
            return {}
        headers = {
            "Access-Control-Allow-Origin": allowed,
            "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
        }
        if allowed != "*":
            headers["Vary"] = "Origin"
        return headers

    def _preflight_headers(self) -> dict[str, str]:
        return {
            "Access-Control-Allow-Methods": "GET, PUT, POST, DELETE, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": str(CORS_MAX_AGE_S),
        }


class Gateway:
    """Serves a :class:`GatewayApp` with uvicorn on ``host:port`` (0: a free port), in a thread."""

    def __init__(self, app: GatewayApp, *, host: str = "127.0.0.1", port: int = 8080) -> None:
        import uvicorn

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.create_server(
            (host, port), family=family, reuse_port=False, backlog=512
        )
        # Accepted connections inherit this: without it, a response's headers and body go out
        # as two small writes and the second waits for the client's delayed ACK (40 ms).
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        config = uvicorn.Config(
            app,
            lifespan="off",
            access_log=False,
            log_level="warning",
            http="h11",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True, name="http"
        )

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host_literal(str(host))}:{port}"

    def start(self) -> Gateway:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 1.5) -> None:
        """Stop accepting; requests under way get ``timeout_s`` to finish."""
        self._server.should_exit = True
        self._thread.join(timeout=timeout_s)
        self._socket.close()
