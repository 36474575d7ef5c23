"""html_monitor's ``fetcher: "browser"``: pages rendered in Chromium, requests through egress."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from callbacks.html_monitor.browser import Chromium, Rendered, RenderTimeout, shared_chromium
from loadtest.html_browser import browser_pids
from tests.browser.conftest import CHROMIUM
from timer_service.egress import BlockedTargetError, Egress

SECRET = "TOPSECRET-4711"


class Site:
    """A local web server whose pages a test sets; it counts the requests of each path."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hits: list[str] = []
        self.release = threading.Event()  # ends the answers that hang
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits.append(self.path)
                if self.path.startswith("/hang"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/javascript")
                    self.end_headers()
                    site.release.wait(30)
                    return
                status, headers, body = site.pages.get(self.path, (404, {}, b"not here"))
                self.send_response(status)
                for name, value in {"Content-Type": "text/html", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set(self, path: str, body: str, status: int = 200, **headers: str) -> None:
        self.pages[path] = (status, headers, body.encode())

    def set_json(self, path: str, body: str) -> None:
        self.pages[path] = (200, {"Content-Type": "application/json"}, body.encode())

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class PageOnlyEgress(Egress):
    """The deployed SSRF guard, except that the test's page server (one port of 127.0.0.1) may
    be reached: everything else private, loopback included, is refused as in production."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self._port = port

    def check(self, url: str) -> tuple[str, int, list[str]]:
        parts = urlsplit(url)
        if parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.port == self._port:
            return "127.0.0.1", self._port, ["127.0.0.1"]
        return super().check(url)


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


@pytest.fixture
def secret() -> Iterator[Site]:
    server = Site()
    server.set("/secret", SECRET)
    yield server
    server.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    launched = Chromium(CHROMIUM)
    yield launched
    launched.close()


def render(chromium: Chromium, site: Site, path: str, timeout_s: float = 10) -> Rendered:
    return chromium.render(
        site.url(path),
        egress=PageOnlyEgress(site.port),
        headers={"User-Agent": "timer-service-test"},
        timeout_s=timeout_s,
        max_bytes=1 << 20,
    )


PRICE_PAGE = """<!doctype html><html><body><p id="price">loading</p><script>
fetch('/price.json').then(r => r.json()).then(d => {
  document.getElementById('price').textContent = 'price: ' + d.price + ' EUR';
});
</script></body></html>"""


def test_render_page_that_needs_javascript_has_text_the_plain_fetch_lacks(
    chromium: Chromium, site: Site
) -> None:
    site.set("/", PRICE_PAGE)
    site.set_json("/price.json", '{"price": 12}')
    first = render(chromium, site, "/")
    site.set_json("/price.json", '{"price": 9}')
    second = render(chromium, site, "/")
    plain = PageOnlyEgress(site.port).request("GET", site.url("/"))
    assert b"price: 12 EUR" in first.body
    assert b"price: 9 EUR" in second.body
    assert b"price:" not in plain.body.replace(b"'price: '", b"")
    assert (first.status, first.url) == (200, site.url("/"))
    assert first.headers["content-type"] == "text/html; charset=utf-8"


def test_render_script_image_redirect_and_websocket_to_private_addresses_get_nothing(
    chromium: Chromium, site: Site, secret: Site
) -> None:
    target = secret.url("/secret")
    site.set("/to-secret", "", status=302, Location=target)
    site.set(
        "/",
        f"""<!doctype html><html><body><img src="{secret.url("/img")}">
<iframe src="{secret.url("/frame")}"></iframe><pre id="log"></pre><script>
const log = m => document.getElementById('log').textContent += m + '\\n';
const get = (name, url) => fetch(url).then(r => r.text()).then(t => log(name + ' got ' + t),
                                                               e => log(name + ' refused'));
Promise.all([
  get('script', '{target}'),
  get('metadata', 'http://169.254.169.254/latest/meta-data/'),
  get('redirect', '/to-secret'),
  new Promise(done => {{
    const ws = new WebSocket('ws://127.0.0.1:{secret.port}/ws');
    ws.onmessage = e => log('websocket got ' + e.data);
    ws.onerror = ws.onclose = () => {{ log('websocket refused'); done(); }};
  }}),
]).then(() => log('all tried'));
</script></body></html>""",
    )
    rendered = render(chromium, site, "/")
    text = rendered.body.decode()
    assert "all tried" in text
    for name in ("script", "metadata", "redirect", "websocket"):
        assert f"{name} refused" in text
    assert SECRET not in text
    assert secret.hits == []
    assert "/to-secret" in site.hits  # the page's own server was asked, and its answer checked


def test_render_of_a_private_document_is_refused_by_the_guard(
    chromium: Chromium, site: Site, secret: Site
) -> None:
    with pytest.raises(BlockedTargetError, match=r"127\.0\.0\.1 is not a public address"):
        chromium.render(
            secret.url("/secret"),
            egress=PageOnlyEgress(site.port),
            headers={},
            timeout_s=10,
            max_bytes=1 << 20,
        )
    assert secret.hits == []


def test_render_page_that_never_finishes_loading_ends_at_the_timeout(
    chromium: Chromium, site: Site
) -> None:
    site.set("/", '<!doctype html><p>half</p><script src="/hang.js"></script>')
    started = time.monotonic()
    with pytest.raises(RenderTimeout, match="did not finish loading within 2 s"):
        render(chromium, site, "/", timeout_s=2)
    assert time.monotonic() - started < 6
    site.set("/ok", "<p>fine</p>")
    assert b"fine" in render(chromium, site, "/ok").body  # the browser is still good


def test_render_of_a_page_whose_script_never_yields_after_load_ends_at_the_timeout(
    chromium: Chromium, site: Site
) -> None:
    # found by the review: the page loads, then its script spins, so reading it never answered
    busy = "<script>addEventListener('load', () => setTimeout(() => { while (true) {} }, 50))"
    site.set("/", f"<!doctype html><p>hello</p>{busy}</script>")
    started = time.monotonic()
    with pytest.raises(RenderTimeout, match="did not finish loading within 2 s"):
        render(chromium, site, "/", timeout_s=2)
    assert time.monotonic() - started < 15
    site.set("/ok", "<p>fine</p>")
    assert b"fine" in render(chromium, site, "/ok").body  # a browser that works again


def test_render_after_chromium_was_killed_launches_it_again(chromium: Chromium, site: Site) -> None:
    site.set("/", "<p id=n></p><script>document.getElementById('n').textContent = 6 * 7</script>")
    assert b">42<" in render(chromium, site, "/").body
    pids = browser_pids(os.getpid())
    assert pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # a child that ended as its parent died
            os.kill(pid, signal.SIGKILL)
    assert b">42<" in render(chromium, site, "/").body
    assert set(browser_pids(os.getpid())).isdisjoint(pids)


def test_html_monitor_browser_fetcher_notifies_once_per_rendered_change(site: Site) -> None:
    from timer_service.testing import JobHarness

    site.set("/", PRICE_PAGE)
    site.set_json("/price.json", '{"price": 12}')
    harness = JobHarness(allow_private_targets=True)
    harness.put(
        "shop",
        jobType="html_monitor",
        job={"url": site.url("/"), "fetcher": "browser", "include": ["#price"]},
    )
    runs = []
    try:
        for price in (12, 12, 9, 9):
            site.set_json("/price.json", f'{{"price": {price}}}')
            run = harness.fire("shop")
            assert run is not None, harness.last_error
            runs.append(run)
    finally:
        shared_chromium().close()
    assert [r.outcome for r in runs] == ["ok", "unchanged", "changed", "unchanged"], runs
    assert runs[2].diff is not None
    assert "-price: 12 EUR" in runs[2].diff and "+price: 9 EUR" in runs[2].diff
