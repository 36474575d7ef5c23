"""Bulk actions in the console (Chromium): over the list's label filter (a selector) or ticked
rows, driven through ``POST /periodic/bulk`` a slice a call to the end, with a progress bar, a
confirmation before deleting, the final counts and failures, and a cancel that stops after the
current slice. What they did is checked through the API, not only on the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from loadtest.stack import WebhookReceiver
from tests.browser.conftest import screenshot
from tests.browser.test_console import console, wait_for
from timer_service.bulk_requests import DEFAULT_BULK_LIMIT
from timer_service.client import TimerClient
from timer_service.labels import MAX_LABELS

MATCHING = 250  # team:fleet env:prod: more than two of the API's slices
assert MATCHING > 2 * DEFAULT_BULK_LIMIT
OTHERS = 20  # team:fleet env:dev: not matched by the selector
PROD = [f"fleet-{n:03d}" for n in range(MATCHING)]
DEV = [f"fleet-dev-{n:02d}" for n in range(OTHERS)]
# Each answer moves the bar: the observer keeps every text it showed.
WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  const text = document.getElementById("bulk-progress-text");
  new MutationObserver(() => window.progressSeen.push(text.textContent))
    .observe(text, { childList: true, characterData: true, subtree: true });
}"""


@pytest.fixture(scope="module")
def fleet(stack: Any, receiver: WebhookReceiver) -> Iterator[TimerClient]:
    """The 270 timers, put 8 at a time (there is no bulk create)."""

    def put(timer_id: str) -> None:
        env = "dev" if timer_id in DEV else "prod"
        body = {
            "schedule": "rate(1 day)",
            "jobType": "webhook",
            "job": {"url": f"{receiver.url}/hook/fleet"},
            "labels": {"team": "fleet", "env": env},
        }
        answer = http.put(f"{stack.url}/periodic/{timer_id}", json=body)
        assert answer.status_code == 201, answer.text

    with httpx.Client(timeout=30) as http, ThreadPoolExecutor(8) as threads:
        list(threads.map(put, PROD + DEV))
    with TimerClient(stack.url) as client:
        yield client
        client.bulk("delete", selector={"team": "fleet"})


def _ids(client: TimerClient, **where: Any) -> set[str]:
    return {t.id for t in client.iter_timers(**where)}


def test_bulk_pause_over_a_label_filter_shows_progress_and_pauses_only_the_matching(
    stack: Any, page: Any, fleet: TimerClient
) -> None:
    # GIVEN the list filtered by two labels: the 250 prod timers, all active
    page.goto(console(stack) + "#/?label=team:fleet&label=env:prod")
    expect(page.locator("#timers tbody tr")).to_have_count(MATCHING)
    # WHEN every timer of the filter is paused
    page.check("#bulk-scope-selector")
    page.select_option("#bulk-action", "pause")
    page.evaluate(WATCH_PROGRESS)
    page.click("#bulk-run")
    # THEN the bar moved with each of the API's answers, to the end
    result = page.locator("#bulk-result")
    expect(result).to_contain_text(f"{MATCHING} changed", timeout=45_000)
    seen = page.evaluate("window.progressSeen")
    for done in (DEFAULT_BULK_LIMIT, 2 * DEFAULT_BULK_LIMIT, MATCHING):
        assert f"{done} of {MATCHING}" in " | ".join(seen), seen
    expect(page.locator("#bulk-progress")).to_have_attribute("value", str(MATCHING))
    expect(result).to_contain_text("0 failed")
    # AND the API has every matching timer paused and the others untouched
    assert _ids(fleet, labels={"team": "fleet"}, state="paused") == set(PROD)
    assert _ids(fleet, labels={"team": "fleet"}, state="active") == set(DEV)
    # AND the list shows them paused
    expect(page.locator("#timers td.state .badge", has_text="paused")).to_have_count(MATCHING)

    # WHEN a resume is cancelled while its first slice is on its way
    held: list[Any] = []

    def hold(route: Any) -> None:  # (Playwright takes a function, not a bound method)
        held.append(route)

    page.route("**/periodic/bulk", hold)
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if r.url.endswith("/periodic/bulk") else None)
    page.select_option("#bulk-action", "resume")
    page.click("#bulk-run")
    wait_for(lambda: held or page.wait_for_timeout(50))
    page.click("#bulk-cancel")
    held[0].continue_()  # a call after it would be held too, and counted
    # THEN it stops after that slice, and says so
    expect(result).to_contain_text("Cancelled", timeout=30_000)
    expect(result).to_contain_text(f"{DEFAULT_BULK_LIMIT} of {MATCHING}")
    page.wait_for_timeout(500)  # no further call follows
    assert len(calls) == 1, calls
    page.unroute("**/periodic/bulk")
    assert _ids(fleet, labels={"team": "fleet", "env": "prod"}, state="active") == set(
        sorted(PROD)[:DEFAULT_BULK_LIMIT]
    )


