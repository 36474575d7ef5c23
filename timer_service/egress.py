"""Outbound URL guard against SSRF: only http(s) to global addresses, checked at every hop."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from timer_service.errors import TimerServiceError

__all__ = ["BlockedTargetError", "Resolver", "check_address", "resolve_target"]

Resolver = Callable[[str, int], list[str]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedTargetError(TimerServiceError):
    """The URL is not http(s), or resolves to an address a timer must not reach."""

    code = "blocked_target"


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_address(address: str) -> None:
    """Raise BlockedTargetError unless ``address`` is a global unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    embedded: list[ipaddress.IPv4Address] = []
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            embedded.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    for candidate in (ip, *embedded):
        if not candidate.is_global or candidate.is_multicast:
            raise BlockedTargetError(f"address {address} is not a public address")


def resolve_target(
    url: str, *, allow_private: bool = False, resolver: Resolver | None = None
) -> tuple[str, int, list[str]]:
    """``(host, port, addresses)`` of an http(s) URL whose every address may be reached."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedTargetError(f"only http and https URLs may be called, not {parts.scheme!r}")
    host = parts.hostname
    if not host:
        raise BlockedTargetError("the URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = (resolver or _system_resolver)(host, port)
    except OSError as exc:
        raise BlockedTargetError(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise BlockedTargetError(f"{host} has no address")
    if not allow_private:
        for address in addresses:
            check_address(address)
    return host, port, addresses
