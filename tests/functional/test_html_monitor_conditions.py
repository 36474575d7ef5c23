"""html_monitor's text conditions (triggerText, blockText, extractText) and price watches,
through the API and the callback Lambda on moto, against pages served locally that change:
exactly one notice per change a user asked to hear of, none otherwise."""

from __future__ import annotations

import json
import time
from typing import Any

from loadtest.stack import WebhookReceiver
from tests.conftest import ApiCall, AwsResources
from tests.functional.conftest import runs, trigger
from tests.functional.test_html_monitor import notices
from tests.pages import PageServer

PAGE = "/status.html"


def watch(
    call_api: ApiCall, timer_id: str, job: dict[str, Any], *, status: int = 201, **extra: Any
) -> Any:
    body = {"schedule": "rate(1 hour)", "jobType": "html_monitor", "job": job} | extra
    answer = call_api("PUT", f"/periodic/{timer_id}", body)
    assert answer.status == status, answer.body
    return answer.body


def lines(*text: str) -> str:
    return "<html><body>" + "".join(f"<p>{line}</p>" for line in text) + "</body></html>"


def test_trigger_text_notifies_only_the_change_that_adds_a_matching_line(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer, receiver: WebhookReceiver
) -> None:
    pages.set(PAGE, lines("Release 1.0", "Nothing new"))
    hook = {"webhookUrl": receiver.url + "/notify"}
    watch(
        call_api, "rel", {"url": pages.url + PAGE, "triggerText": [r"(?i)security"], "notify": hook}
    )
    trigger(call_api, pipeline, "rel")  # baseline
    pages.set(PAGE, lines("Release 1.1", "Nothing new"))  # a change, no trigger line
    trigger(call_api, pipeline, "rel")
    pages.set(PAGE, lines("Release 1.2", "SECURITY fix for CVE-1"))  # adds a trigger line
    trigger(call_api, pipeline, "rel")
    pages.set(PAGE, lines("Release 1.3", "SECURITY fix for CVE-1"))  # the line stays: not added
    trigger(call_api, pipeline, "rel")
    recorded = runs(call_api, "rel")
    assert [r["outcome"] for r in recorded] == ["changed"] * 3  # every change is in the history
    assert [r["details"].get("triggered") for r in reversed(recorded)] == [False, None, False]
    (notice,) = notices(receiver)
    assert "+SECURITY fix for CVE-1" in notice["diff"]


def test_block_text_records_no_change_while_it_matches(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer, receiver: WebhookReceiver
) -> None:
    pages.set(PAGE, lines("Price 10"))
    hook = {"webhookUrl": receiver.url + "/notify"}
    watch(
        call_api,
        "blk",
        {"url": pages.url + PAGE, "blockText": ["^Under maintenance"], "notify": hook},
    )
    trigger(call_api, pipeline, "blk")
    pages.set(PAGE, lines("Under maintenance", "Price 0"))
    trigger(call_api, pipeline, "blk")
    pages.set(PAGE, lines("Under maintenance", "Price -"))
    trigger(call_api, pipeline, "blk")
    assert runs(call_api, "blk") == [] and notices(receiver) == []
    pages.set(PAGE, lines("Price 12"))  # the block lifts: one change, against the last recorded
    trigger(call_api, pipeline, "blk")
    (changed,) = runs(call_api, "blk")
    assert changed["diff"].splitlines()[-2:] == ["-Price 10", "+Price 12"]
    assert len(notices(receiver)) == 1


def test_extract_text_monitors_only_its_matches_capture_groups_included(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer, receiver: WebhookReceiver
) -> None:
    pages.set(PAGE, lines("Widget: 10 EUR (visitors today: 5)", "Gadget: 7 EUR"))
    hook = {"webhookUrl": receiver.url + "/notify"}
    job = {"url": pages.url + PAGE, "extractText": [r"(\w+): (\d+) EUR"], "notify": hook}
    watch(call_api, "ext", job)
    trigger(call_api, pipeline, "ext")
    pages.set(PAGE, lines("Widget: 10 EUR (visitors today: 6)", "Gadget: 7 EUR", "Ad"))
    trigger(call_api, pipeline, "ext")
    assert runs(call_api, "ext") == []
    pages.set(PAGE, lines("Widget: 11 EUR (visitors today: 6)", "Gadget: 7 EUR"))
    trigger(call_api, pipeline, "ext")
    (changed,) = runs(call_api, "ext")
    assert changed["diff"].splitlines()[-3:] == ["-Widget 10", "+Widget 11", " Gadget 7"]
    assert len(notices(receiver)) == 1


def test_a_hostile_pattern_fails_the_check_within_its_budget_naming_the_field(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer
) -> None:
    pages.set(PAGE, lines("a" * 40 + "!"))
    for field in ("extractText", "blockText"):
        watch(call_api, f"redos-{field}", {"url": pages.url + PAGE, field: ["(a|aa)+$"]})
        started = time.monotonic()
        trigger(call_api, pipeline, f"redos-{field}")
        assert time.monotonic() - started < 10
        (failed,) = runs(call_api, f"redos-{field}")
        assert failed["outcome"] == "error"
        assert failed["summary"] == f"{field} took over 1 s on this page; simplify the patterns"


PRODUCT_LD = """<html><head><script type="application/ld+json">
{{"@context": "https://schema.org/", "@type": "Product", "name": "Executive Anvil",
  "offers": {{"@type": "Offer", "priceCurrency": "USD", "price": "{price}",
              "availability": "https://schema.org/{availability}"}}}}
</script></head><body><h1>Executive Anvil</h1><p>Visitors: {visitors}</p></body></html>"""


