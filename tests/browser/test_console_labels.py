"""A timer's labels in the console (Chromium): edited in the form (a label the API refuses shows
at its own field), shown in the list and on the timer's page, and the list filtered by labels,
job type and state through the API, the filter kept in the URL across a reload."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import httpx
from playwright.sync_api import expect

from loadtest.stack import WebhookReceiver
from tests.browser.conftest import screenshot
from tests.browser.test_console import console

# id -> labels; the filter team:pay env:prod matches exactly f-a and f-d
FILTERED = {
    "f-a": {"team": "pay", "env": "prod"},
    "f-b": {"team": "pay", "env": "dev"},
    "f-c": {"team": "ops", "env": "prod"},
    "f-d": {"team": "pay", "env": "prod", "tier": "gold"},
    "f-e": {},
}


def _rows(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "#timers tbody tr", "rs => rs.map(r => r.dataset.id)"
    )
    return ids


def _query(page: Any) -> dict[str, list[str]]:
    """The list's filter as the URL holds it (#/?label=...&state=...)."""
    return parse_qs(page.url.partition("#")[2].partition("?")[2])


def test_labels_made_and_edited_in_the_form_show_in_the_list_and_on_the_timer_page(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    url = f"{stack.url}/periodic/labelled-hook"
    # GIVEN the form of a new timer with two labels, the second's key not one the API takes
    page.goto(console(stack) + "#/new")
    page.fill("#f-id", "labelled-hook")
    page.fill("#f-schedule", "rate(1 day)")
    page.fill("#f-job-url", f"{receiver.url}/hook/labelled-hook")
    page.click("#add-label")
    page.fill("#f-label-key-0", "team")
    page.fill("#f-label-value-0", "payments")
    page.click("#add-label")
    page.fill("#f-label-key-1", "Env")
    page.fill("#f-label-value-1", "prod")
    # WHEN it is saved: the API's 400 shows at that label, the other label is left alone
    page.click("#save")
    expect(page.locator("#error-label-1")).to_contain_text("labels.Env")
    expect(page.locator("#f-label-key-1")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-label-0")).to_be_empty()
    expect(page.locator("#form-error")).to_be_empty()
    assert httpx.get(url).status_code == 404
    # WHEN the key is fixed, and a third label added, then removed before saving
    page.fill("#f-label-key-1", "env")
    page.click("#add-label")
    page.fill("#f-label-key-2", "scratch")
    page.click("#remove-label-2")
    expect(page.locator("#f-label-key-2")).to_have_count(0)
    page.click("#save")
    # THEN the timer has the two labels, and its page shows them
    expect(page).to_have_url(re.compile(r"#/timers/labelled-hook$"))
    assert httpx.get(url).json()["labels"] == {"team": "payments", "env": "prod"}
    expect(page.locator("#labels .label")).to_have_text(["env:prod", "team:payments"])
    # WHEN its form is opened again (the labels by key), one value changed and one label removed
    page.goto(console(stack) + "#/edit/labelled-hook")
    expect(page.locator("#f-label-key-0")).to_have_value("env")
    expect(page.locator("#f-label-value-1")).to_have_value("payments")
    page.fill("#f-label-value-0", "staging")
    page.click("#remove-label-1")
    page.click("#save")
    # THEN the timer keeps only what the form held
    expect(page).to_have_url(re.compile(r"#/timers/labelled-hook$"))
    assert httpx.get(url).json()["labels"] == {"env": "staging"}
    expect(page.locator("#labels .label")).to_have_text(["env:staging"])
    # AND the list shows them on its row
    page.goto(console(stack))
    expect(page.locator('tr[data-id="labelled-hook"] td.labels .label')).to_have_text(
        ["env:staging"]
    )
    assert httpx.delete(url).status_code == 200


def test_the_list_filtered_by_two_labels_job_type_and_state_keeps_its_filter_on_reload(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    # GIVEN timers of several labels, f-d paused
    for timer_id, labels in FILTERED.items():
        body = {
            "schedule": "rate(1 day)",
            "jobType": "webhook",
            "job": {"url": f"{receiver.url}/hook/{timer_id}"},
            "labels": labels,
            "enabled": timer_id != "f-d",
        }
        assert httpx.put(f"{stack.url}/periodic/{timer_id}", json=body).status_code == 201
    try:
        page.goto(console(stack))
        expect(page.locator('tr[data-id="f-e"]')).to_be_visible()
        # WHEN the list is filtered by two labels
        page.fill("#filter-labels", "team:pay env:prod")
        page.press("#filter-labels", "Enter")
        # THEN it lists exactly the timers with both, and the URL holds the filter
        expect(page.locator("#timers tbody tr")).to_have_count(2)
        assert _rows(page) == ["f-a", "f-d"]
        assert _query(page)["label"] == ["team:pay", "env:prod"]
        expect(page.locator('tr[data-id="f-d"] td.labels')).to_contain_text("tier:gold")
        screenshot(page, "console-labels")
        # AND a reload keeps it
        page.reload()
        expect(page.locator("#filter-labels")).to_have_value("team:pay env:prod")
        expect(page.locator("#timers tbody tr")).to_have_count(2)
        assert _rows(page) == ["f-a", "f-d"]
        # WHEN the state and the job type narrow it too
        page.select_option("#filter-state", "paused")
        expect(page.locator("#timers tbody tr")).to_have_count(1)
        assert _rows(page) == ["f-d"]
        page.select_option("#filter-type", "webhook")
        expect(page).to_have_url(re.compile(r"jobType=webhook"))
        query = _query(page)
        assert (query["state"], query["jobType"]) == (["paused"], ["webhook"])
        # THEN a reload keeps all three
        page.reload()
        expect(page.locator("#filter-state")).to_have_value("paused")
        expect(page.locator("#filter-type")).to_have_value("webhook")
        expect(page.locator("#timers tbody tr")).to_have_count(1)
        assert _rows(page) == ["f-d"]
        # WHEN the state filter is dropped and a row's label is clicked: it joins the filter
        page.select_option("#filter-state", "")
        expect(page.locator("#timers tbody tr")).to_have_count(2)
        page.locator('tr[data-id="f-d"] td.labels .label', has_text="tier:gold").click()
        expect(page.locator("#filter-labels")).to_have_value("team:pay env:prod tier:gold")
        expect(page.locator("#timers tbody tr")).to_have_count(1)
        # AND a pair the API refuses is shown at the filter's field
        page.fill("#filter-labels", "team")
        page.press("#filter-labels", "Enter")
        expect(page.locator("#error-filter-labels")).to_contain_text("key:value")
        expect(page.locator("#filter-labels")).to_have_attribute("aria-invalid", "true")
        # AND emptied, the list has every timer again
        page.fill("#filter-labels", "")
        page.press("#filter-labels", "Enter")
        page.select_option("#filter-type", "")
        expect(page.locator("#timers tbody tr")).to_have_count(len(FILTERED))
        assert "label" not in _query(page)
    finally:
        for timer_id in FILTERED:
            httpx.delete(f"{stack.url}/periodic/{timer_id}")
