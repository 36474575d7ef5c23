"""``fetcher: "browser"``: a page rendered in headless Chromium, its requests via the SSRF guard.

Errors (all :class:`timer_service.egress.EgressError`, so a failed render is an ``error`` run)::

    EgressError
     ├── BlockedTargetError, ResponseTooLarge, ...  the document's own request, as egress raised it
     ├── EgressTimeout
     │    └── RenderTimeout   the page did not load within timeoutSeconds
     └── BrowserError         Chromium could not start, crashed, or the browser function failed

Chromium never connects anywhere itself. Every request a page makes (the document, its
subresources, ``fetch``/XHR from script, form posts) is intercepted (``context.route``) and
performed by the job's :class:`~timer_service.egress.Egress` (address checked, connection pinned,
body capped), the route fulfilled with its answer; a refused one is aborted. What routing cannot
see is shut: WebSockets are closed (``route_web_socket``), service workers blocked, WebRTC kept
off UDP, and Chromium runs behind a dead proxy with no DNS of its own, so anything that escapes
interception fails. The egress requests run on the calling job's thread (and a pool it owns), so
the connection guard of that job sees them.

One Chromium per process, launched on first use in a thread of its own and again when it has died;
a fresh browser context per check, closed after. With ``single_process`` (the Lambda build, whose
Chromium must run as one process and dies when a context closes) each check launches its own.
On AWS, ``BROWSER_FUNCTION`` names the function that renders (:mod:`.browser_remote`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import shutil
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from timer_service.egress import Egress, EgressError, EgressResponse, EgressTimeout

__all__ = [
    "BROWSER_FUNCTION_ENV",
    "CHROMIUM_ENV",
    "MAX_REQUESTS",
    "BrowserError",
    "Chromium",
    "RenderTimeout",
    "Rendered",
    "render",
    "shared_chromium",
]

BROWSER_FUNCTION_ENV = "BROWSER_FUNCTION"  # set: render in that Lambda function
CHROMIUM_ENV = "TIMER_SERVICE_CHROMIUM"  # the Chromium to launch; default Debian's
MAX_REQUESTS = 200  # requests of one check, the document's included; the rest are aborted
TOTAL_BYTES_FACTOR = 4  # a check's bodies together: 4 x maxBytes (the document alone maxBytes)
WORKERS = 4  # egress requests of one check at once
# A request gets the check's time left and this much more, so that a request that hangs keeps
# the page from loading until the check's own timeout says so.
SUBREQUEST_GRACE_S = 1.0
# Whatever escapes interception goes to a proxy that is not there, resolves no name, and sends
# no UDP; Chromium's own background traffic is off.
LAUNCH_ARGS = (
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-quic",
    "--dns-prefetch-disable",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--no-pings",
    "--disable-dev-shm-usage",
    "--mute-audio",
)
SINGLE_PROCESS_ARGS = ("--single-process", "--no-zygote", "--in-process-gpu", "--headless=shell")
_HOP_BY_HOP = frozenset(
    {"host", "connection", "content-length", "transfer-encoding", "accept-encoding", "keep-alive"}
)
_DECODED = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class BrowserError(EgressError):
    """Chromium could not be started or crashed, or the browser function failed."""

    code = "browser_failed"


class RenderTimeout(EgressTimeout):
    """The page did not finish loading within the check's timeout."""


@dataclass(frozen=True)
class Rendered:
    """A rendered page: the document's status and headers (lower-case), final URL, the DOM's HTML.

    ``body`` is the serialized DOM after scripts ran, UTF-8 (``content-type`` says so).
    """

    status: int
    url: str
    headers: dict[str, str]
    body: bytes


def render(
    url: str,
    *,
    egress: Egress,
    headers: Mapping[str, str],
    timeout_s: float,
    max_bytes: int,
) -> Rendered:
    """Render ``url`` here, or in the function ``BROWSER_FUNCTION`` names when it is set."""
    function = os.environ.get(BROWSER_FUNCTION_ENV)
    if function:
        from callbacks.html_monitor.browser_remote import invoke

        return invoke(function, url=url, headers=headers, timeout_s=timeout_s, max_bytes=max_bytes)
    return shared_chromium().render(
        url, egress=egress, headers=headers, timeout_s=timeout_s, max_bytes=max_bytes
    )


_shared: dict[str, Chromium] = {}
_shared_lock = threading.Lock()


def shared_chromium() -> Chromium:
    """The process's Chromium (``$TIMER_SERVICE_CHROMIUM``, else ``chromium`` on PATH)."""
    executable = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or "/usr/bin/chromium"
    with _shared_lock:
        if executable not in _shared:
            _shared[executable] = Chromium(executable)
        return _shared[executable]


@dataclass
class _Fetch:
    """One intercepted request, performed by the caller's thread."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    max_bytes: int
    timeout_s: float
    done: Future[EgressResponse] = field(default_factory=Future)


@dataclass
class _Check:
    """One render's limits and what it spent; its requests go to ``work``."""

    url: str
    headers: Mapping[str, str]
    max_bytes: int
    deadline: float
    work: queue.Queue[_Fetch | None] = field(default_factory=queue.Queue)
    requests: int = 0
    bytes_left: int = 0
    document_error: EgressError | None = None
    redirected: dict[str, EgressResponse] = field(default_factory=dict)


