"""The console's form in a real browser (Chromium): its fields, choices and patterns come from
the API's document and the job types' schemas, not from the console's own code; the schedule
fields (rate of seconds, jitter, run limits) and a completed timer in the views."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import expect

from loadtest.stack import WebhookReceiver
from tests.browser.test_console import console, wait_for
from timer_service.completion import MAX_CRON_FIRINGS
from timer_service.jitter import jitter_offset


def test_job_type_forms_come_from_their_schemas(stack: Any, page: Any) -> None:
    page.goto(console(stack) + "#/new")
    page.select_option("#f-jobType", "html_monitor")
    expect(page.locator("#f-job-url")).to_be_visible()
    expect(page.locator("#f-job-include")).to_be_visible()  # a list: one selector a line
    expect(page.locator("#f-job-notify-webhookUrl")).to_be_visible()  # a nested model
    page.select_option("#f-jobType", "ec2_instances")
    expect(page.locator("#f-job-action option")).to_have_text(["start", "stop"])
    expect(page.locator("#f-job-dryRun")).to_have_attribute("type", "checkbox")
    expect(page.locator("#f-job-url")).to_have_count(0)
    page.fill("#f-id", "ec2-nightly")
    page.select_option("#f-job-action", "stop")
    page.fill("#f-job-filters", '[{"Name": "tag:env", "Values": ["dev"]}]')
    page.check("#f-job-dryRun")
    page.click("#save")
    expect(page).to_have_url(re.compile(r"#/timers/ec2-nightly$"))
    job = httpx.get(f"{stack.url}/periodic/ec2-nightly").json()["job"]
    assert (job["action"], job["filters"], job["dryRun"]) == (
        "stop",
        [{"Name": "tag:env", "Values": ["dev"]}],
        True,
    )
    assert "roleArn" not in job  # left empty: not sent


def _choices(page: Any, select: str) -> list[str]:
    values: list[str] = page.eval_on_selector_all(f"{select} option", "os => os.map(o => o.value)")
    return values


def _spec(document: dict[str, Any]) -> dict[str, Any]:
    """The properties of PUT /periodic/{id}'s body, where the API takes a timer's fields."""
    body = document["paths"]["/periodic/{id}"]["put"]["requestBody"]
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    properties: dict[str, Any] = document["components"]["schemas"][name]["properties"]
    return properties


def _enum(schema: dict[str, Any]) -> list[str]:
    if "enum" in schema:
        return list(schema["enum"])
    return next(list(option["enum"]) for option in schema["anyOf"] if "enum" in option)


def test_the_form_offers_the_choices_of_the_api_document(stack: Any, page: Any) -> None:
    spec = _spec(httpx.get(f"{stack.url}/openapi.json").json())
    page.goto(console(stack) + "#/new")
    page.locator("#f-job-url").wait_for()
    assert _choices(page, "#f-misfirePolicy") == _enum(spec["misfirePolicy"])
    assert _choices(page, "#f-delivery") == _enum(spec["delivery"])
    assert _choices(page, "#f-history") == ["", *_enum(spec["history"])]
    assert _choices(page, "#f-onComplete") == _enum(spec["onComplete"])
    expect(page.locator("#f-onComplete")).to_have_value(spec["onComplete"]["default"])
    expect(page.locator("#f-misfirePolicy")).to_have_value(spec["misfirePolicy"]["default"])
    expect(page.locator("#f-delivery")).to_have_value(spec["delivery"]["default"])
    # the id field holds the API's pattern: "." and ".." are not ids (RFC 3986 5.2.4)
    for text, valid in [("nightly-report", True), ("..", False), ("..a", True), ("a b", False)]:
        page.fill("#f-id", text)
        assert page.eval_on_selector("#f-id", "e => e.validity.valid") is valid, text


def test_choices_pattern_and_page_size_come_from_the_document_not_the_console(
    stack: Any, page: Any
) -> None:
    # GIVEN a document as a later API could give it (a test double of /openapi.json): one more
    # value of each choice, other defaults, a narrower id pattern, smaller pages
    document = httpx.get(f"{stack.url}/openapi.json").json()
    spec = _spec(document)
    spec["misfirePolicy"]["enum"].append("fireTwice")
    spec["misfirePolicy"]["default"] = "skip"
    spec["delivery"]["enum"].insert(0, "exactlyOnce")
    spec["delivery"]["default"] = "deduplicated"
    next(o for o in spec["history"]["anyOf"] if "enum" in o)["enum"].append("weekly")
    for parameter in document["paths"]["/periodic/{id}"]["put"]["parameters"]:
        if parameter["name"] == "id":
            parameter["schema"]["pattern"] = "^[a-z]{1,5}$"
    for parameter in document["paths"]["/periodic"]["get"]["parameters"]:
        if parameter["name"] == "limit":
            parameter["schema"]["maximum"] = 2
    page.route("**/openapi.json", lambda route: route.fulfill(json=document))
    for n in range(3):
        httpx.put(f"{stack.url}/periodic/paged-{n}", json={"schedule": "rate(1 day)"})
    listed: list[str] = []
    page.on("request", lambda r: listed.append(r.url) if "/periodic?" in r.url else None)
    # WHEN the console shows the form and the list
    page.goto(console(stack) + "#/new")
    page.locator("#f-job-url").wait_for()
    # THEN it offers what the document says, and holds ids to its pattern
    assert _choices(page, "#f-misfirePolicy") == ["fireOnce", "fireAll", "skip", "fireTwice"]
    expect(page.locator("#f-misfirePolicy")).to_have_value("skip")
    assert _choices(page, "#f-delivery") == ["exactlyOnce", "atLeastOnce", "deduplicated"]
    expect(page.locator("#f-delivery")).to_have_value("deduplicated")
    assert _choices(page, "#f-history")[-1] == "weekly"
    for text, valid in [("abcde", True), ("abcdef", False), ("a-b", False)]:
        page.fill("#f-id", text)
        assert page.eval_on_selector("#f-id", "e => e.validity.valid") is valid, text
    page.goto(console(stack))
    expect(page.locator('tr[data-id="paged-2"]')).to_be_visible()
    assert listed and all("limit=2" in url for url in listed), listed
    assert len(listed) >= 2  # three timers or more, two a page
    for n in range(3):  # the list's screenshot shows the other tests' timers only
        httpx.delete(f"{stack.url}/periodic/paged-{n}")


def _owner() -> str:
    from timer_service_local.gateway import LOCAL_OWNER

    return LOCAL_OWNER


def _offset(timer_id: str, iso: str, jitter_s: int) -> int:
    """The jitter offset of the firing scheduled at ``iso``, as the service derives it."""
    scheduled_s = int(datetime.fromisoformat(iso).timestamp())
    return jitter_offset(_owner(), timer_id, scheduled_s, jitter_s)


def test_a_seconds_rate_with_jitter_and_a_run_limit_made_in_the_form_shows_them(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    # GIVEN the form, whose schedule help names the rate of seconds
    page.goto(console(stack) + "#/new")
    expect(page.locator("#f-schedule + .hint")).to_contain_text("rate(N seconds")
    # WHEN a rate of seconds gets a jitter: its run times need the timer's id
    page.fill("#f-schedule", "rate(10 seconds)")
    page.fill("#f-timezone", "UTC")
    page.fill("#f-jitterSeconds", "7")
    expect(page.locator("#preview-note")).to_contain_text("set the id")
    page.fill("#f-id", "every-ten")
    page.fill("#f-maxFirings", "500")
    page.select_option("#f-onComplete", "keep")
    expect(page.locator("#preview-note")).not_to_contain_text("set the id")
    # THEN the preview shows each firing's run time after the offset the service derives
    preview = page.locator("#schedule-preview li")
    expect(preview).to_have_count(5)
    for text in preview.all_inner_texts():
        local = re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", text)
        assert local is not None, text
        offset = _offset("every-ten", local.group(0), 7)
        assert (f"runs {offset} s later" in text) if offset else ("runs" not in text), text
    page.fill("#f-job-url", f"{receiver.url}/hook/every-ten")
    expect(page.locator("#rearm-note")).to_have_count(0)  # a new timer: nothing to re-arm
    expect(page.locator("#view")).not_to_contain_text("null")
    page.click("#save")
    # AND the timer view shows the fields as stored, and when each next firing runs
    expect(page).to_have_url(re.compile(r"#/timers/every-ten$"))
    stored = httpx.get(f"{stack.url}/periodic/every-ten").json()
    assert (stored["schedule"], stored["jitterSeconds"], stored["maxFirings"]) == (
        "rate(10 seconds)",
        7,
        500,
    )
    assert stored["onComplete"] == "keep"
    expect(page.locator("#timer-state")).to_have_text("active")
    expect(page.locator("#jitter-seconds")).to_contain_text("up to 7 s")
    expect(page.locator("#max-firings")).to_have_text("500")
    expect(page.locator("#firings-left")).to_have_text(re.compile(r"^(500|49\d)$"))
    firings = page.locator("#next-firings li")
    expect(firings).to_have_count(5)
    for item in firings.all():
        scheduled = re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item.inner_text())
        assert scheduled is not None
        offset = _offset("every-ten", scheduled.group(0), 7)
        expect(item.locator(".run-time")).to_have_count(1 if offset else 0)
        if offset:
            expect(item.locator(".run-time")).to_contain_text(f"(+{offset} s)")
    # AND the list shows it active, with its firings left
    page.goto(console(stack))
    row = page.locator('tr[data-id="every-ten"]')
    expect(row.locator("td.state .badge")).to_have_text("active")
    expect(row.locator("td.state")).to_contain_text("firings left")
    assert httpx.delete(f"{stack.url}/periodic/every-ten").status_code == 200


def test_jitter_and_run_limit_mistakes_show_at_their_fields(stack: Any, page: Any) -> None:
    page.goto(console(stack) + "#/new")
    page.fill("#f-id", "limited")
    page.fill("#f-job-url", "http://127.0.0.1:9/hook")
    # WHEN numbers outside the document's bounds are entered: refused before any call
    page.fill("#f-jitterSeconds", "901")
    page.fill("#f-maxFirings", "0")
    page.click("#save")
    expect(page.locator("#error-jitterSeconds")).to_contain_text("0 to 900")
    expect(page.locator("#f-jitterSeconds")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-maxFirings")).to_contain_text("1 to 1000000")
    page.fill("#f-jitterSeconds", "2.5")
    page.fill("#f-maxFirings", "")
    page.click("#save")
    expect(page.locator("#error-jitterSeconds")).to_contain_text("a whole number")
    assert httpx.get(f"{stack.url}/periodic/limited").status_code == 404
    # WHEN the API refuses a limit the document allows (a cron's is at most MAX_CRON_FIRINGS)
    page.fill("#f-jitterSeconds", "")
    page.fill("#f-schedule", "cron(0 9 * * ? *)")
    page.fill("#f-maxFirings", str(2 * MAX_CRON_FIRINGS))
    # THEN its 400 shows at the field it names: as typed (the preview), and on save
    expect(page.locator("#error-maxFirings")).to_contain_text(f"at most {MAX_CRON_FIRINGS}")
    page.click("#save")
    expect(page.locator("#error-maxFirings")).to_contain_text(f"at most {MAX_CRON_FIRINGS}")
    expect(page.locator("#f-maxFirings")).to_have_attribute("aria-invalid", "true")
    assert httpx.get(f"{stack.url}/periodic/limited").status_code == 404
    # AND a heartbeat has none of these fields
    page.select_option("#f-kind", "heartbeat")
    for name in ("jitterSeconds", "maxFirings", "onComplete"):
        expect(page.locator(f"#f-{name}")).to_be_hidden()


def test_a_timer_whose_last_firing_ran_shows_completed_and_saving_it_arms_it_again(
    stack: Any, page: Any, receiver: WebhookReceiver
) -> None:
    # GIVEN a jittered rate(1 second) timer limited to 3 firings, which have run
    timer = {
        "schedule": "rate(1 second)",
        "jobType": "webhook",
        "job": {"url": f"{receiver.url}/hook/three-times"},
        "history": "all",
        "jitterSeconds": 4,
        "maxFirings": 3,
    }
    assert httpx.put(f"{stack.url}/periodic/three-times", json=timer).status_code == 201
    url = f"{stack.url}/periodic/three-times"

    def runs() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = httpx.get(f"{url}/runs").json()["items"]
        return items

    # (jitter may run an earlier firing after the last one, which completes the timer)
    wait_for(lambda: httpx.get(url).json()["state"] == "completed" and len(runs()) == 3, 40)
    # WHEN its page is shown
    page.goto(console(stack) + "#/timers/three-times")
    # THEN it reads completed, with no firing left and no pause or resume to offer
    expect(page.locator("#timer-state .badge")).to_have_text("completed")
    expect(page.locator("#firings-left")).to_have_text("0")
    expect(page.locator("#next-firings")).to_contain_text("Completed")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    expect(page.get_by_role("button", name="Resume")).to_have_count(0)
    # AND each run shows the jitter offset it ran after
    expect(page.locator("tr.run")).to_have_count(3)
    for run in runs():
        row = page.locator("tr.run", has_text=_time(run["scheduledAt"]))
        note = row.locator("td.lateness .offset")
        if run["offsetSeconds"]:
            expect(note).to_have_text(f"{run['offsetSeconds']} s of it jitter")
        else:
            expect(note).to_have_count(0)
    # AND the list finds it by its state
    page.goto(console(stack))
    page.select_option("#filter-state", "completed")
    row = page.locator('tr[data-id="three-times"]')
    expect(row.locator("td.state .badge")).to_have_text("completed")
    page.select_option("#filter-state", "active")
    expect(row).to_be_hidden()
    page.select_option("#filter-state", "")
    # WHEN it is edited and saved: armed again, its 3 firings counted from then
    page.goto(console(stack) + "#/edit/three-times")
    expect(page.locator("#rearm-note")).to_be_visible()
    expect(page.locator("#f-maxFirings")).to_have_value("3")
    expect(page.locator("#f-jitterSeconds")).to_have_value("4")
    page.click("#save")
    expect(page).to_have_url(re.compile(r"#/timers/three-times$"))
    # (its run is recorded before the last firing's completion is written)
    wait_for(lambda: httpx.get(url).json()["state"] == "completed" and len(runs()) == 6, 40)
    assert httpx.delete(url).status_code == 200


def _time(iso: str) -> str:
    """The scheduled time as the runs table shows it (en-GB, UTC: the timer's zone)."""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%H:%M:%S")
