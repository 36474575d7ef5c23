"""The console's page of webhook signing secrets (Chromium): a secret shown once and never
listed, a rotation's two secrets, retirement, and the API's refusals in its words."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect
from standardwebhooks import Webhook

from loadtest.stack import WebhookReceiver
from tests.browser.test_console import console, wait_for


def _listed(stack: Any) -> list[tuple[str, str]]:
    items = httpx.get(f"{stack.url}/signing-secrets").json()["items"]
    return [(item["id"], item["state"]) for item in items]


def test_a_secret_is_shown_once_rotated_into_two_and_retired(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    # GIVEN no signing secret (a test of this worker's stack may have made one); the page is
    # in the console's navigation
    for secret_id, _ in _listed(stack):
        httpx.delete(f"{stack.url}/signing-secrets/{secret_id}")
    page.goto(console(stack))
    page.get_by_role("link", name="Signing secrets").click()
    expect(page).to_have_url(re.compile(r"#/signing-secrets$"))
    expect(page.locator("#no-secrets")).to_be_visible()
    # WHEN one is created
    page.click("#create-secret")
    # THEN its value is shown once, with a copy button and a warning
    shown = page.locator("#new-secret")
    expect(shown).to_contain_text("you will not see it again")
    secret = page.locator("#new-secret-value").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret), secret
    page.click("#copy-secret")
    expect(page.locator("#copy-secret")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    [(first_id, state)] = _listed(stack)
    assert state == "active"
    row = page.locator(f'tr.secret[data-id="{first_id}"]')
    expect(row.locator(".badge")).to_have_text("active")
    expect(page.locator("#signing-secrets")).not_to_contain_text(secret)
    expect(page.locator("#create-secret")).to_have_count(0)  # one active at a time: rotate it
    # AND it is the secret deliveries are signed with (a Standard Webhooks library says so)
    hook = {
        "schedule": "rate(1 day)",
        "jobType": "webhook",
        "job": {"url": f"{receiver.url}/hook/signed"},
    }
    assert httpx.put(f"{stack.url}/periodic/signed", json=hook).status_code == 201
    assert httpx.post(f"{stack.url}/periodic/signed/trigger").status_code == 202
    delivery = wait_for(lambda: [r for r in receiver.requests if r.path == "/hook/signed"])[0]
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    Webhook(secret).verify(delivery.body, headers)
    httpx.delete(f"{stack.url}/periodic/signed")
    # AND once the page is left, the value is nowhere in it
    page.reload()
    expect(page.locator(f'tr.secret[data-id="{first_id}"]')).to_be_visible()
    expect(page.locator("#new-secret")).to_have_count(0)
    assert "whsec_" not in page.content()

    # WHEN a grace period out of the document's bounds is asked for: refused before any call
    page.fill("input.grace", "-5")
    row.locator("button.rotate").click()
    expect(page.locator("#secrets-error")).to_contain_text("0 to 604800")
    # WHEN it is rotated with a grace period of 10 minutes
    page.fill("input.grace", "600")
    row.locator("button.rotate").click()
    # THEN the new one is shown once, and both are listed: the new active, the old retiring
    expect(page.locator("#new-secret")).to_be_visible()
    rotated = page.locator("#new-secret-value").inner_text()
    assert rotated.startswith("whsec_") and rotated != secret
    listed = _listed(stack)
    assert [state for _, state in listed] == ["active", "retiring"]
    (second_id, _), _ = listed
    expect(page.locator("tr.secret")).to_have_count(2)
    retiring = page.locator(f'tr.secret[data-id="{first_id}"]')
    expect(retiring.locator(".badge")).to_have_text("retiring")
    expect(retiring.locator("td.retires")).to_contain_text("in 10 minutes")
    active = page.locator(f'tr.secret[data-id="{second_id}"]')
    expect(active.locator(".badge")).to_have_text("active")
    expect(page.locator("#signing-secrets")).not_to_contain_text(rotated)
    # WHEN it is rotated again during the rotation: the API's 409, in its words
    active.locator("button.rotate").click()
    error = page.locator("#secrets-error")
    expect(error).to_contain_text("a rotation is under way")
    expect(error).to_contain_text("(409 conflict)")
    expect(page.locator("#new-secret-value")).to_have_text(rotated)  # still in view

    # WHEN the retiring one is retired (after a confirmation): the active one is left
    retiring.locator("button.retire").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
    assert len(_listed(stack)) == 2
    retiring.locator("button.retire").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("tr.secret")).to_have_count(1)
    expect(page.locator("#banner")).to_contain_text(f"Retired {first_id}")
    assert _listed(stack) == [(second_id, "active")]
    # AND when the active one is retired, none is left and one can be created again
    active.locator("button.retire").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("#no-secrets")).to_be_visible()
    expect(page.locator("#create-secret")).to_be_visible()
    assert _listed(stack) == []
