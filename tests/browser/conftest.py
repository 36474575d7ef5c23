"""Browser tests: Debian's Chromium driven by Playwright, against a local stack on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loadtest.stack import WebhookReceiver
from tests.pages import PageServer

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")  # a directory: the tests save the main views there
HERE = Path(__file__).parent
# The directory's session-wide things (Chromium, the keyed stack), closed after its last test:
# its tests run one after another in one worker (tests/scheduling.py), which then goes on with
# other tests for minutes, during which an idle stack and browser would still cost CPU.
_shared = contextlib.ExitStack()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from timer_service_local.stack import LocalStack, StackConfig

    config = StackConfig(
        port=0,
        state_dir=tmp_path_factory.mktemp("console") / "state",
        quiet=True,
        rate_limit=0,
        api_instances=1,
        allow_private_targets=True,
        shards=1,
    )
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            patch.delenv(name)  # the stack's own emulator, not another test's endpoint
        with LocalStack(config) as running:
            yield running


@pytest.fixture(scope="session")
def keyed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``timer-service dev`` with two API keys, a tenant each: the console's test uses one, the
    Swagger UI's the other."""
    from loadtest.stack import start_stack

    keyed = start_stack(
        *("--api-key", "team-key-1", "--api-key", "swagger-key", "--shards", "1", "--quiet"),
        cwd=tmp_path_factory.mktemp("keyed"),
    )
    _shared.callback(keyed.kill)
    yield keyed
    _shared.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: make test installs it"
    playwright = _shared.enter_context(sync_playwright())
    launched = playwright.chromium.launch(executable_path=CHROMIUM)
    _shared.callback(launched.close)
    yield launched
    _shared.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After this directory's last test (and its own fixtures' teardown), close what the
    session fixtures opened."""
    try:
        return (yield)
    finally:
        if nextitem is None or HERE not in nextitem.path.parents:
            _shared.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    assert errors == [], errors  # no script error on any page a test saw


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture(scope="module")
def pages() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.close()


def screenshot(page: Any, name: str) -> None:
    """Save the view for docs/ when CONSOLE_SCREENSHOTS names a directory."""
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
