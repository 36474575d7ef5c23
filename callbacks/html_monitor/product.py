"""A product page's price and availability, and the conditions a price watch checks.

Read from the page's schema.org data where it has it (JSON-LD ``Product``/``Offer``, then
microdata ``itemprop``), else from ``priceSelector``/``availabilitySelector``. Availability
is a schema.org ``ItemAvailability`` name (``InStock``, ``OutOfStock``, ``PreOrder``, ...);
from a selector's text it is guessed from common wordings ("in stock", "sold out").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from selectolax.lexbor import LexborHTMLParser

__all__ = ["Product", "availability_name", "parse_price", "read_product"]

AVAILABILITY = {
    name.lower(): name
    for name in (
        "BackOrder",
        "Discontinued",
        "InStock",
        "InStoreOnly",
        "LimitedAvailability",
        "MadeToOrder",
        "OnlineOnly",
        "OutOfStock",
        "PreOrder",
        "PreSale",
        "Reserved",
        "SoldOut",
    )
}
# Wordings on a page, the negative ones first: "notify me when available" is not in stock.
_OUT = re.compile(
    r"out of stock|sold out|unavailable|not (?:yet )?(?:available|in stock)|no longer available"
    r"|notify me|coming soon|available soon|back[- ]?order",
    re.I,
)
_PRE = re.compile(r"pre-?order", re.I)
_IN = re.compile(r"in stock|available|add to (cart|basket|bag)|buy now", re.I)
# The first number: digit groups of three after a separator ("1 299,00", "1.234.567,89"), a
# plain number ("19.99", "12,5"), or a bare fraction ("$.99").
_NUMBER = re.compile(
    r"(?<![\d.,])(?:\d{1,3}(?:[ \u00a0\u202f'.,]\d{3})+(?:[.,]\d{1,2})?(?!\d)"
    r"|\d+(?:[.,]\d+)?|[.,]\d+)"
)
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
MAX_JSON_LD_BYTES = 1_000_000


@dataclass(frozen=True)
class Product:
    price: Decimal | None
    currency: str | None
    availability: str | None
    source: str  # "json-ld", "microdata", "selector" or "none"

    def values(self) -> dict[str, Any]:
        """As recorded in the run history (the price as a number)."""
        return {
            "price": float(self.price) if self.price is not None else None,
            "currency": self.currency,
            "availability": self.availability,
            "source": self.source,
        }

    def text(self) -> str:
        """The compared text of a price watch."""
        price = f"{self.price} {self.currency or ''}".strip() if self.price is not None else "-"
        return f"price: {price}\navailability: {self.availability or '-'}"


def parse_price(text: str | None) -> Decimal | None:
    """A price from its text: ``"1.299,00 €"``, ``"$1,299.00"``, ``"19.99"``, ``"1 299"``."""
    if not text:
        return None
    match = _NUMBER.search(str(text))
    if match is None:
        return None
    digits = re.sub(r"[\s\u00a0\u202f']", "", match.group(0))
    if digits[0] in ".,":
        digits = "0" + digits
    comma, dot = digits.rfind(","), digits.rfind(".")
    if comma >= 0 and dot >= 0:
        decimal_mark = "," if comma > dot else "."
    elif comma >= 0 or dot >= 0:  # one kind: a decimal mark unless 3 digits follow it
        mark = "," if comma >= 0 else "."
        last = max(comma, dot)
        decimal_mark = mark if digits.count(mark) == 1 and len(digits) - last - 1 != 3 else ""
    else:
        decimal_mark = ""
    thousands = {",", "."} - {decimal_mark}
    cleaned = "".join(ch for ch in digits if ch not in thousands)
    if decimal_mark:
        cleaned = cleaned.replace(decimal_mark, ".")
    try:
        return _finite(Decimal(cleaned))
    except InvalidOperation:
        return None


def _finite(price: Decimal) -> Decimal | None:
    return price if price.is_finite() else None


def availability_name(value: str | None) -> str | None:
    """A schema.org availability name from a URL (``https://schema.org/InStock``), a bare
    name, or a wording on the page."""
    if not value:
        return None
    tail = str(value).strip().rstrip("/").rsplit("/", 1)[-1]
    if tail.lower() in AVAILABILITY:
        return AVAILABILITY[tail.lower()]
    if _OUT.search(value):
        return "OutOfStock"
    if _PRE.search(value):
        return "PreOrder"
    if _IN.search(value):
        return "InStock"
    return None


def read_product(
    tree: LexborHTMLParser, *, price_selector: str | None, availability_selector: str | None
) -> Product:
    """The page's product values (``tree`` is parsed, before scripts are stripped)."""
    for reader in (_json_ld, _microdata):
        product = reader(tree)
        if product is not None and (product.price, product.availability) != (None, None):
            return product
    price_text = availability_text = None
    if price_selector and (node := tree.css_first(price_selector)) is not None:
        price_text = node.attributes.get("content") or node.text(deep=True)
    if availability_selector and (node := tree.css_first(availability_selector)) is not None:
        availability_text = node.attributes.get("content") or node.text(deep=True)
    if price_text is None and availability_text is None:
        return Product(None, None, None, "none")
    return Product(
        parse_price(price_text),
        _currency_of(price_text),
        availability_name(availability_text),
        "selector",
    )


def _currency_of(text: str | None) -> str | None:
    if not text:
        return None
    for symbol, code in _CURRENCY.items():
        if symbol in text:
            return code
    match = re.search(r"\b([A-Z]{3})\b", text)
    return match.group(1) if match else None


def _json_ld(tree: LexborHTMLParser) -> Product | None:
    for script in tree.css('script[type="application/ld+json"]'):
        source = script.text(deep=True)
        if len(source) > MAX_JSON_LD_BYTES:
            continue
        try:
            data = json.loads(source)
        except (ValueError, RecursionError):  # not JSON, or more than Python holds: skipped
            continue
        for item in _items(data):
            if _is_type(item, "Product"):
                offer = _first_offer(item.get("offers"))
                if offer is not None:
                    return _from_offer(offer, "json-ld")
    return None


def _items(data: Any, depth: int = 0) -> list[dict[str, Any]]:
    """JSON-LD nodes: a node, a list of them, an ``@graph``."""
    if depth > 5:
        return []
    if isinstance(data, list):
        return [node for entry in data for node in _items(entry, depth + 1)]
    if not isinstance(data, dict):
        return []
    return [data, *_items(data.get("@graph"), depth + 1)]


def _is_type(item: dict[str, Any], name: str) -> bool:
    types = item.get("@type")
    types = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.rsplit("/", 1)[-1] == name for t in types)


