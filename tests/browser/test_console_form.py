"""The console's form in a real browser (Chromium): its fields, choices and patterns come from
the API's document and the job types' schemas, not from the console's own code."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.test_console import console


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
