"""The emulator answers the stack's own AWS clients only: no web page, whatever its origin.

A page in a browser on this machine can send requests to any 127.0.0.1 port; with DNS
rebinding, under a name of its own. The emulator holds every tenant's data and checks no
credentials (moto does not), so it refuses what browsers send and AWS SDKs never do: an
``Origin`` or ``Sec-Fetch-*`` header (on every cross-origin fetch and every POST a browser
makes, preflights included) and a ``Host`` that is not this loopback address and port.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["loopback_only"]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def loopback_only(app: WsgiApp, *, port: int) -> WsgiApp:
    """``app``, refusing (403) browsers' requests and any Host but loopback at ``port``."""
    hosts = {f"{name}:{port}" for name in LOOPBACK_NAMES}

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        browser = any(key == "HTTP_ORIGIN" or key.startswith("HTTP_SEC_FETCH_") for key in environ)
        host = str(environ.get("HTTP_HOST", "")).lower()
        if browser or host not in hosts:
            reason = "browsers may not call the emulator" if browser else f"wrong host {host!r}"
            body = json.dumps({"__type": "AccessDeniedException", "message": reason}).encode()
            start_response(
                "403 Forbidden",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return guarded
