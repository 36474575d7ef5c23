"""The web console: static assets under ``/console``, served by the local stack's gateway and by
``timer-service console`` (a local proxy that signs its calls to a deployed API). The console
calls the API on its own origin, so neither needs CORS nor puts credentials in the browser."""

from __future__ import annotations

import re
from importlib import resources
from typing import NamedTuple

__all__ = ["CONSOLE_PATH", "CONSOLE_POLICY", "NO_FRAMING", "Asset", "asset"]

CONSOLE_PATH = "/console"
#: The only files served: by suffix, with the type a browser needs (a module script must be
#: JavaScript, HTML 8.1.3.4; nosniff makes the browser hold every file to its type).
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
#: A segment of a file's path under static/: no ".", "..", hidden file, empty segment or
#: separator of another OS (the path is the raw request path; nothing is decoded).
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_NO_FRAMES = "frame-ancestors 'none'"
#: Sent with every answer of the local stack and of ``timer-service console``: no page of
#: another origin may frame them (clickjacking the console's buttons). X-Frame-Options is for
#: browsers older than CSP level 2.
NO_FRAMING = {"Content-Security-Policy": _NO_FRAMES, "X-Frame-Options": "DENY"}
#: The console's own policy, in place of NO_FRAMING's on its files: scripts, styles and calls
#: of this origin only, no inline script or style (an injected one does not run), no plugin,
#: no <base> to move its relative links, forms only here, and no framing.
CONSOLE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        _NO_FRAMES,
    ]
)
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    **NO_FRAMING,
    "Content-Security-Policy": CONSOLE_POLICY,
}


class Asset(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


def asset(path: str) -> Asset | None:
    """The answer to a GET of ``path`` when it is the console's, else None."""
    if path != CONSOLE_PATH and not path.startswith(CONSOLE_PATH + "/"):
        return None
    if path == CONSOLE_PATH:  # relative asset links need the trailing slash
        return Asset(301, {"Location": CONSOLE_PATH + "/"}, b"")
    name = path[len(CONSOLE_PATH) + 1 :] or "index.html"
    segments = name.split("/")
    content_type = _TYPES.get("." + name.rpartition(".")[2])
    if content_type is None or not all(_SEGMENT.fullmatch(s) for s in segments):
        return _not_found()
    found = resources.files(__package__).joinpath("static", *segments)
    if not found.is_file():
        return _not_found()
    return Asset(200, {"Content-Type": content_type, **_HEADERS}, found.read_bytes())


def _not_found() -> Asset:
    body = b'{"error": {"code": "no_route", "message": "no such console file", "field": null}}'
    return Asset(404, {"Content-Type": "application/json"}, body)
