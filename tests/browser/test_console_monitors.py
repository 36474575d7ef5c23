"""html_monitor's newer fields in the console (Chromium, against a running local stack): a price
watch made in the form, its condition values in the runs view; a JSON watch's diff."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_console import console, wait_for
from tests.pages import PageServer

PRODUCT = """<html><head><script type="application/ld+json">
{{"@context": "https://schema.org/", "@type": "Product", "name": "Anvil",
  "offers": {{"@type": "Offer", "priceCurrency": "EUR", "price": "{price}",
              "availability": "https://schema.org/InStock"}}}}</script></head>
<body><h1>Anvil</h1></body></html>"""


def runs(stack: Any, timer_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = httpx.get(f"{stack.url}/periodic/{timer_id}/runs").json()["items"]
    return items


def check_now(stack: Any, timer_id: str, count: int) -> None:
    time.sleep(1.1)  # a manual firing's second of its own
    assert httpx.post(f"{stack.url}/periodic/{timer_id}/trigger").status_code == 202
    wait_for(lambda: len(runs(stack, timer_id)) >= count)


def test_a_price_watch_made_in_the_form_shows_its_values_and_conditions(
    stack: Any, page: Any, pages: PageServer
) -> None:
    pages.set("/anvil.html", PRODUCT.format(price="25.00"))
    page.goto(console(stack) + "#/new")
    page.select_option("#f-jobType", "html_monitor")
    for field in ("jsonPath", "jq", "triggerText", "blockText", "extractText", "conditions"):
        expect(page.locator(f"#f-job-{field}")).to_be_visible()
    expect(page.locator("#f-job-fetcher option")).to_have_text(["—", "http", "browser"])
    page.fill("#f-id", "anvil")
    page.fill("#f-job-url", f"{pages.url}/anvil.html")
    page.fill("#f-job-conditions", '[{"field": "price", "op": "<", "value": 20}]')
    page.fill("#f-job-ignoreText", "^  Visitors: \\d+ \n\n Updated")  # spaces are the pattern's
    page.select_option("#f-history", "all")
    page.click("#save")
    expect(page).to_have_url(re.compile(r"#/timers/anvil$"))
    job = httpx.get(f"{stack.url}/periodic/anvil").json()["job"]
    assert job["conditions"] == [{"field": "price", "op": "<", "value": 20.0}]
    assert job["ignoreText"] == ["^  Visitors: \\d+ ", " Updated"]

    check_now(stack, "anvil", 1)
    pages.set("/anvil.html", PRODUCT.format(price="18.00"))
    check_now(stack, "anvil", 2)
    page.get_by_role("button", name="Refresh").click()  # the view shown since the save
    changed = page.locator('tr.run[data-outcome="changed"]')
    expect(changed.locator(".values")).to_have_text("price 18 EUR · InStock (json-ld)")
    expect(changed.locator(".condition.met")).to_have_text("✓ price < 20")
    expect(page.locator('tr.run[data-outcome="ok"] .condition.unmet')).to_have_text("✗ price < 20")
    expect(page.locator(".diff .add")).to_have_text(["price: 18.00 EUR"])
    screenshot(page, "console-price-watch")


def test_a_json_watch_shows_the_selected_values_diff(
    stack: Any, page: Any, pages: PageServer
) -> None:
    document = {"info": {"title": "Pets", "version": "1.0"}, "paths": {"/pets": {}}}
    pages.set("/api.json", json.dumps(document), content_type="application/json")
    timer = {
        "schedule": "rate(1 day)",
        "jobType": "html_monitor",
        "job": {"url": f"{pages.url}/api.json", "jsonPath": ["$.info"]},
    }
    assert httpx.put(f"{stack.url}/periodic/api", json=timer).status_code == 201
    time.sleep(1.1)
    httpx.post(f"{stack.url}/periodic/api/trigger")
    time.sleep(2)  # the baseline (not kept: changes-and-errors)
    document["info"]["version"] = "1.1"
    pages.set("/api.json", json.dumps(document), content_type="application/json")
    check_now(stack, "api", 1)
    page.goto(console(stack) + "#/timers/api")
    expect(page.locator(".diff .del")).to_have_text(['  "version": "1.0"'])
    expect(page.locator(".diff .add")).to_have_text(['  "version": "1.1"'])


def test_the_feed_link_is_made_shown_once_read_by_a_feed_reader_and_revoked(
    stack: Any, page: Any, pages: PageServer
) -> None:
    import feedparser

    pages.set("/news.html", "<p>Release 1</p>")
    timer = {
        "schedule": "rate(1 day)",
        "jobType": "html_monitor",
        "job": {"url": f"{pages.url}/news.html"},
        "history": "all",
    }
    assert httpx.put(f"{stack.url}/periodic/news", json=timer).status_code == 201
    check_now(stack, "news", 1)  # the baseline: not a change, so not in the feed
    pages.set("/news.html", "<p>Release 2</p>")
    check_now(stack, "news", 2)
    page.goto(console(stack) + "#/timers/news")
    expect(page.locator("#feed-status")).to_have_text("none")
    page.click("#feed-open")
    url = page.locator("#feed-url")
    expect(url).to_be_visible()
    feed_url = url.input_value()
    assert feed_url.startswith(f"{stack.url}/feeds/")
    expect(page.locator("#feed-status")).to_contain_text("a feed since")
    parsed = feedparser.parse(httpx.get(feed_url).text)  # no credential but the URL
    assert parsed.bozo == 0
    (entry,) = parsed.entries
    assert "+Release 2" in entry.content[0].value
    page.reload()  # the URL is not shown again; the feed is
    expect(page.locator("#feed-status")).to_contain_text("a feed since")
    expect(page.locator("#feed-url")).to_be_hidden()
    page.click("#feed-revoke")
    expect(page.locator("#feed-status")).to_have_text("none")
    assert httpx.get(feed_url).status_code == 404