def product_page(price: str, availability: str = "InStock", visitors: int = 1) -> str:
    """After schema.org's Product example (https://schema.org/Product, JSON-LD)."""
    return PRODUCT_LD.format(price=price, availability=availability, visitors=visitors)


def test_a_price_condition_notifies_once_each_time_it_turns_true(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer, receiver: WebhookReceiver
) -> None:
    pages.set(PAGE, product_page("25.00"))
    job = {
        "url": pages.url + PAGE,
        "conditions": [{"field": "price", "op": "<", "value": 20}],
        "notify": {"webhookUrl": receiver.url + "/notify"},
    }
    watch(call_api, "anvil", job, history="all")
    trigger(call_api, pipeline, "anvil")  # baseline: 25, not below 20
    for price, visitors in [
        ("25.00", 2),
        ("22.00", 2),
        ("19.99", 2),
        ("18.50", 3),
        ("21", 3),
        ("15", 3),
    ]:
        pages.set(PAGE, product_page(price, visitors=visitors))
        trigger(call_api, pipeline, "anvil")
    recorded = list(reversed(runs(call_api, "anvil")))
    assert [r["outcome"] for r in recorded] == [
        "ok", "unchanged", "changed", "changed", "changed", "changed", "changed",
    ]  # fmt: skip
    checked = [r for r in recorded if r["outcome"] != "unchanged"]
    assert [r["details"]["values"]["price"] for r in checked] == [25, 22, 19.99, 18.5, 21, 15]
    met = [r["details"]["conditions"][0]["met"] for r in checked]
    assert met == [False, False, True, True, False, True]
    sent = notices(receiver)
    assert [n["event"] for n in sent] == ["condition", "condition"]
    assert sent[0]["summary"] == "now true: price < 20 (price 19.99 USD, availability InStock)"
    assert sent[1]["summary"].startswith("now true: price < 20 (price 15 USD")


MICRODATA = """<html><body><div itemscope itemtype="https://schema.org/Product">
<span itemprop="name">Kenmore White 17" Microwave</span>
<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
  <span itemprop="priceCurrency" content="USD">$</span>
  <span itemprop="price" content="55.00">55.00</span>
  <link itemprop="availability" href="https://schema.org/{availability}" />{label}
</div></div></body></html>"""


def test_availability_from_microdata_notifies_when_back_in_stock(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer, receiver: WebhookReceiver
) -> None:
    # After schema.org's Product example in microdata (https://schema.org/Product)
    pages.set(PAGE, MICRODATA.format(availability="OutOfStock", label="Sold out"))
    condition = {"field": "availability", "op": "==", "value": "instock"}
    job = {
        "url": pages.url + PAGE,
        "conditions": [condition],
        "notify": {"webhookUrl": receiver.url + "/n"},
    }
    watch(call_api, "oven", job)
    trigger(call_api, pipeline, "oven")
    pages.set(PAGE, MICRODATA.format(availability="InStock", label="In stock!"))
    trigger(call_api, pipeline, "oven")
    trigger(call_api, pipeline, "oven")
    (sent,) = [json.loads(r.body) for r in receiver.requests]
    assert (
        sent["summary"]
        == "now true: availability == InStock (price 55.00 USD, availability InStock)"
    )
    (changed,) = [r for r in runs(call_api, "oven") if r["outcome"] == "changed"]
    assert changed["details"]["values"]["source"] == "microdata"


def test_a_selector_reads_the_price_where_the_page_has_no_schema_data(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer, receiver: WebhookReceiver
) -> None:
    pages.set(PAGE, '<p>Our price: <b class="price">1.299,00 €</b></p>')
    job = {
        "url": pages.url + PAGE,
        "priceSelector": ".price",
        "conditions": [{"field": "price", "op": "<=", "value": 1200}],
        "notify": {"webhookUrl": receiver.url + "/n"},
    }
    watch(call_api, "tv", job)
    trigger(call_api, pipeline, "tv")
    pages.set(PAGE, '<p>Our price: <b class="price">1.199,00 €</b></p>')
    trigger(call_api, pipeline, "tv")
    (sent,) = [json.loads(r.body) for r in receiver.requests]
    assert sent["summary"] == "now true: price <= 1200 (price 1199.00 EUR, availability unknown)"
    pages.set(PAGE, "<p>No price today</p>")
    trigger(call_api, pipeline, "tv")
    assert runs(call_api, "tv")[0]["summary"].startswith("no price or availability found")


def test_bad_conditions_are_refused_at_put_naming_the_field(
    pipeline: AwsResources, call_api: ApiCall, pages: PageServer
) -> None:
    url = pages.url + PAGE
    for job, field in [
        ({"conditions": [{"field": "price", "op": "<", "value": "cheap"}]}, "conditions"),
        ({"conditions": [{"field": "availability", "op": "<", "value": "InStock"}]}, "conditions"),
        ({"conditions": [{"field": "availability", "op": "==", "value": "Maybe"}]}, "conditions"),
        ({"conditions": [{"field": "colour", "op": "==", "value": "red"}]}, "conditions"),
        ({"priceSelector": ".price"}, "job"),
        ({"triggerText": ["(unclosed"]}, "triggerText"),
        ({"blockText": ["[z-a]"]}, "blockText"),
    ]:
        body = watch(call_api, "bad", {"url": url, **job}, status=400)
        assert field in json.dumps(body), (job, body)
    assert call_api("GET", "/periodic/bad").status == 404
