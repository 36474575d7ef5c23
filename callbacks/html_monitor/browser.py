"""``fetcher: "browser"``: a page rendered in headless Chromium, its requests via the SSRF guard.

A render gives a :class:`~.rendered.Rendered` or raises one of the
:class:`~timer_service.egress.EgressError` tree drawn in :mod:`.rendered`.

Chromium never connects anywhere itself. Every request a page makes (the document, its
subresources, ``fetch``/XHR from script, form posts) is intercepted (``context.route``) and
performed by the job's :class:`~timer_service.egress.Egress` (address checked, connection pinned,
body capped: :mod:`.page_requests`), the route fulfilled with its answer; a refused one is
aborted. What routing cannot see is shut: WebSockets are closed (``route_web_socket``), service
workers blocked, WebRTC kept off UDP, and Chromium runs behind a dead proxy with no DNS of its
own, so anything that escapes interception fails. The egress requests run on the calling job's
thread (and a pool it owns), so the connection guard of that job sees them.

One Chromium per process, launched on first use in a thread of its own and again when it has died;
a fresh browser context per check, closed after. With ``single_process`` (the Lambda build, whose
Chromium must run as one process and dies when a context closes) each check launches its own.
On AWS, the settings' ``browser_function`` renders instead (:mod:`.browser_remote`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from callbacks.html_monitor.page_requests import (
    TOTAL_BYTES_FACTOR,
    Check,
    perform,
    refuse_web_socket,
    route,
)
from callbacks.html_monitor.rendered import BrowserError, Rendered, RenderTimeout
from timer_service.egress import Egress, EgressError
from timer_service.settings import Settings

__all__ = [
    "CHROMIUM_ENV",
    "BrowserError",
    "Chromium",
    "RenderTimeout",
    "Rendered",
    "render",
    "shared_chromium",
]

CHROMIUM_ENV = "TIMER_SERVICE_CHROMIUM"  # the Chromium to launch; default Debian's
WORKERS = 4  # egress requests of one check at once
PAGE_GRACE_S = 2.0  # past the deadline, for reading the rendered page
CLOSE_TIMEOUT_S = 5.0  # a context (or browser) that does not close by then is killed
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


def render(
    url: str,
    *,
    egress: Egress,
    headers: Mapping[str, str],
    timeout_s: float,
    max_bytes: int,
) -> Rendered:
    """Render ``url`` here, or in the settings' ``browser_function`` when they name one."""
    function = Settings.from_env().browser_function
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
        check = Check(url, headers, max_bytes, loop.time() + timeout_s)
        check.bytes_left = max_bytes * TOTAL_BYTES_FACTOR
        rendering = asyncio.run_coroutine_threadsafe(self._render(check, timeout_s), loop)
        rendering.add_done_callback(lambda _: check.work.put(None))
        pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="browser-egress")
        try:
            while (item := check.work.get()) is not None:
                pool.submit(perform, egress, item)
        finally:  # a request still running ends at its own deadline, just after the page's
            pool.shutdown(wait=False, cancel_futures=True)
        try:  # the render ends at its deadline; this is the last line of defence
            return rendering.result(timeout_s + PAGE_GRACE_S + 2 * CLOSE_TIMEOUT_S + 5)
        except FutureTimeout as exc:
            rendering.cancel()
            raise RenderTimeout(
                f"{url}: the page did not finish loading within {timeout_s:g} s"
            ) from exc
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

    async def _render(self, check: Check, timeout_s: float) -> Rendered:
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
        loop = asyncio.get_running_loop()
        try:  # a page whose script never yields (after it loaded) blocks page.content()
            return await asyncio.wait_for(
                self._page(context, check, timeout_s),
                max(0.1, check.deadline - loop.time()) + PAGE_GRACE_S,
            )
        except TimeoutError as exc:
            raise RenderTimeout(
                f"{check.url}: the page did not finish loading within {timeout_s:g} s"
            ) from exc
        finally:
            try:
                await asyncio.wait_for((own or context).close(), CLOSE_TIMEOUT_S)
            except (TimeoutError, PlaywrightError):  # its renderer is stuck: the browser goes
                browser, self._browser = own or self._browser, None
                if browser is not None:
                    with contextlib.suppress(TimeoutError, PlaywrightError):
                        await asyncio.wait_for(browser.close(), CLOSE_TIMEOUT_S)

    async def _context(self, browser: Any, check: Check) -> Any:
        return await browser.new_context(
            service_workers="block",
            user_agent=_header(check.headers, "user-agent"),
            accept_downloads=False,
        )

    async def _page(self, context: Any, check: Check, timeout_s: float) -> Rendered:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        loop = asyncio.get_running_loop()
        await context.route("**/*", lambda intercepted: route(intercepted, check))
        await context.route_web_socket("**/*", refuse_web_socket)
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


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
