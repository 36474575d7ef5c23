"""A browser check where no browser can be had (the main Lambda bundle has no Playwright, and no
browser function was deployed): an `error` run saying what to deploy, not a retried crash."""

from __future__ import annotations

import sys

import pytest

from timer_service.testing import JobHarness


def test_a_browser_check_without_playwright_is_an_error_run_naming_the_prop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [n for n in sys.modules if n == "playwright" or n.startswith("playwright.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "playwright", None)  # as if not installed
    checks = JobHarness()
    assert checks.settings.browser_function is None  # no browser function deployed
    checks.put(
        "js", jobType="html_monitor", job={"url": "http://127.0.0.1:9/", "fetcher": "browser"}
    )
    run = checks.fire("js")
    assert run is not None
    assert run.outcome == "error"
    assert run.summary == (
        'fetcher "browser" needs a browser: deploy with browser_fetcher=True'
        " (locally: the browser extra and Chromium)"
    )
