"""Every request a rendered page makes, performed by the job's egress (the SSRF guard).

Chromium's routes (``context.route``) hand each request to :func:`route`, which puts it on the
check's queue; the calling job's thread takes it from there and :func:`perform` makes it, and the
route is fulfilled with the answer, or aborted when egress refused it. A check has a budget
(:data:`MAX_REQUESTS` requests, :data:`TOTAL_BYTES_FACTOR` x maxBytes of bodies, its deadline);
what is over it is aborted. WebSockets are closed (:func:`refuse_web_socket`): a route cannot put
one through egress.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from timer_service.egress import Egress, EgressError, EgressResponse

__all__ = [
    "MAX_REQUESTS",
    "TOTAL_BYTES_FACTOR",
    "Check",
    "Fetch",
    "perform",
    "refuse_web_socket",
    "route",
]

MAX_REQUESTS = 200  # requests of one check, the document's included; the rest are aborted
TOTAL_BYTES_FACTOR = 4  # a check's bodies together: 4 x maxBytes (the document alone maxBytes)
# A request gets the check's time left and this much more, so that a request that hangs keeps
# the page from loading until the check's own timeout says so.
SUBREQUEST_GRACE_S = 1.0
_HOP_BY_HOP = frozenset(
    {"host", "connection", "content-length", "transfer-encoding", "accept-encoding", "keep-alive"}
)
_DECODED = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass
class Fetch:
    """One intercepted request, performed by the caller's thread."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    max_bytes: int
    timeout_s: float
    done: Future[EgressResponse] = field(default_factory=Future)


@dataclass
class Check:
    """One render's limits and what it spent; its requests go to ``work``."""

    url: str
    headers: Mapping[str, str]
    max_bytes: int
    deadline: float
    work: queue.Queue[Fetch | None] = field(default_factory=queue.Queue)
    requests: int = 0
    bytes_left: int = 0
    document_error: EgressError | None = None
    redirected: dict[str, EgressResponse] = field(default_factory=dict)


async def route(route: Any, check: Check) -> None:
    """Answer one of the page's requests (a Playwright ``Route``) through the check's egress."""
    request = route.request
    url = request.url
    document = request.is_navigation_request() and request.frame.parent_frame is None
    loop = asyncio.get_running_loop()
    if url in check.redirected:  # the hop after a redirect egress already followed
        await _fulfil(route, check.redirected.pop(url))
        return
    left_s = check.deadline - loop.time()
    if check.requests >= MAX_REQUESTS or check.bytes_left <= 0 or left_s <= 0:
        await route.abort("blockedbyclient")
        return
    check.requests += 1
    headers = {
        k: v for k, v in (await request.all_headers()).items() if k.lower() not in _HOP_BY_HOP
    }
    if _origin(url) == _origin(check.url):  # the job's headers are for its own site
        headers.update(check.headers)
    fetch = Fetch(
        method=request.method,
        url=url,
        headers=headers,
        body=request.post_data_buffer,
        max_bytes=min(check.max_bytes, check.bytes_left),
        timeout_s=left_s + SUBREQUEST_GRACE_S,
    )
    check.work.put(fetch)
    try:
        answer = await asyncio.wrap_future(fetch.done)
    except EgressError as exc:
        if document and check.document_error is None:
            check.document_error = exc
        await route.abort("blockedbyclient")
        return
    check.bytes_left -= len(answer.body)
    if answer.url != url and request.is_navigation_request():
        # Chromium follows it too, so that the page's URL (and its relative links) are right.
        check.redirected[answer.url] = answer
        await route.fulfill(status=307, headers={"location": answer.url}, body=b"")
        return
    await _fulfil(route, answer)


def perform(egress: Egress, fetch: Fetch) -> None:
    """Make one intercepted request (on a pool thread of the calling job)."""
    try:
        answer = egress.request(
            fetch.method,
            fetch.url,
            headers=fetch.headers,
            content=fetch.body,
            connect_timeout_s=min(5.0, fetch.timeout_s),
            read_timeout_s=fetch.timeout_s,
            total_timeout_s=fetch.timeout_s,
            max_bytes=fetch.max_bytes,
        )
    except BaseException as exc:  # handed to the route, which aborts the request
        fetch.done.set_exception(exc)
    else:
        fetch.done.set_result(answer)


async def refuse_web_socket(socket: Any) -> None:
    """Never connected: route() cannot put a WebSocket through egress."""
    await socket.close(code=1008, reason="WebSockets are not allowed")


async def _fulfil(route: Any, answer: EgressResponse) -> None:
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in _DECODED}
    await route.fulfill(status=answer.status, headers=headers, body=answer.body)


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default
