"""The gateway's refusal of web pages: a request must name the stack, a change come from it.

Being on 127.0.0.1 does not keep web pages out: a browser lets any page send a simple POST (no
preflight) to the stack, and DNS rebinding lets a page of another name read from it as its own
origin. So, with or without API keys, the gateway answers only requests that name the stack in
their ``Host`` (a loopback name or an address of the stack, at its port, or the ``--host`` it
was given), and takes a change (any method but GET, HEAD and OPTIONS) only from no origin
(curl, the CLI, scripts), its own or one allowed with ``--cors-origin``; everything else is a 403
before the API runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

__all__ = ["HostGuard", "Refusal", "host_literal"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # a page may send these anywhere anyway
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})


class Refusal(NamedTuple):
    """Why a request is refused (a 403): the error code, its message, the header at fault."""

    code: str
    message: str
    field: str


def host_literal(host: str) -> str:
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


class HostGuard:
    """Refuses requests that do not name the stack, and changes sent by other origins' pages."""

    def __init__(self, *, host: str, cors_origins: Sequence[str] = ()) -> None:
        self._cors = frozenset(cors_origins)
        # The names a request may give in Host: loopback names, and the --host the stack was
        # told (unless a wildcard); the connection's own address is added per request.
        bind = host_literal(host)
        self._host_names = LOOPBACK_NAMES | (set() if bind in WILDCARD_HOSTS else {bind})

    def refusal(
        self, method: str, headers: dict[str, str], server: Sequence[Any] | None
    ) -> Refusal | None:
        """Why the request is refused; None when it may go on (``server``: uvicorn's address)."""
        return self._refuse_host(headers, server) or self._refuse_origin(method, headers, server)

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
        local = host_literal(str(server[0]))
        return port == int(server[1]) and (name in self._host_names or name == local)

    def _refuse_host(self, headers: dict[str, str], server: Sequence[Any] | None) -> Refusal | None:
        host = headers.get("Host")
        if host is None or self._is_stack(host, server):  # no Host: HTTP/1.0, not a browser
            return None
        return Refusal(
            "wrong_host",
            f"this stack answers to 127.0.0.1, localhost or [::1] at its port, not {host!r}",
            "Host",
        )

    def _refuse_origin(
        self, method: str, headers: dict[str, str], server: Sequence[Any] | None
    ) -> Refusal | None:
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
        return Refusal(
            "cross_origin_request",
            f"{method} from {origin!r}: changes come from the stack's own pages, from clients "
            "that send no Origin, or from an origin allowed with --cors-origin",
            field,
        )
