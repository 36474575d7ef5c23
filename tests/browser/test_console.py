"""The web console in a real browser (Chromium), against a running local stack."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import expect

from loadtest.stack import WebhookReceiver
from tests.browser.conftest import screenshot
from tests.pages import PageServer


def wait_for(condition: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("timed out")


def console(stack: Any) -> str:
    return f"{stack.url}/console/"


def test_create_a_webhook_timer_see_it_fire_pause_and_delete_it(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    page.goto(console(stack) + "#/new")
    page.fill("#f-id", "nightly-report")
    # the schedule validates as it is typed, with the API's words next to the field
    page.fill("#f-schedule", "cron(0 25 * * ? *)")
    expect(page.locator("#error-schedule")).to_contain_text("'25': 25 is out of range 0-23")
    expect(page.locator("#f-schedule")).to_have_attribute("aria-invalid", "true")
    page.fill("#f-schedule", "cron(30 9 ? * MON-FRI *)")
    page.fill("#f-timezone", "Europe/Paris")
    preview = page.locator("#schedule-preview li")
    expect(preview).to_have_count(5)
    expect(page.locator("#error-schedule")).to_be_empty()
    for text in preview.all_inner_texts():  # 09:30 in Paris, on a weekday
        assert re.search(r"T09:30:00\+0[12]:00$", text), text
    page.select_option("#f-jobType", "webhook")
    page.fill("#f-job-url", f"{receiver.url}/hook/nightly-report")
    page.fill("#f-timerCallbackData", '{"report": "sales"}')
    page.select_option("#f-history", "all")
    screenshot(page, "console-new-timer")
    page.click("#save")

    expect(page).to_have_url(re.compile(r"#/timers/nightly-report$"))
    expect(page.locator("#next-firings li")).to_have_count(5)
    stored = httpx.get(f"{stack.url}/periodic/nightly-report").json()
    assert stored["schedule"] == "cron(30 9 ? * MON-FRI *)"
    assert stored["job"]["url"] == f"{receiver.url}/hook/nightly-report"
    assert stored["job"]["headers"] == {}  # fields left empty take the job type's defaults
    assert stored["timerCallbackData"] == {"report": "sales"}

    # listed, with its next firing, and found by search and filters
    page.goto(console(stack))
    row = page.locator('tr[data-id="nightly-report"]')
    expect(row).to_be_visible()
    expect(row.locator("td.next")).to_contain_text(
        _local(stored["nextFireTimes"][0], "Europe/Paris")
    )
    page.fill("#search", "nightly")
    expect(row).to_be_visible()
    page.select_option("#filter-type", "sqs")
    expect(row).to_be_hidden()
    page.select_option("#filter-type", "webhook")
    page.select_option("#filter-state", "paused")
    expect(row).to_be_hidden()
    page.select_option("#filter-state", "active")
    expect(row).to_be_visible()
    page.fill("#search", "")
    page.select_option("#filter-type", "")
    page.select_option("#filter-state", "")

    # fire it now; the firing shows in the runs view with its outcome and lateness
    row.locator("a", has_text="nightly-report").click()
    page.get_by_role("button", name="Trigger now").click()
    expect(page.locator("#banner")).to_contain_text("Triggered nightly-report")
    wait_for(lambda: any(r.path == "/hook/nightly-report" for r in receiver.requests))
    run = page.locator('tr.run[data-outcome="ok"]')
    wait_for(lambda: _refresh_runs(page) or run.count() == 1)
    expect(run.locator("td.lateness")).to_have_text(re.compile(r"^\d+ ms$"))
    expect(run).to_contain_text("triggered by hand")
    body = next(b for b in receiver.bodies() if b["timerId"] == "nightly-report")
    assert body["timerCallbackData"] == {"report": "sales"}

    # pause: no next firing; resume; delete after confirming
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#next-firings")).to_contain_text("Paused")
    assert httpx.get(f"{stack.url}/periodic/nightly-report").json()["enabled"] is False
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#next-firings li")).to_have_count(5)
    page.get_by_role("button", name="Delete").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
    assert httpx.get(f"{stack.url}/periodic/nightly-report").status_code == 200
    page.get_by_role("button", name="Delete").click()
    page.locator("#confirm-ok").click()
    expect(page).to_have_url(re.compile(r"#/$"))
    expect(page.locator("#banner")).to_contain_text("Deleted nightly-report")
    assert httpx.get(f"{stack.url}/periodic/nightly-report").status_code == 404
    expect(page.locator('tr[data-id="nightly-report"]')).to_have_count(0)


def _local(iso: str, zone: str) -> str:
    """The time as the console shows it (en-GB, the context's locale)."""
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(iso).astimezone(ZoneInfo(zone))
    return moment.strftime("%H:%M:%S")


def _refresh_runs(page: Any) -> None:
    page.get_by_role("button", name="Refresh").click()
    page.wait_for_timeout(300)


def test_a_one_shot_timer_made_in_the_form_fires_on_its_second_into_the_runs_view(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=6)
    page.goto(console(stack) + "#/new")
    page.fill("#f-id", "one-shot")
    page.fill("#f-schedule", f"at({due:%Y-%m-%dT%H:%M:%S})")
    page.fill("#f-timezone", "UTC")
    expect(page.locator("#schedule-preview li")).to_have_count(1)
    page.select_option("#f-jobType", "webhook")
    page.fill("#f-job-url", f"{receiver.url}/hook/one-shot")
    page.select_option("#f-history", "all")
    page.click("#save")
    expect(page).to_have_url(re.compile(r"#/timers/one-shot$"))
    arrived = wait_for(
        lambda: [r for r in receiver.requests if r.path == "/hook/one-shot"], timeout_s=20
    )
    assert arrived[0].at_s >= due.timestamp()  # never early
    run = page.locator('tr.run[data-outcome="ok"]')
    wait_for(lambda: _refresh_runs(page) or run.count() == 1)
    expect(run).not_to_contain_text("triggered by hand")
    expect(run.locator("td.lateness")).to_have_text(re.compile(r"^\d+ ms$"))


def test_api_errors_show_next_to_the_field_they_name(stack: Any, page: Any) -> None:
    page.goto(console(stack) + "#/new")
    page.fill("#f-id", "bad-one")
    page.select_option("#f-jobType", "webhook")
    page.fill("#f-job-url", "not a url")
    page.click("#save")
    expect(page.locator("#error-job-url")).to_contain_text("job.url")
    expect(page.locator("#f-job-url")).to_have_attribute("aria-invalid", "true")
    assert httpx.get(f"{stack.url}/periodic/bad-one").status_code == 404

    page.fill("#f-job-url", "http://127.0.0.1:9/hook")
    page.fill("#f-timerCallbackData", "{not json")
    page.click("#save")
    expect(page.locator("#error-timerCallbackData")).to_contain_text("not valid JSON")
    page.fill("#f-timerCallbackData", "")
    page.fill("#f-timezone", "Mars/Olympus")
    page.click("#save")
    expect(page.locator("#error-timezone")).to_contain_text("Mars/Olympus")

    # an edit made from an older version is refused, not silently overwritten
    httpx.put(f"{stack.url}/periodic/edited", json={"schedule": "rate(5 minutes)"})
    page.goto(console(stack) + "#/edit/edited")
    expect(page.locator("#f-schedule")).to_have_value("rate(5 minutes)")
    httpx.put(f"{stack.url}/periodic/edited", json={"schedule": "rate(7 minutes)"})
    page.fill("#f-schedule", "rate(9 minutes)")
    page.click("#save")
    expect(page.locator("#form-error")).to_contain_text("version")
    assert httpx.get(f"{stack.url}/periodic/edited").json()["schedule"] == "rate(7 minutes)"
    page.reload()
    page.fill("#f-schedule", "rate(9 minutes)")
    page.click("#save")
    expect(page).to_have_url(re.compile(r"#/timers/edited$"))
    assert httpx.get(f"{stack.url}/periodic/edited").json()["schedule"] == "rate(9 minutes)"


def test_an_html_change_shows_side_by_side(stack: Any, page: Any, pages: PageServer) -> None:
    pages.set("/shop.html", "<html><body><p id='price'>10 EUR</p><p>Open daily</p></body></html>")
    timer = {
        "schedule": "rate(1 day)",
        "jobType": "html_monitor",
        "history": "all",
        "job": {"url": f"{pages.url}/shop.html", "include": ["#price"]},
    }
    assert httpx.put(f"{stack.url}/periodic/price", json=timer).status_code == 201

    def runs() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = httpx.get(f"{stack.url}/periodic/price/runs").json()["items"]
        return items

    httpx.post(f"{stack.url}/periodic/price/trigger")
    wait_for(lambda: len(runs()) == 1)
    pages.set("/shop.html", "<html><body><p id='price'>12 EUR</p><p>Open daily</p></body></html>")
    time.sleep(1.1)  # the next manual firing's second
    httpx.post(f"{stack.url}/periodic/price/trigger")
    wait_for(lambda: any(r["outcome"] == "changed" for r in runs()))

    page.goto(console(stack) + "#/timers/price")
    expect(page.locator('tr.run[data-outcome="changed"]')).to_have_count(1)
    diff = page.locator(".diff")
    expect(diff.locator(".del")).to_have_text(["10 EUR"])
    expect(diff.locator(".add")).to_have_text(["12 EUR"])
    screenshot(page, "console-runs")


def test_changed_lines_that_start_with_dashes_or_pluses_are_shown(
    stack: Any, page: Any, pages: PageServer
) -> None:
    # in a unified diff a removed "-- 10 EUR" is "--- 10 EUR" and an added "++ sale" is
    # "+++ sale": content lines, not the "---"/"+++" file header that comes before the first @@
    pages.set("/sale.html", "<p id='a'>-- 10 EUR</p><p id='b'>--</p><p id='c'>kept</p>")
    timer = {
        "schedule": "rate(1 day)",
        "jobType": "html_monitor",
        "history": "all",
        "job": {"url": f"{pages.url}/sale.html"},
    }
    assert httpx.put(f"{stack.url}/periodic/sale", json=timer).status_code == 201

    def changed() -> bool:
        runs = httpx.get(f"{stack.url}/periodic/sale/runs").json()["items"]
        return any(r["outcome"] == "changed" for r in runs)

    httpx.post(f"{stack.url}/periodic/sale/trigger")
    wait_for(lambda: httpx.get(f"{stack.url}/periodic/sale/runs").json()["items"])
    pages.set("/sale.html", "<p id='a'>++ 8 EUR</p><p id='b'>++</p><p id='c'>kept</p>")
    time.sleep(1.1)  # the next manual firing's second
    httpx.post(f"{stack.url}/periodic/sale/trigger")
    wait_for(changed)

    page.goto(console(stack) + "#/timers/sale")
    diff = page.locator(".diff")
    expect(diff.locator(".del")).to_have_text(["-- 10 EUR", "--"])
    expect(diff.locator(".add")).to_have_text(["++ 8 EUR", "++"])


def test_dead_letters_are_listed_and_redriven(stack: Any, page: Any) -> None:
    from timer_service.aws import client
    from timer_service.clock import SystemClock
    from timer_service.dead_letters import DeadLetters
    from timer_service.dispatch import Firing
    from timer_service.store.dead_letters import DynamoDeadLetterStore
    from timer_service_local.gateway import LOCAL_OWNER

    httpx.put(f"{stack.url}/periodic/flaky", json={"schedule": "rate(1 hour)"})
    scheduled = int(datetime(2026, 11, 20, 8, 0, tzinfo=UTC).timestamp())
    firing = Firing(owner=LOCAL_OWNER, timer_id="flaky", version=1, scheduled_s=scheduled)
    store = DynamoDeadLetterStore(
        client("dynamodb", "us-east-1", stack.resources.endpoint_url), stack.resources.table
    )
    DeadLetters(store=store, queue=None, clock=SystemClock()).record(
        firing, error="webhook answered 503", attempts=5
    )
    page.goto(console(stack) + "#/dlq")
    row = page.locator(f'tr[data-firing="{firing.firing_id}"]')
    expect(row).to_contain_text("webhook answered 503")
    expect(row).to_contain_text("flaky")
    screenshot(page, "console-dead-letters")
    row.locator("input[type=checkbox]").check()
    page.click("#redrive-selected")
    expect(page.locator("#banner")).to_contain_text("Sent 1 firing back for delivery")
    expect(row).to_have_count(0)


def test_a_heartbeat_made_in_the_form_shows_its_ping_url_once_then_its_status(
    stack: Any, page: Any
) -> None:
    # GIVEN a heartbeat timer made in the form (no schedule: a period and a grace)
    page.goto(console(stack) + "#/new")
    page.fill("#f-id", "backup-beat")
    page.select_option("#f-kind", "heartbeat")
    expect(page.locator("#f-schedule")).to_be_hidden()
    page.fill("#f-heartbeat-periodSeconds", "3600")
    page.fill("#f-heartbeat-graceSeconds", "59")
    page.select_option("#f-jobType", "sqs")
    page.click("#save")
    expect(page.locator("#error-heartbeat-graceSeconds")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"#/timers/backup-beat$"))
    # THEN its ping URL is shown this once, and the timer reads new until pinged
    banner = page.locator("#banner")
    expect(banner).to_contain_text("/ping/")
    ping_url = re.search(r"http\S+/ping/[A-Za-z0-9_-]{43}", banner.inner_text())
    assert ping_url is not None
    expect(page.locator("#heartbeat-status")).to_have_text("new")
    assert httpx.get(ping_url.group(0)).status_code == 200  # as a cron job's curl would
    page.reload()
    expect(page.locator("#heartbeat-status")).to_have_text("up")
    expect(page.locator("#next-firings")).to_contain_text("unless pinged")
    expect(page.locator("#banner")).not_to_contain_text("/ping/")  # once
    # AND its edit form is a heartbeat's, with its period and grace
    page.goto(console(stack) + "#/edit/backup-beat")
    expect(page.locator("#f-kind")).to_have_value("heartbeat")
    expect(page.locator("#f-heartbeat-periodSeconds")).to_have_value("3600")
    page.fill("#f-heartbeat-periodSeconds", "30")
    page.click("#save")
    expect(page.locator("#error-heartbeat-periodSeconds")).to_contain_text("60")
    assert httpx.delete(f"{stack.url}/periodic/backup-beat").status_code == 200


