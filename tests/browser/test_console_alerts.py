"""A timer's alerts, pauseAfterFailures, overlap and flow control in the console (Chromium): made
in the form, shown on the timer's page, their mistakes at their fields; a timer the service
paused after failures shows why."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from playwright.sync_api import expect

from loadtest.stack import WebhookReceiver
from tests.browser.test_console import console, wait_for
from tests.browser.test_console_form import _choices, _spec

FIELDS = (
    "alerts",
    "pauseAfterFailures",
    "overlap",
    "concurrencyKey",
    "maxConcurrency",
    "maxPerSecond",
)


def test_alerts_overlap_and_a_concurrency_key_made_in_the_form_show_on_the_timer_page(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    # GIVEN the form of a new webhook timer
    page.goto(console(stack) + "#/new")
    page.fill("#f-id", "guarded-hook")
    page.fill("#f-schedule", "rate(1 day)")
    page.fill("#f-job-url", f"{receiver.url}/hook/guarded-hook")
    # WHEN an alert's webhook is not a URL: the API's 400 shows at its field
    page.fill("#f-alerts-webhookUrl", "not a url")
    page.click("#save")
    expect(page.locator("#error-alerts-webhookUrl")).to_contain_text("alerts.webhookUrl")
    expect(page.locator("#f-alerts-webhookUrl")).to_have_attribute("aria-invalid", "true")
    # AND a concurrency key off the API's pattern: held invalid as typed, refused at its field
    page.fill("#f-alerts-webhookUrl", f"{receiver.url}/hook/alerts")
    page.fill("#f-concurrencyKey", "api example.com")
    assert page.eval_on_selector("#f-concurrencyKey", "e => e.validity.valid") is False
    page.click("#save")
    expect(page.locator("#error-concurrencyKey")).to_contain_text("concurrencyKey")
    expect(page.locator("#error-alerts-webhookUrl")).to_be_empty()
    # AND limits outside the document's bounds are refused before any call
    page.fill("#f-concurrencyKey", "api.example.com")
    page.fill("#f-maxConcurrency", "0")
    page.fill("#f-pauseAfterFailures", "1001")
    page.click("#save")
    expect(page.locator("#error-maxConcurrency")).to_contain_text("1 to 1000")
    expect(page.locator("#error-pauseAfterFailures")).to_contain_text("1 to 1000")
    assert httpx.get(f"{stack.url}/periodic/guarded-hook").status_code == 404
    # WHEN the fields are right
    page.fill("#f-alerts-apprise", "json://127.0.0.1:9/notices")
    page.fill("#f-alerts-afterFailures", "2")
    page.fill("#f-pauseAfterFailures", "5")
    page.select_option("#f-overlap", "skip")
    page.fill("#f-maxConcurrency", "5")
    page.fill("#f-maxPerSecond", "20")
    page.click("#save")
    # THEN the timer has them as entered (the API's first Apprise URL imports Apprise to check
    # it: seconds, on a busy machine)
    expect(page).to_have_url(re.compile(r"#/timers/guarded-hook$"), timeout=30_000)
    stored = httpx.get(f"{stack.url}/periodic/guarded-hook").json()
    assert stored["alerts"] == {
        "webhookUrl": f"{receiver.url}/hook/alerts",
        "snsTopicArn": None,
        "apprise": ["json://127.0.0.1:9/notices"],
        "afterFailures": 2,
    }
    assert (stored["pauseAfterFailures"], stored["overlap"]) == (5, "skip")
    assert (stored["concurrencyKey"], stored["maxConcurrency"], stored["maxPerSecond"]) == (
        "api.example.com",
        5,
        20,
    )
    # AND its page shows them, with no failing streak and no pause
    expect(page.locator("#alerts")).to_contain_text(f"Webhook: {receiver.url}/hook/alerts")
    expect(page.locator("#alerts")).to_contain_text("Apprise: json://127.0.0.1:9/notices")
    expect(page.locator("#after-failures")).to_contain_text("after 2 failed runs in a row")
    expect(page.locator("#pause-after-failures")).to_have_text("after 5 failed runs in a row")
    expect(page.locator("#failures")).to_have_text("none")
    expect(page.locator("#overlap")).to_have_text(re.compile(r"^skip: "))
    flow = page.locator("#flow-control")
    expect(flow).to_contain_text("api.example.com: at most 5 at once, at most 20 started a second")
    expect(page.locator("#paused-reason")).to_have_count(0)
    expect(page.locator("#view")).not_to_contain_text("undefined")
    # AND its edit form holds them, and saving it unchanged keeps them
    page.goto(console(stack) + "#/edit/guarded-hook")
    expect(page.locator("#f-alerts-afterFailures")).to_have_value("2")
    expect(page.locator("#f-overlap")).to_have_value("skip")
    expect(page.locator("#f-concurrencyKey")).to_have_value("api.example.com")
    expect(page.locator("#f-maxPerSecond")).to_have_value("20")
    page.click("#save")
    expect(page).to_have_url(re.compile(r"#/timers/guarded-hook$"))
    again = httpx.get(f"{stack.url}/periodic/guarded-hook").json()
    assert again["version"] == stored["version"] + 1
    assert {f: again[f] for f in FIELDS} == {f: stored[f] for f in FIELDS}
    assert httpx.delete(f"{stack.url}/periodic/guarded-hook").status_code == 200


def test_the_new_fields_follow_the_document_and_are_left_out_where_it_lacks_them(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    # GIVEN a document as a later API could give it: another overlap, a narrower limit
    document = httpx.get(f"{stack.url}/openapi.json").json()
    spec = _spec(document)
    spec["overlap"]["enum"].append("queue")
    spec["overlap"]["default"] = "skip"
    next(o for o in spec["maxConcurrency"]["anyOf"] if o.get("type") == "integer")["maximum"] = 7
    page.route("**/openapi.json", lambda route: route.fulfill(json=document))
    page.goto(console(stack) + "#/new")
    page.locator("#f-overlap").wait_for()  # the form is drawn once the document is read
    # THEN the form offers what it says
    assert _choices(page, "#f-overlap") == ["allow", "skip", "queue"]
    expect(page.locator("#f-overlap")).to_have_value("skip")
    page.fill("#f-maxConcurrency", "8")
    page.fill("#f-id", "follows-document")
    page.click("#save")
    expect(page.locator("#error-maxConcurrency")).to_contain_text("1 to 7")
    # GIVEN the document of an older stack, without the fields
    page.unroute("**/openapi.json")
    older = httpx.get(f"{stack.url}/openapi.json").json()
    for name in FIELDS:
        del _spec(older)[name]
    page.route("**/openapi.json", lambda route: route.fulfill(json=older))
    sent: list[dict[str, Any]] = []
    page.on(
        "request", lambda r: sent.append(json.loads(r.post_data)) if r.method == "PUT" else None
    )
    # WHEN the form is used (the page loaded again: it reads the document once)
    page.reload()
    page.locator("#f-job-url").wait_for()
    # THEN it has none of them, and its timer is sent without them
    expect(page.locator("#alerts-fields, #flow-fields")).to_have_count(0)
    page.fill("#f-id", "older-stack")
    page.fill("#f-job-url", f"{receiver.url}/hook/older-stack")
    page.click("#save")
    expect(page).to_have_url(re.compile(r"#/timers/older-stack$"))
    assert len(sent) == 1 and not set(FIELDS) & set(sent[0]), sent
    assert httpx.delete(f"{stack.url}/periodic/older-stack").status_code == 200


def test_a_timer_paused_after_failures_shows_why_and_resuming_clears_it(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    # GIVEN a timer firing every second at a webhook that fails, paused after 3 failures in a
    # row, its alerts to another receiver after 2
    failing = WebhookReceiver()
    failing.status = 500
    url = f"{stack.url}/periodic/flaky-hook"
    timer = {
        "schedule": "rate(1 second)",
        "jobType": "webhook",
        "job": {"url": f"{failing.url}/hook/flaky-hook"},
        "history": "all",
        "alerts": {"webhookUrl": f"{receiver.url}/hook/flaky-alerts", "afterFailures": 2},
        "pauseAfterFailures": 3,
    }
    try:
        assert httpx.put(url, json=timer).status_code == 201
        # WHEN its runs fail: the service pauses it
        paused = wait_for(lambda: (t := httpx.get(url).json())["pausedReason"] and t, 40)
        assert paused["enabled"] is False and paused["failures"] >= 1
        # THEN its page says so, at the top, with the service's reason
        page.goto(console(stack) + "#/timers/flaky-hook")
        notice = page.locator("#paused-reason")
        expect(notice).to_contain_text("Paused by the service")
        expect(notice).to_contain_text(paused["pausedReason"])
        expect(notice).to_contain_text(re.compile(r"paused after \d+ failed runs in a row"))
        expect(page.locator("#timer-state .badge")).to_have_text("paused")
        expect(page.locator("#failures")).to_have_text(
            re.compile(r"^error \d+ failed runs? in a row$")
        )
        # AND the alerts went out: failing at 2, paused at 3
        events = wait_for(lambda: {b["event"] for b in _alerts(receiver)} >= {"failing", "paused"})
        assert events
        # WHEN the webhook is fixed and the timer resumed from its page
        failing.status = 200
        page.get_by_role("button", name="Resume").click()
        # THEN the reason and the streak are gone
        expect(page.locator("#timer-state .badge")).to_have_text("active")
        expect(page.locator("#paused-reason")).to_have_count(0)
        resumed = httpx.get(url).json()
        assert (resumed["enabled"], resumed["pausedReason"]) == (True, None)
    finally:
        httpx.delete(url)
        failing.close()


def _alerts(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests if r.path == "/hook/flaky-alerts"]
