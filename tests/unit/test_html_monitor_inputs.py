"""What a watched page or API may send html_monitor, found by the review of issue 21: every
odd input is a handled `error` run (or read right), never an exception retried to the DLQ."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from callbacks.html_monitor.json_filter import FilterError, check_json_path, filtered_text
from callbacks.html_monitor.product import availability_name, parse_price
from tests.pages import PageServer
from timer_service.testing import JobHarness


@pytest.fixture
def pages() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.close()


def fire(pages: PageServer, body: str, job: dict[str, Any], content_type: str) -> Any:
    pages.set("/p", body, content_type=content_type)
    checks = JobHarness()
    checks.put("w", jobType="html_monitor", job={"url": pages.url + "/p", **job})
    run = checks.fire("w")
    assert checks.last_error is None, checks.last_error  # not raised: a run of its own
    return run


def product(offer: str) -> str:
    return (
        '<script type="application/ld+json">{"@type": "Product", "offers": '
        + offer
        + "}</script><p>x</p>"
    )


PRICE_BELOW_20 = {"conditions": [{"field": "price", "op": "<", "value": 20}]}


def test_a_price_specification_list_is_read() -> None:
    spec = '{"@type": "Offer", "priceSpecification": [{"price": 12.5, "priceCurrency": "EUR"}]}'
    from selectolax.lexbor import LexborHTMLParser

    from callbacks.html_monitor.product import read_product

    found = read_product(
        LexborHTMLParser(product(spec)), price_selector=None, availability_selector=None
    )
    assert (found.price, found.currency) == (Decimal("12.5"), "EUR")


@pytest.mark.parametrize("price", ['"NaN"', '"Infinity"', "1e400", '"-Infinity"'])
def test_a_price_that_is_not_a_number_is_no_price(pages: PageServer, price: str) -> None:
    run = fire(
        pages,
        product('{"price": ' + price + ', "priceCurrency": "USD"}'),
        PRICE_BELOW_20,
        "text/html",
    )
    assert run.outcome == "error"
    assert run.summary.startswith("no price or availability found")


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,  # nested past the parser's recursion limit
        '{"n": ' + "9" * 5000 + "}",  # an integer over Python's 4300 digits
        '{"s": "\\ud800 lone"}',  # a lone surrogate
    ],
    ids=["deep", "huge-int", "surrogate"],
)
def test_a_json_document_python_cannot_hold_is_an_error_run(pages: PageServer, body: str) -> None:
    run = fire(pages, body, {}, "application/json")
    assert run.outcome in ("error", "ok"), run
    if run.outcome == "error":
        assert run.summary.startswith("the response is not JSON"), run.summary


@pytest.mark.parametrize(
    "body",
    ["[" * 5000 + "]" * 5000, '{"price": ' + "9" * 5000 + "}"],
    ids=["deep", "huge-int"],
)
def test_json_ld_python_cannot_hold_is_skipped(pages: PageServer, body: str) -> None:
    page = f'<script type="application/ld+json">{body}</script><p id="p">15 EUR</p>'
    run = fire(pages, page, {**PRICE_BELOW_20, "priceSelector": "#p"}, "text/html")
    assert (run.outcome, run.details["values"]["source"]) == ("ok", "selector")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Notify me when available", "OutOfStock"),
        ("Not in stock", "OutOfStock"),
        ("Available soon", "OutOfStock"),
        ("Currently unavailable", "OutOfStock"),
        ("In stock", "InStock"),
        ("Only 3 left in stock", "InStock"),
        ("Add to basket", "InStock"),
    ],
)
def test_availability_wordings(text: str, expected: str) -> None:
    assert availability_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20.00 15.00", Decimal("20.00")),  # a struck-out price and the new one: the first
        ("$.99", Decimal("0.99")),
        ("1 299,00 €", Decimal("1299.00")),
        ("Save 5, now 12", Decimal("5")),
        ("free", None),
        ("Infinity", None),
    ],
)
def test_price_texts(text: str, expected: Decimal | None) -> None:
    assert parse_price(text) == expected


@pytest.mark.parametrize("field", ["blockText", "ignoreText", "triggerText"])
def test_each_pattern_keeps_its_own_backreferences(pages: PageServer, field: str) -> None:
    from callbacks.html_monitor.text_rules import Budget, first_match

    assert first_match(["aa"], ["(x)", r"(a)\1"], Budget(), field) == "aa"


def test_ignore_text_patterns_keep_their_own_backreferences() -> None:
    from callbacks.html_monitor.extract import extract_text

    assert extract_text("<p>aa</p><p>b</p>", ignore_text=["(x)", r"(a)\1"]) == "b"


def test_include_selectors_on_a_json_response_are_an_error(pages: PageServer) -> None:
    run = fire(pages, json.dumps({"a": 1}), {"include": ["#nothing"]}, "application/json")
    assert (run.outcome, run.summary) == (
        "error",
        "include and exclude select from HTML; the response is JSON",
    )


@pytest.mark.parametrize("path", ["$[?match(@, '[')]", '$[?search(@.a, "(unclosed")]'])
def test_a_jsonpath_regex_that_does_not_compile_is_refused_at_put(path: str) -> None:
    with pytest.raises(ValueError, match="not an RFC 9535 JSONPath query"):
        check_json_path(path)


def test_a_jq_program_that_takes_too_much_memory_fails_the_check() -> None:
    with pytest.raises(FilterError, match="memory"):
        filtered_text(b'{"a": 1}', jq=['"x" * 700000000'])  # one allocation past it
