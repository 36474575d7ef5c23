"""The local stack's HTTP front: what API Gateway does in front of the API Lambda, on uvicorn.

It builds the REST proxy event with the caller's identity, checks the API key when keys are
set, applies each tenant's request rate (as a usage plan would), answers CORS preflights,
refuses a body over the limit with 413 before reading it, and turns the handler's result back
into an HTTP response. The handler runs in ``invoke`` (the local stack passes a pool of
processes, each a warm Lambda instance); asyncio serves every connection, so a slow or broken
client holds up nobody else.

Being on 127.0.0.1 does not keep web pages out: a browser lets any page send a simple POST (no
preflight) to the stack, and DNS rebinding lets a page of another name read from it as its own
origin. So, with or without API keys, the gateway answers only requests that name the stack in
their ``Host`` (a loopback name or an address of the stack, at its port, or the ``--host`` it
was given), and takes a change (any method but GET, HEAD and OPTIONS) only from no origin
(curl, the CLI, scripts), its own or one allowed with ``--cors-origin``; everything else is a 403
before the API runs. Every answer forbids framing (:data:`NO_FRAMING`).
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
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from timer_service.limits import MAX_BODY_BYTES
from timer_service_console import NO_FRAMING, asset
from timer_service_local.limits import RateLimiter

__all__ = ["LOCAL_OWNER", "Gateway", "GatewayApp", "build_event"]

LOCAL_OWNER = "local"
STAGE = "local"
OPEN_PATHS = frozenset({"/health", "/docs", "/openapi.json"})  # no API key needed
BODY_TIMEOUT_S = 30.0  # a client that stops sending its body is answered 408
CORS_ALLOW_HEADERS = "Content-Type, X-Api-Key, If-Match, If-None-Match, Authorization"
CORS_EXPOSE_HEADERS = "ETag, Location, Retry-After"
CORS_MAX_AGE_S = 600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # a page may send these anywhere anyway
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})

_ENCODED_SLASH = re.compile("%2F", re.IGNORECASE)

Invoke = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


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
    # The handler gets the decoded path, but an encoded slash stays one: /periodic/a%2Fpause
    # names the id "a/pause" (refused), not the pause of "a".
    path = "%2F".join(unquote(piece) for piece in _ENCODED_SLASH.split(parts.path))
    query = parse_qs(parts.query, keep_blank_values=True)
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
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
            # The stack is served at its root, as a stage behind a custom domain is: the path
            # has no /{stage} in front (so documents' server URLs are "/", not "/local").
            "path": path,
            "stage": STAGE,
            "httpMethod": method,
            "requestId": str(uuid.uuid4()),
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


def _error(
    status: int, code: str, message: str, field: str | None
) -> tuple[int, dict[str, str], bytes]:
    """An answer of the gateway itself, in the API's error shape."""
    body = {"error": {"code": code, "message": message, "field": field}}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


class _TooLarge(Exception):
    pass


def _host_literal(host: str) -> str:
    """``host`` as it appears in a Host header or a URL: IPv6 addresses in brackets."""
    host = host.lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _split_authority(authority: str) -> tuple[str, int] | None:
    """``name[:port]`` of a Host header or an origin as (name, port); None when malformed."""
    name, sep, port = authority.lower().rpartition(":")
    if not sep or name.endswith(":") or (name.startswith("[") != name.endswith("]")):
        name, port = authority.lower(), "80"  # no port (or a bare IPv6 address, refused)
    if not name or not port.isdigit() or not name.isascii():
        return None
    return name, int(port)


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
        # The names a request may give in Host: loopback names, and the --host the stack was
        # told (unless a wildcard); the connection's own address is added per request.
        bind = _host_literal(host)
        self._host_names = LOOPBACK_NAMES | (set() if bind in WILDCARD_HOSTS else {bind})

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
        refusal = self._refuse_host(headers, scope.get("server")) or self._refuse_origin(
            method, headers, scope.get("server")
        )
        if refusal is not None:
            status, response_headers, payload = refusal
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
            self._on_request(method, target, status, elapsed_ms)

    def _is_stack(self, authority: str, server: Sequence[Any] | None) -> bool:
        """Whether ``authority`` (a Host header, an origin's host:port) names this stack."""
        found = _split_authority(authority)
        if found is None:
            return False
        name, port = found
        if server is None:  # no socket address (not uvicorn's TCP server): the names alone
            return name in self._host_names
        # The address the client connected to is the stack's own, an IP literal that no DNS
        # rebinding can give (with --host 0.0.0.0, the machine's address on that network).
        local = _host_literal(str(server[0]))
        return port == int(server[1]) and (name in self._host_names or name == local)

    def _refuse_host(
        self, headers: dict[str, str], server: Sequence[Any] | None
    ) -> tuple[int, dict[str, str], bytes] | None:
        host = headers.get("Host")
        if host is None or self._is_stack(host, server):  # no Host: HTTP/1.0, not a browser
            return None
        return _error(
            403,
            "wrong_host",
            f"this stack answers to 127.0.0.1, localhost or [::1] at its port, not {host!r}",
            "Host",
        )

    def _refuse_origin(
        self, method: str, headers: dict[str, str], server: Sequence[Any] | None
    ) -> tuple[int, dict[str, str], bytes] | None:
        """A change sent by a page of another origin, which a browser sends without asking."""
        if method in SAFE_METHODS or "*" in self._cors:
            return None
        origin, field = headers.get("Origin"), "Origin"
        if origin is None:
            # Browsers send Origin with every POST, PUT and DELETE; these cover the rest
            if headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
                origin, field = headers["Sec-Fetch-Site"], "Sec-Fetch-Site"
            elif headers.get("Referer"):
                parts = urlsplit(headers["Referer"])
                origin, field = f"{parts.scheme}://{parts.netloc}", "Referer"
            else:
                return None  # curl, httpx, the CLI, a script: not a page
        if origin in self._cors:
            return None
        parts = urlsplit(origin)
        if parts.scheme == "http" and parts.path == "" and self._is_stack(parts.netloc, server):
            return None
        return _error(
            403,
            "cross_origin_request",
            f"{method} from {origin!r}: changes come from the stack's own pages, from clients "
            "that send no Origin, or from an origin allowed with --cors-origin",
            field,
        )

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
        owner = LOCAL_OWNER
        if self._api_keys and not open_path:
            given = headers.get("X-Api-Key")
            if given not in self._api_keys:
                return _error(
                    401, "unauthorized", "a valid X-Api-Key header is required", "X-Api-Key"
                )
            owner = api_key_id = self._api_keys[given]
        if self._limiter is not None and not open_path:
            wait_s = self._limiter.check(owner)
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
        return f"http://{_host_literal(str(host))}:{port}"

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
