"""The web console: static assets under ``/console``, served by the local stack's gateway and by
``timer-service console`` (a local proxy that signs its calls to a deployed API). The console
calls the API on its own origin, so neither needs CORS nor puts credentials in the browser."""

from __future__ import annotations

import mimetypes
from importlib import resources
from typing import NamedTuple

__all__ = ["CONSOLE_PATH", "NO_FRAMING", "Asset", "asset"]

CONSOLE_PATH = "/console"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
#: Sent with every answer of the local stack and of ``timer-service console``: no page of
#: another origin may frame them (clickjacking the console's buttons). X-Frame-Options is for
#: browsers older than CSP level 2.
NO_FRAMING = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


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
    if "/" in name or name.startswith(".") or "\\" in name:
        return _not_found()
    static = resources.files(__package__).joinpath("static")
    found = static.joinpath(name)
    if not found.is_file():
        return _not_found()
    suffix = "." + name.rpartition(".")[2]
    content_type = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Asset(
        200,
        {
            "Content-Type": content_type,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:;"
            " frame-ancestors 'none'",
            "X-Frame-Options": "DENY",
        },
        found.read_bytes(),
    )


def _not_found() -> Asset:
    body = b'{"error": {"code": "no_route", "message": "no such console file", "field": null}}'
    return Asset(404, {"Content-Type": "application/json"}, body)
