"""``timer-service console --stack NAME``: the console on 127.0.0.1, its API calls signed.

A small local server: it serves the console's files and forwards every other request to the
deployed API, signed with SigV4 from the user's AWS credentials (the browser never holds them),
by the client's auth (:mod:`timer_service.client.auth`) on one connection pool.
Because it signs whatever reaches it, it answers only its own page: requests must name this
server as their ``Host`` (no DNS rebinding), carry the console's ``X-Requested-By`` header
(which a page elsewhere cannot send without a CORS preflight this server never grants) and, when
the browser sends an ``Origin``, come from this origin. No answer may be framed by another
page (:data:`NO_FRAMING`).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from timer_service.client.auth import ApiKeyAuth, SigV4Auth
from timer_service.client.errors import ClientConfigError
from timer_service.limits import MAX_BODY_BYTES
from timer_service_cli.deployment import join_url
from timer_service_console import NO_FRAMING, asset

__all__ = ["REQUESTED_BY", "ConsoleProxy"]

REQUESTED_BY = "timer-service-console"
FORWARDED_REQUEST_HEADERS = ("If-Match", "If-None-Match")
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "ETag", "Location", "Retry-After", "Allow")


class ConsoleProxy:
    """Serves the console and signs its API calls to ``api_url``; ``port`` 0 picks one."""

    def __init__(
        self, api_url: str, *, region: str, host: str = "127.0.0.1", port: int = 8090
    ) -> None:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self.api_url = api_url
        self.region = region
        # One connection pool and one signer (credentials looked up once, refreshed as they
        # expire) for every call the page makes.
        self._http = httpx.Client(timeout=30.0)
        self._sigv4 = SigV4Auth(region=region)
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def hosts(self) -> set[str]:
        port = self._server.server_address[1]
        return {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}

    def start(self) -> ConsoleProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def forward(
        self,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
        api_key: str | None,
    ) -> httpx.Response:
        """The API's answer to the request, signed with SigV4 (or sent with the page's key)."""
        auth = ApiKeyAuth(api_key) if api_key is not None else self._sigv4
        return self._http.request(
            method, join_url(self.api_url, path), content=body, headers=headers, auth=auth
        )


class _Handler(BaseHTTPRequestHandler):
    owner: ConsoleProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet; errors reach the browser

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Unknown methods, malformed requests: the JSON error shape, never framed."""
        self.close_connection = True
        self._error(code, "bad_request" if code < 500 else "not_implemented", message or "")

    def _handle(self) -> None:
        path = self.path.split("?", 1)[0]
        if self.headers.get("Host") not in self.owner.hosts:
            self._error(421, "wrong_host", "this console answers on 127.0.0.1 or localhost only")
            return
        if self.command in ("GET", "HEAD"):
            found = asset(path)
            if found is not None:
                self._send(found.status, found.headers, found.body)
                return
        origin = self.headers.get("Origin")
        if self.headers.get("X-Requested-By") != REQUESTED_BY or (
            origin is not None and origin.removeprefix("http://") not in self.owner.hosts
        ):
            self._error(403, "forbidden", "only the console's own page may call the API here")
            return
        given = (self.headers.get("Content-Length") or "0").strip()
        if not given.isdigit():  # a negative length would wait for the client forever
            self.close_connection = True
            self._error(400, "bad_request", "Content-Length must be a whole number of bytes")
            return
        length = int(given)
        if length > MAX_BODY_BYTES:
            self._error(413, "payload_too_large", f"the body is over {MAX_BODY_BYTES} bytes")
            return
        body = self.rfile.read(length) if length else None
        headers = {n: v for n in FORWARDED_REQUEST_HEADERS if (v := self.headers.get(n))}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self.owner.forward(
                self.command, self.path, body, headers, self.headers.get("X-Api-Key")
            )
        except ClientConfigError as exc:
            self._error(502, "no_credentials", exc.message)
            return
        except httpx.HTTPError as exc:
            self._error(502, "api_unreachable", f"the API did not answer: {exc}")
            return
        forwarded = {n: v for n in FORWARDED_RESPONSE_HEADERS if (v := response.headers.get(n))}
        self._send(response.status_code, forwarded, response.content)

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message, "field": None}})
        self._send(status, {"Content-Type": "application/json"}, body.encode())

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in {**NO_FRAMING, **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