def _first_offer(offers: Any) -> dict[str, Any] | None:
    if isinstance(offers, list):
        offers = next((offer for offer in offers if isinstance(offer, dict)), None)
    if not isinstance(offers, dict):
        return None
    if _is_type(offers, "AggregateOffer") and isinstance(offers.get("offers"), list | dict):
        inner = _first_offer(offers["offers"])
        if inner is not None and (inner.get("price") is not None or "lowPrice" not in offers):
            return inner
    return offers


def _from_offer(offer: dict[str, Any], source: str) -> Product:
    price = offer.get("price", offer.get("lowPrice"))
    spec = offer.get("priceSpecification")
    if isinstance(spec, list):  # e.g. a unit price and a list price: the first
        spec = next((entry for entry in spec if isinstance(entry, dict)), None)
    if not isinstance(spec, dict):
        spec = None
    if price is None and spec is not None:
        price = spec.get("price")
    currency = offer.get("priceCurrency") or (spec or {}).get("priceCurrency")
    return Product(
        _schema_price(price),
        str(currency) if currency else None,
        availability_name(offer.get("availability")),
        source,
    )


def _schema_price(value: Any) -> Decimal | None:
    """schema.org writes prices with a full stop as the decimal mark ("1299.00")."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return _finite(Decimal(str(value).strip()))
    except InvalidOperation:
        return parse_price(str(value))


def _microdata(tree: LexborHTMLParser) -> Product | None:
    scope = tree.css_first('[itemtype$="schema.org/Product"], [itemtype$="schema.org/Product/"]')
    if scope is None:
        return None
    values: dict[str, str | None] = {}
    for name in ("price", "lowPrice", "priceCurrency", "availability"):
        node = scope.css_first(f'[itemprop="{name}"]')
        if node is not None:
            attributes = node.attributes
            values[name] = (
                attributes.get("content") or attributes.get("href") or node.text(deep=True)
            )
    if not values:
        return None
    return _from_offer({k: v for k, v in values.items() if v is not None}, "microdata")
