"""A local web site whose pages tests can change: ETag / Last-Modified, 304s, redirects."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["DATA", "PageServer", "Served"]

DATA = Path(__file__).parent / "data" / "pages"


@dataclass
class Served:
    path: str
    status: int
    headers: dict[str, str]


@dataclass
class _Page:
    body: bytes
    content_type: str
    modified_s: float


@dataclass
class PageServer:
    """Serves ``set(path, html)`` pages on 127.0.0.1 with validators; records each answer."""

    pages: dict[str, _Page] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)  # forced answers, e.g. 503
    served: list[Served] = field(default_factory=list)
    validators: bool = True  # send ETag / Last-Modified and answer 304

    def __post_init__(self) -> None:
        site = self
        self._clock = 1_700_000_000.0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site._answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def set(self, path: str, html: str | bytes, content_type: str = "text/html") -> None:
        """Publish (or change) a page; its Last-Modified moves a second forward."""
        self._clock += 1
        body = html.encode() if isinstance(html, str) else html
        self.pages[path] = _Page(body, content_type, self._clock)

    def text(self, path: str) -> str:
        return self.pages[path].body.decode()

    def statuses_of(self, path: str) -> list[int]:
        return [s.status for s in self.served if s.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, extra, body = self._response(path, headers)
        self.served.append(Served(path, status, headers))
        request.send_response(status)
        for name, value in extra.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _response(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if path in self.statuses:
            return self.statuses[path], {}, b"unavailable"
        if path in self.redirects:
            return 302, {"Location": self.redirects[path]}, b""
        page = self.pages.get(path)
        if page is None:
            return 404, {}, b"not found"
        etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
        modified = formatdate(page.modified_s, usegmt=True)
        extra = {"Content-Type": page.content_type}
        if self.validators:
            extra |= {"ETag": etag, "Last-Modified": modified}
            if headers.get("if-none-match") == etag:
                return 304, extra, b""
        return 200, extra, page.body
