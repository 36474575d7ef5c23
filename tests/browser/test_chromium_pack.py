"""The browser function's Chromium (@sparticuz/chromium, Lambda's build) unpacked as at a cold
start and driven by Playwright in its one-process mode, through the SSRF guard, here on x86_64.

It needs the npm tarball the browser bundle caches, checked against its pinned sha512: fetched
with ``npm pack`` when it is not cached (``make pytest`` fetches it first: see
infra/timer_service_cdk/browser_bundle.py); only with neither the tarball nor npm is it skipped."""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from callbacks.html_monitor.browser import Chromium
from callbacks.html_monitor.chromium_pack import unpack
from tests.browser.test_browser_fetcher import SECRET, PageOnlyEgress, Site


@pytest.fixture(scope="module")
def lambda_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    import playwright

    from timer_service_cdk.browser_bundle import cached_tarball, chromium_tarball, write_pack

    if not cached_tarball().exists() and shutil.which("npm") is None:
        pytest.skip(f"no {cached_tarball()}, and no npm to fetch it")
    tarball = chromium_tarball()  # npm pack when it is not cached; its integrity checked
    bundle = tmp_path_factory.mktemp("bundle")
    driver = bundle / "playwright" / "driver"
    driver.mkdir(parents=True)
    shutil.copy(Path(inspect.getfile(playwright)).parent / "driver" / "node", driver / "node")
    pack = write_pack(bundle, tarball, preset=0)
    unpacked = unpack(pack, tmp_path_factory.mktemp("tmp") / "chromium")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLAYWRIGHT_NODEJS_PATH", unpacked.node)  # the unpacked one, as on Lambda
        chromium = Chromium(unpacked.chromium, env=unpacked.env, single_process=True)
        yield chromium
        chromium.close()


def test_lambda_chromium_renders_javascript_check_after_check(
    lambda_chromium: Chromium,
) -> None:
    site = Site()
    try:
        site.set("/", "<p id=n></p><script>n.textContent = 'js says ' + 6 * 7</script>")
        for _ in range(3):  # a browser of its own each check: closing a context kills it
            rendered = lambda_chromium.render(
                site.url("/"),
                egress=PageOnlyEgress(site.port),
                headers={},
                timeout_s=15,
                max_bytes=1 << 20,
            )
            assert b"js says 42" in rendered.body
        assert lambda_chromium.version().startswith(SPARTICUZ_VERSION_PREFIX)
    finally:
        site.close()


def test_lambda_chromium_gets_nothing_from_private_addresses(lambda_chromium: Chromium) -> None:
    site, secret = Site(), Site()
    try:
        secret.set("/secret", SECRET)
        site.set(
            "/",
            f"<pre id=log></pre><script>fetch('{secret.url('/secret')}').then(r => r.text())"
            ".then(t => log.textContent = t, () => log.textContent = 'refused')</script>",
        )
        rendered = lambda_chromium.render(
            site.url("/"),
            egress=PageOnlyEgress(site.port),
            headers={},
            timeout_s=15,
            max_bytes=1 << 20,
        )
        assert b"refused" in rendered.body and SECRET.encode() not in rendered.body
        assert secret.hits == []
    finally:
        site.close()
        secret.close()


SPARTICUZ_VERSION_PREFIX = "153."
