"""The local stack's HTTP edge in a real browser: pages of other origins, DNS rebinding, framing,
and Swagger UI's "Try it out"."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from loadtest.stack import WebhookReceiver
from tests.browser.conftest import CHROMIUM
from tests.pages import PageServer

REBOUND = "rebind.example"  # an attacker's name, made to resolve to 127.0.0.1


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.fixture
def rebinding_page(browser: Any) -> Iterator[Any]:
    """A page in a Chromium whose resolver maps REBOUND to 127.0.0.1, as DNS rebinding does."""
    launched = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1"]
    )
    context = launched.new_context()
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    launched.close()


def test_a_page_of_another_origin_cannot_pause_or_trigger_a_timer(
    stack: Any, page: Any, pages: PageServer, receiver: WebhookReceiver
) -> None:
    # GIVEN a timer, and a page on another origin (another port of 127.0.0.1) that sends the
    # requests a browser sends without a preflight: a no-cors fetch POST and a form POST
    timer = {
        "schedule": "rate(1 day)",
        "jobType": "webhook",
        "job": {"url": f"{receiver.url}/hook/guarded"},
    }
    assert httpx.put(f"{stack.url}/periodic/guarded", json=timer).status_code == 201
    pages.set(
        "/attack.html",
        f"""<!doctype html><html><body>
        <form id="trigger" method="POST" action="{stack.url}/periodic/guarded/trigger"></form>
        <script>
        fetch("{stack.url}/periodic/guarded/pause", {{method: "POST", mode: "no-cors"}})
          .then(() => {{ document.title = "sent"; }}, (e) => {{ document.title = "failed"; }});
        </script></body></html>""",
    )
    # WHEN Chromium opens it
    page.goto(f"{pages.url}/attack.html")
    page.wait_for_function("document.title === 'sent'")
    with page.expect_navigation():
        page.evaluate("document.getElementById('trigger').submit()")
    # THEN the stack refused both: the timer is unchanged and nothing fired
    assert "cross_origin_request" in page.content()
    stored = httpx.get(f"{stack.url}/periodic/guarded").json()
    assert (stored["enabled"], stored["version"]) == (True, 1)
    time.sleep(3)  # a trigger that got through fires in about a second
    assert [r for r in receiver.requests if r.path == "/hook/guarded"] == []


def test_a_page_of_another_origin_cannot_create_rotate_or_retire_signing_secrets(
    stack: Any, page: Any, pages: PageServer
) -> None:
    # GIVEN a signing secret, and a page of another origin that tries each change: a no-cors
    # fetch POST (no preflight), a form POST, and a DELETE (a preflight no answer allows)
    made = httpx.post(f"{stack.url}/signing-secrets")
    assert made.status_code == 201
    key = made.json()["id"]
    secrets = f"{stack.url}/signing-secrets"
    pages.set(
        "/secrets.html",
        f"""<!doctype html><html><body>
        <form id="rotate" method="POST" action="{secrets}/{key}/rotate"></form>
        <script>
        Promise.allSettled([
          fetch("{secrets}", {{method: "POST", mode: "no-cors"}}),
          fetch("{secrets}/{key}", {{method: "DELETE"}}),
        ]).then((r) => {{ document.title = r.map((x) => x.status).join(" "); }});
        </script></body></html>""",
    )
    # WHEN Chromium opens it
    page.goto(f"{pages.url}/secrets.html")
    page.wait_for_function("document.title.includes(' ')")
    assert page.title() == "fulfilled rejected"  # the DELETE never went: no CORS allows it
    with page.expect_navigation():
        page.evaluate("document.getElementById('rotate').submit()")
    # THEN the stack refused them: the one secret is as it was, and no other was made
    assert "cross_origin_request" in page.content()
    listed = httpx.get(secrets).json()["items"]
    assert [(s["id"], s["state"]) for s in listed] == [(key, "active")]
    assert httpx.delete(f"{secrets}/{key}").status_code == 200


def test_the_console_itself_still_changes_timers(stack: Any, page: Any) -> None:
    assert httpx.put(f"{stack.url}/periodic/own-page", json={}).status_code == 201
    page.goto(f"{stack.url}/console/#/timers/own-page")
    page.get_by_role("button", name="Pause").click()
    page.locator("#next-firings", has_text="Paused").wait_for()
    assert httpx.get(f"{stack.url}/periodic/own-page").json()["enabled"] is False


def test_a_rebound_name_gets_nothing_from_the_stack(stack: Any, rebinding_page: Any) -> None:
    # the browser believes it talks to rebind.example: same origin, no CORS involved
    answer = rebinding_page.goto(f"http://{REBOUND}:{_port(stack.url)}/periodic")
    assert answer is not None and answer.status == 403
    assert "wrong_host" in rebinding_page.content()
    console = rebinding_page.goto(f"http://{REBOUND}:{_port(stack.url)}/console/")
    assert console is not None and console.status == 403


def _framed_urls(page: Any, pages: PageServer, targets: list[str]) -> list[str]:
    """Load a page of another origin that frames each target; the URL each frame ended on."""
    frames = "".join(f'<iframe src="{url}"></iframe>' for url in targets)
    pages.set("/frames.html", f"<!doctype html><html><body>{frames}</body></html>")
    page.goto(f"{pages.url}/frames.html", wait_until="load")
    page.wait_for_timeout(500)
    return [frame.url for frame in page.main_frame.child_frames]


def test_chromium_refuses_to_frame_the_console_and_the_api(
    stack: Any, page: Any, pages: PageServer
) -> None:
    targets = [f"{stack.url}/console/", f"{stack.url}/periodic", f"{stack.url}/docs"]
    framed = _framed_urls(page, pages, targets)
    assert len(framed) == len(targets)
    assert all(url.startswith("chrome-error://") for url in framed), framed


def test_chromium_refuses_to_frame_the_console_of_a_deployed_stack(
    stack: Any, page: Any, pages: PageServer
) -> None:
    from timer_service_cli.console_proxy import ConsoleProxy

    proxy = ConsoleProxy(stack.url, region="eu-west-1", port=0).start()
    try:
        framed = _framed_urls(page, pages, [f"{proxy.url}/console/"])
        assert len(framed) == 1 and framed[0].startswith("chrome-error://"), framed
    finally:
        proxy.stop()


# Each refusal a policy makes is reported to the page as a securitypolicyviolation event (CSP 3,
# 5.3); an init script is the browser's, not the page's, and runs whatever the policy.
_WATCH_POLICY = """window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));"""

_INJECT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__ran = 'inline script'";
  document.body.append(script);
  const image = document.createElement("img");
  image.setAttribute("onerror", "window.__ran = 'inline handler'");
  image.src = "missing.svg";
  document.body.append(image);
  const outside = document.createElement("script");
  outside.src = "https://cdn.example/app.js";
  document.body.append(outside);
}"""