class Chromium:
    """A headless Chromium run by Playwright's async API on a thread of its own."""

    def __init__(
        self,
        executable: str,
        *,
        env: Mapping[str, str] | None = None,
        single_process: bool = False,
    ) -> None:
        self.executable = executable
        self._env = dict(env) if env is not None else None
        self._single_process = single_process
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._playwright: Any = None
        self._browser: Any = None

    # --- the public side: called from any job's thread -----------------------------------

    def render(
        self,
        url: str,
        *,
        egress: Egress,
        headers: Mapping[str, str],
        timeout_s: float,
        max_bytes: int,
    ) -> Rendered:
        """Render ``url``; its requests are made here, on the caller's thread, by ``egress``."""
        loop = self._running_loop()
        check = _Check(url, headers, max_bytes, loop.time() + timeout_s)
        check.bytes_left = max_bytes * TOTAL_BYTES_FACTOR
        rendering = asyncio.run_coroutine_threadsafe(self._render(check, timeout_s), loop)
        rendering.add_done_callback(lambda _: check.work.put(None))
        pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="browser-egress")
        try:
            while (item := check.work.get()) is not None:
                pool.submit(_perform, egress, item)
        finally:  # a request still running ends at its own deadline, just after the page's
            pool.shutdown(wait=False, cancel_futures=True)
        try:
            return rendering.result()
        except EgressError:
            raise
        except Exception as exc:  # Playwright's errors: the browser, not the page
            raise BrowserError(f"{url}: the browser failed: {_first_line(exc)}") from exc

    def version(self) -> str:
        """The browser's version (launching it if it is not running)."""

        async def launched() -> str:
            return str((await self._shared_browser()).version)

        return asyncio.run_coroutine_threadsafe(launched(), self._running_loop()).result(60)

    def close(self) -> None:
        """Close the browser and stop the thread (the next render starts them again)."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)

    # --- the browser's thread --------------------------------------------------------------

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="chromium", daemon=True)
                thread.start()
                self._loop = loop
            return self._loop

    async def _launch(self) -> Any:
        if self._playwright is None:
            from playwright.async_api import async_playwright

            self._playwright = await async_playwright().start()
        args = [*LAUNCH_ARGS, *(SINGLE_PROCESS_ARGS if self._single_process else ())]
        return await self._playwright.chromium.launch(
            executable_path=self.executable, args=args, env=self._env
        )

    async def _shared_browser(self) -> Any:
        if self._browser is None or not self._browser.is_connected():
            self._browser = None
            self._browser = await self._launch()
        return self._browser

    async def _shutdown(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()
        self._browser = self._playwright = None

    async def _render(self, check: _Check, timeout_s: float) -> Rendered:
        from playwright.async_api import Error as PlaywrightError

        own = None
        try:
            if self._single_process:
                own = await self._launch()
                context = await self._context(own, check)
            else:
                try:
                    context = await self._context(await self._shared_browser(), check)
                except PlaywrightError:  # it died, and Playwright has not noticed yet
                    self._browser = None
                    context = await self._context(await self._shared_browser(), check)
        except PlaywrightError as exc:
            self._browser = None
            if own is not None:
                await own.close()
            raise BrowserError(f"Chromium did not start: {_first_line(exc)}") from exc
        try:
            return await self._page(context, check, timeout_s)
        finally:
            await (own or context).close()

    async def _context(self, browser: Any, check: _Check) -> Any:
        return await browser.new_context(
            service_workers="block",
            user_agent=_header(check.headers, "user-agent"),
            accept_downloads=False,
        )

    async def _page(self, context: Any, check: _Check, timeout_s: float) -> Rendered:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        loop = asyncio.get_running_loop()
        await context.route("**/*", lambda route: self._route(route, check))
        await context.route_web_socket("**/*", _refuse_web_socket)
        page = await context.new_page()
        try:
            response = await page.goto(check.url, wait_until="load", timeout=timeout_s * 1000)
        except PlaywrightTimeout as exc:
            raise RenderTimeout(
                f"{check.url}: the page did not finish loading within {timeout_s:g} s"
            ) from exc
        except PlaywrightError as exc:
            if check.document_error is not None:
                raise check.document_error from exc
            raise BrowserError(f"{check.url}: {_first_line(exc)}") from exc
        if response is None:
            raise BrowserError(f"{check.url}: the page has no response")
        left_ms = (check.deadline - loop.time()) * 1000
        if left_ms > 0:
            with contextlib.suppress(PlaywrightTimeout):  # a page that keeps polling: as it is
                await page.wait_for_load_state("networkidle", timeout=left_ms)
        html = (await page.content()).encode()
        if len(html) > check.max_bytes:
            from timer_service.egress import ResponseTooLarge

            raise ResponseTooLarge(f"the rendered page is over {check.max_bytes} bytes")
        headers = {k.lower(): v for k, v in (await response.all_headers()).items()}
        headers["content-type"] = "text/html; charset=utf-8"
        return Rendered(status=response.status, url=page.url, headers=headers, body=html)

    async def _route(self, route: Any, check: _Check) -> None:
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
        fetch = _Fetch(
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


def _perform(egress: Egress, fetch: _Fetch) -> None:
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


async def _fulfil(route: Any, answer: EgressResponse) -> None:
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in _DECODED}
    await route.fulfill(status=answer.status, headers=headers, body=answer.body)


async def _refuse_web_socket(socket: Any) -> None:
    """Never connected: route() cannot put a WebSocket through egress."""
    await socket.close(code=1008, reason="WebSockets are not allowed")


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