def test_bulk_relabel_and_delete_of_ticked_timers_show_failures_and_delete_after_asking(
    stack: Any, page: Any, fleet: TimerClient, receiver: WebhookReceiver
) -> None:
    # GIVEN the dev timers, one of them with as many labels as a timer may have
    doomed = [DEV[1], DEV[7], DEV[12]]
    crowded = {"team": "fleet", "env": "dev"} | {f"x{n}": "1" for n in range(MAX_LABELS - 2)}
    body = {
        "schedule": "rate(1 day)",
        "jobType": "webhook",
        "job": {"url": f"{receiver.url}/hook/fleet"},
        "labels": crowded,
    }
    answer = httpx.put(f"{stack.url}/periodic/{DEV[12]}", json=body)
    assert answer.status_code == 200, answer.text
    # AND the list of them, three ticked
    page.goto(console(stack) + "#/?label=team:fleet&label=env:dev")
    expect(page.locator("#timers tbody tr")).to_have_count(OTHERS)
    for timer_id in doomed:
        page.check(f'tr[data-id="{timer_id}"] input.pick')
    expect(page.locator("#bulk-scope-ids")).to_be_checked()
    expect(page.locator("#bulk-picked")).to_contain_text("3 ticked")
    # WHEN they are relabelled: the crowded one cannot take another label
    page.select_option("#bulk-action", "relabel")
    page.fill("#bulk-set", "tier:gold")
    page.click("#bulk-run")
    result = page.locator("#bulk-result")
    expect(result).to_contain_text("2 changed, 0 skipped, 1 failed")
    failures = page.locator("#bulk-failures li")
    expect(failures).to_have_text([re.compile(rf"^{DEV[12]}: .*at most {MAX_LABELS}")])
    assert _ids(fleet, labels={"team": "fleet", "tier": "gold"}) == {DEV[1], DEV[7]}
    expect(page.locator(f'tr[data-id="{DEV[1]}"] td.labels')).to_contain_text("tier:gold")
    # WHEN they are deleted and the confirmation cancelled: nothing is deleted
    page.select_option("#bulk-action", "delete")
    page.click("#bulk-run")
    expect(page.locator("#confirm-text")).to_contain_text("Delete 3 timers")
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
    expect(result).to_contain_text("relabel")
    assert _ids(fleet, labels={"team": "fleet", "env": "dev"}) == set(DEV)
    # WHEN it is run again and confirmed
    page.click("#bulk-run")
    page.locator("#confirm-ok").click()
    # THEN exactly those three are gone, through the API and from the list
    expect(result).to_contain_text("delete: 3 matched, 3 changed")
    assert _ids(fleet, labels={"team": "fleet", "env": "dev"}) == set(DEV) - set(doomed)
    for timer_id in doomed:
        assert httpx.get(f"{stack.url}/periodic/{timer_id}").status_code == 404
    expect(page.locator("#timers tbody tr")).to_have_count(OTHERS - 3)
    expect(page.locator("#bulk-picked")).to_contain_text("0 ticked")
    screenshot(page, "console-bulk")
    assert len(_ids(fleet, labels={"team": "fleet", "env": "prod"})) == MATCHING