def test_the_console_works_under_its_policy_which_runs_no_injected_script(
    stack: Any, page: Any
) -> None:
    from timer_service_console import CONSOLE_POLICY

    page.add_init_script(_WATCH_POLICY)
    assert httpx.put(f"{stack.url}/periodic/under-policy", json={}).status_code == 201
    answer = page.goto(f"{stack.url}/console/#/new")
    assert answer is not None and answer.headers["content-security-policy"] == CONSOLE_POLICY
    # every view renders, with no refusal: the console is only its own files
    expect(page.locator("#schedule-preview li")).to_have_count(5)
    page.goto(f"{stack.url}/console/#/timers/under-policy")
    expect(page.locator("#next-firings li")).to_have_count(5)
    page.goto(f"{stack.url}/console/#/dlq")
    page.get_by_role("heading", name="Dead letters").wait_for()
    page.goto(f"{stack.url}/console/#/")
    expect(page.locator('tr[data-id="under-policy"]')).to_be_visible()
    assert page.evaluate("window.__violations") == []
    # an injected script, inline handler or script of another origin does not run
    page.evaluate(_INJECT)
    deadline = time.monotonic() + 10  # polled from here: the policy blocks the page's eval
    while len(page.evaluate("window.__violations")) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert page.evaluate("window.__ran") is None
    refused = page.evaluate("window.__violations")
    assert sorted(v.split()[0] for v in refused) == ["script-src-attr"] + ["script-src-elem"] * 2


def test_swagger_ui_try_it_out_calls_the_stack(stack: Any, page: Any) -> None:
    page.goto(f"{stack.url}/docs")
    operation = page.locator("#operations-default-health")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().split()[0] == "200"
    assert operation.locator(".request-url pre").inner_text().strip() == f"{stack.url}/health"


@pytest.mark.parametrize("document", ["/openapi.json", "/docs?format=json"])
def test_the_documents_server_is_the_stack_as_served(stack: Any, document: str) -> None:
    from urllib.parse import urljoin

    served = httpx.get(f"{stack.url}{document}").json()
    (server,) = served["servers"]
    base = urljoin(f"{stack.url}{document}", server["url"]).rstrip("/")  # OpenAPI 3.1 4.8.5
    for path in ("/health", "/periodic", "/job-types"):
        assert httpx.get(base + path).status_code == 200, base + path


def test_swagger_ui_of_a_keyed_stack_authorizes_with_the_key(page: Any, keyed_stack: Any) -> None:
    keyed = keyed_stack
    page.goto(f"{keyed.url}/docs")
    page.get_by_role("button", name="Authorize").first.click()
    page.fill("#api_key_value", "swagger-key")
    page.get_by_role("button", name="Apply credentials").click()
    page.locator(".auth-container").get_by_role("button", name="Close").click()
    operation = page.locator("#operations-default-list_timers")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().split()[0] == "200"