def test_backfill_from_the_timer_page_fires_the_past_and_marks_its_runs(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    # GIVEN a minute timer made in the form with a catch-up window
    page.goto(console(stack) + "#/new")
    page.fill("#f-id", "filled-in")
    page.fill("#f-schedule", "rate(1 minute)")
    page.select_option("#f-jobType", "webhook")
    page.fill("#f-job-url", f"{receiver.url}/hook/filled-in")
    page.select_option("#f-misfirePolicy", "fireAll")
    page.fill("#f-catchUpWindow", "600")
    page.select_option("#f-history", "all")
    page.click("#save")
    expect(page).to_have_url(re.compile(r"#/timers/filled-in$"))
    assert httpx.get(f"{stack.url}/periodic/filled-in").json()["catchUpWindow"] == 600
    expect(page.locator("#catch-up-window")).to_contain_text("600")
    # WHEN the three minutes before the last hour are backfilled from its page
    now = datetime.now(UTC).replace(microsecond=0)
    page.fill("#backfill-from", f"{now - timedelta(hours=1, minutes=3):%Y-%m-%dT%H:%M:%SZ}")
    page.fill("#backfill-to", f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}")
    page.click("#backfill")
    # THEN it says how many, they run, and their runs say backfill
    expect(page.locator("#banner")).to_contain_text("Backfilled 3 firings")
    wait_for(lambda: len([r for r in receiver.requests if r.path == "/hook/filled-in"]) >= 3)
    runs = page.locator("tr.run", has_text="backfill")
    wait_for(lambda: _refresh_runs(page) or runs.count() == 3)
    page.fill("#backfill-to", f"{now + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}")
    page.click("#backfill")
    expect(page.locator("#backfill-error")).to_contain_text("to")
    assert httpx.delete(f"{stack.url}/periodic/filled-in").status_code == 200
