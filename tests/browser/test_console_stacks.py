"""The console of a keyed local stack and of a deployed one (through the signing proxy), in a
real browser (Chromium)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from loadtest.stack import WebhookReceiver
from tests.browser.conftest import screenshot


def test_a_stack_with_api_keys_asks_for_one_once(page: Any, keyed_stack: Any) -> None:
    keyed = keyed_stack
    headers = {"X-Api-Key": "team-key-1"}
    httpx.put(f"{keyed.url}/periodic/keyed-timer", json={}, headers=headers)
    page.goto(f"{keyed.url}/console/")
    dialog = page.locator("#api-key-dialog")
    expect(dialog).to_be_visible()
    page.fill("#api-key-input", "wrong")
    page.click("#api-key-form button[type=submit]")
    expect(page.locator("#api-key-error")).to_contain_text("refused")
    page.fill("#api-key-input", "team-key-1")
    page.click("#api-key-form button[type=submit]")
    expect(page.locator('tr[data-id="keyed-timer"]')).to_be_visible()
    page.reload()  # kept: not asked again
    expect(page.locator('tr[data-id="keyed-timer"]')).to_be_visible()
    expect(dialog).to_be_hidden()


def test_console_of_a_deployed_stack_loads_its_modules_and_document_through_the_proxy(
    stack: Any, page: Any, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib import resources

    from timer_service_cli.console_proxy import ConsoleProxy
    from timer_service_console import CONSOLE_POLICY

    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }.items():
        monkeypatch.setenv(name, value)
    static = resources.files("timer_service_console").joinpath("static")
    modules = {
        f"{folder}{entry.name}"
        for folder, root in [("", static), ("views/", static.joinpath("views"))]
        for entry in root.iterdir()
        if entry.name.endswith(".js")
    }
    scripts: dict[str, tuple[int, str]] = {}
    proxy = ConsoleProxy(stack.url, region="eu-west-1", port=0).start()
    try:
        page.on(
            "response",
            lambda r: (
                scripts.__setitem__(
                    r.url.removeprefix(f"{proxy.url}/console/"),
                    (r.status, r.headers.get("content-type", "")),
                )
                if r.request.resource_type == "script"
                else None
            ),
        )
        answer = page.goto(f"{proxy.url}/console/#/new")
        assert answer is not None and answer.headers["content-security-policy"] == CONSOLE_POLICY
        # the form needs every module, the job types and the document, all through the proxy
        page.fill("#f-id", "by-proxy")
        page.select_option("#f-jobType", "webhook")
        page.fill("#f-job-url", f"{receiver.url}/hook/by-proxy")
        page.select_option("#f-misfirePolicy", "skip")
        expect(page.locator("#schedule-preview li")).to_have_count(5)
        page.click("#save")
        expect(page).to_have_url(re.compile(r"#/timers/by-proxy$"))
        assert scripts == {m: (200, "text/javascript; charset=utf-8") for m in modules}
        stored = httpx.get(f"{stack.url}/periodic/by-proxy").json()
        assert (stored["misfirePolicy"], stored["job"]["url"]) == (
            "skip",
            f"{receiver.url}/hook/by-proxy",
        )
    finally:
        proxy.stop()
        httpx.delete(f"{stack.url}/periodic/by-proxy")


def test_console_for_a_deployed_stack_signs_its_calls(
    stack: Any, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from timer_service_cli.console_proxy import ConsoleProxy

    # the local stack stands in for API Gateway (it ignores the signature)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
    }.items():
        monkeypatch.setenv(name, value)
    httpx.put(f"{stack.url}/periodic/deployed-one", json={"schedule": "rate(2 hours)"})
    proxy = ConsoleProxy(stack.url, region="eu-west-1", port=0).start()
    try:
        page.goto(f"{proxy.url}/console/")
        row = page.locator('tr[data-id="deployed-one"]')
        expect(row).to_be_visible()
        expect(page.locator("td.last-run", has_text="…")).to_have_count(0)
        screenshot(page, "console-timers")
        row.get_by_role("button", name="Pause").click()
        expect(row.locator(".badge.paused")).to_be_visible()
        assert httpx.get(f"{stack.url}/periodic/deployed-one").json()["enabled"] is False
        # only the console's own page gets its calls signed
        assert httpx.get(f"{proxy.url}/periodic").status_code == 403
        forged = {"X-Requested-By": "timer-service-console", "Origin": "http://evil.example"}
        assert httpx.get(f"{proxy.url}/periodic", headers=forged).status_code == 403
        for method, path in [("POST", "/signing-secrets"), ("DELETE", "/signing-secrets/key_0")]:
            assert httpx.request(method, proxy.url + path, headers=forged).status_code == 403
        assert httpx.get(f"{stack.url}/signing-secrets").json()["items"] == []
        rebound = {"X-Requested-By": "timer-service-console", "Host": "evil.example"}
        assert httpx.get(f"{proxy.url}/periodic", headers=rebound).status_code == 421
    finally:
        proxy.stop()
