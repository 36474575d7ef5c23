"""Outbound HTTP for job types: only http(s) to global addresses, checked at every hop.

Errors (all :class:`EgressError`, itself a TimerServiceError)::

    EgressError              the request did not produce a usable answer
     ├── BlockedTargetError  not http(s), unresolvable, or an address a timer must not reach
     ├── EgressTimeout       a connect/read timeout or the total deadline passed
     ├── ResponseTooLarge    the decoded body is over the cap
     ├── TooManyRedirects    more hops than allowed
     └── TransportFailure    refused, reset, TLS failure

:class:`Egress` resolves the host, checks every address (no loopback, private, link-local,
metadata, CGNAT, multicast, or IPv4 hidden in IPv6), then connects to the checked address
itself (the host name still drives ``Host`` and TLS SNI/verification), so DNS cannot be
re-pointed between the check and the request. Redirects are followed one hop at a time,
each through the same check.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import httpx

from timer_service.errors import TimerServiceError

__all__ = [
    "BlockedTargetError",
    "Egress",
    "EgressError",
    "EgressResponse",
    "EgressTimeout",
    "Resolver",
    "ResponseTooLarge",
    "TooManyRedirects",
    "TransportFailure",
    "check_address",
    "resolve_target",
]

Resolver = Callable[[str, int], list[str]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Not global, whatever a Python version's ipaddress says (3.11 calls each of them global):
# IPv4-compatible addresses (deprecated, RFC 4291 2.5.5.1: ::127.0.0.1 reaches loopback where
# routed), the local-use NAT64 prefix (RFC 8215) and site-local (deprecated, RFC 3879).
_NOT_GLOBAL_V6 = tuple(
    ipaddress.ip_network(network) for network in ("::/96", "64:ff9b:1::/48", "fec0::/10")
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "timer-service/1"
# Left behind when a redirect leaves the origin (the Fetch standard drops Authorization; httpx
# drops it too): a job's credentials are for the host it named.
_CREDENTIALS = frozenset({"authorization", "proxy-authorization", "cookie"})


class EgressError(TimerServiceError):
    """An outbound request did not produce a usable answer."""

    code = "egress_failed"


class BlockedTargetError(EgressError):
    """The URL is not http(s), or resolves to an address a timer must not reach."""

    code = "blocked_target"


class EgressTimeout(EgressError):
    """A connect or read timeout, or the request's total deadline, passed."""

    code = "egress_timeout"


class ResponseTooLarge(EgressError):
    """The decoded response body is larger than allowed."""

    code = "response_too_large"


class TooManyRedirects(EgressError):
    """The target redirected more times than allowed."""

    code = "too_many_redirects"


class TransportFailure(EgressError):
    """The connection failed: refused, reset, TLS, protocol."""

    code = "transport_failure"


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
    if isinstance(ip, ipaddress.IPv6Address) and any(ip in net for net in _NOT_GLOBAL_V6):
        raise BlockedTargetError(f"address {address} is not a public address")
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
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedTargetError(f"the URL's port is not valid: {exc}") from exc
    try:
        addresses = (resolver or _system_resolver)(host, port)
    except (OSError, UnicodeError) as exc:
        raise BlockedTargetError(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise BlockedTargetError(f"{host} has no address")
    if not allow_private:
        for address in addresses:
            check_address(address)
    return host, port, addresses


@dataclass(frozen=True)
class EgressResponse:
    """The final answer of a request: status, headers (lower-case names), body, final URL."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    truncated: bool = False  # the body was cut at the cap (``truncate=True``)


@cache
def _shared_client() -> httpx.Client:
    """One pooled client for every job; each request brings its own timeouts."""
    return httpx.Client(follow_redirects=False, trust_env=False, verify=True)


class Egress:
    """HTTP through the SSRF guard: pinned connections, decoded-size cap, total deadline."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        client: httpx.Client | None = None,
        max_redirects: int = 5,
    ) -> None:
        self.allow_private = allow_private
        self._resolver = resolver
        self._client = client
        self._max_redirects = max_redirects

    def check(self, url: str) -> tuple[str, int, list[str]]:
        """Resolve and check ``url`` as :meth:`request` would, without calling it."""
        return resolve_target(url, allow_private=self.allow_private, resolver=self._resolver)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 10.0,
        total_timeout_s: float = 15.0,
        max_bytes: int = 2 * 1024 * 1024,
        truncate: bool = False,
    ) -> EgressResponse:
        """Send the request, following redirects one checked hop at a time.

        The method and body are kept across redirects. A body over ``max_bytes`` (decoded)
        raises ResponseTooLarge, or with ``truncate`` is cut there.
        """
        timeout = httpx.Timeout(
            connect=connect_timeout_s,
            read=read_timeout_s,
            write=read_timeout_s,
            pool=connect_timeout_s,
        )
        deadline = time.monotonic() + total_timeout_s
        sent_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        client = self._client or _shared_client()
        for _ in range(self._max_redirects + 1):
            host, port, addresses = self.check(url)
            parts = urlsplit(url)
            try:
                with client.stream(
                    method,
                    _pin(parts, addresses[0], port),
                    content=content,
                    headers={**sent_headers, "Host": parts.netloc.rsplit("@", 1)[-1]},
                    extensions={"sni_hostname": host},
                    timeout=timeout,
                ) as response:
                    body, truncated = _read_capped(
                        response, max_bytes=max_bytes, truncate=truncate, deadline=deadline
                    )
            except httpx.TimeoutException as exc:
                raise EgressTimeout(f"{url}: timed out ({type(exc).__name__})") from exc
            except httpx.DecodingError as exc:
                raise TransportFailure(f"{url}: the body cannot be decoded: {exc}") from exc
            except httpx.TransportError as exc:
                raise TransportFailure(f"{url}: {type(exc).__name__}: {exc}") from exc
            if time.monotonic() > deadline:
                raise EgressTimeout(f"{url}: over {total_timeout_s:g} s in total")
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                following = urljoin(url, location)
                if _origin(following) != _origin(url):  # as browsers and httpx do
                    sent_headers = {
                        k: v for k, v in sent_headers.items() if k.lower() not in _CREDENTIALS
                    }
                url = following
                continue
            return EgressResponse(
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=body,
                url=url,
                truncated=truncated,
            )
        raise TooManyRedirects(f"more than {self._max_redirects} redirects")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _read_capped(
    response: httpx.Response, *, max_bytes: int, truncate: bool, deadline: float
) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise EgressTimeout(f"{response.request.url}: the total deadline passed while reading")
        size += len(chunk)
        if size > max_bytes:
            if not truncate:
                raise ResponseTooLarge(f"the response is over {max_bytes} bytes (decoded)")
            chunks.append(chunk[: max_bytes - (size - len(chunk))])
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


def _pin(parts: SplitResult, address: str, port: int) -> str:
    """The URL with its host replaced by the checked address."""
    literal = f"[{address}]" if ":" in address else address
    return urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
