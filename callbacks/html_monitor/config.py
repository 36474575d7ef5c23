"""What an ``html_monitor`` timer watches and whom it tells: its ``job`` object."""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from callbacks.html_monitor.extract import check_pattern, check_selector
from callbacks.html_monitor.json_filter import check_jq, check_json_path
from callbacks.html_monitor.notify import NotifyConfig
from callbacks.html_monitor.product import AVAILABILITY, Product
from callbacks.job_types.headers import HeaderName, HeaderValue

__all__ = ["Condition", "HtmlMonitorJob"]

Selector = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(check_selector)]
Selectors = Annotated[list[Selector], Field(max_length=20)]
Pattern = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(check_pattern)]
Patterns = Annotated[list[Pattern], Field(max_length=50)]
JsonPath = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(check_json_path)]
JqProgram = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(check_jq)]
Op = Literal["<", "<=", ">", ">=", "==", "!="]
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class Condition(BaseModel):
    """``{"field": "price", "op": "<", "value": 20}`` or
    ``{"field": "availability", "op": "==", "value": "InStock"}``."""

    model_config = ConfigDict(extra="forbid")

    field: Literal["price", "availability"]
    op: Op
    value: Annotated[float, Field(allow_inf_nan=False)] | Annotated[str, Field(max_length=40)]

    @model_validator(mode="after")
    def _check_value(self) -> Condition:
        if self.field == "price" and not isinstance(self.value, float | int):
            raise ValueError("a price condition compares with a number")
        if self.field == "availability":
            if self.op not in ("==", "!="):
                raise ValueError("an availability condition is '==' or '!='")
            name = AVAILABILITY.get(str(self.value).lower())
            if name is None:
                names = ", ".join(sorted(AVAILABILITY.values()))
                raise ValueError(f"availability is a schema.org name: one of {names}")
            self.value = name
        return self

    def describe(self) -> str:
        value = f"{self.value:g}" if isinstance(self.value, float) else self.value
        return f"{self.field} {self.op} {value}"

    def holds(self, product: Product) -> bool:
        if self.field == "price":
            return product.price is not None and _OPS[self.op](
                product.price, Decimal(str(self.value))
            )
        return product.availability is not None and _OPS[self.op](product.availability, self.value)


class HtmlMonitorJob(BaseModel):
    """What to watch and whom to tell."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    url: AnyHttpUrl
    fetcher: Literal["http", "browser"] = Field(
        "http", description="`browser`: render the page in headless Chromium first"
    )
    format: Literal["auto", "html", "json"] = Field(
        "auto", description="`auto`: JSON when the response says so or a JSON filter is set"
    )
    include: Selectors = Field(
        default_factory=list, description="CSS selectors of the parts to compare; default: body"
    )
    exclude: Selectors = Field(
        default_factory=list, description="CSS selectors removed before include applies"
    )
    json_path: Annotated[list[JsonPath], Field(max_length=20)] = Field(
        default_factory=list, description="RFC 9535 JSONPath queries of a JSON response"
    )
    jq: Annotated[list[JqProgram], Field(max_length=20)] = Field(
        default_factory=list, description="jq programs selecting from a JSON response"
    )
    ignore_text: Patterns = Field(
        default_factory=list, description="regular expressions: matching lines are ignored"
    )
    extract_text: Patterns = Field(
        default_factory=list, description="regular expressions: only their matches are compared"
    )
    block_text: Patterns = Field(
        default_factory=list, description="regular expressions: no change while one matches"
    )
    trigger_text: Patterns = Field(
        default_factory=list, description="regular expressions: notify only when one is added"
    )
    price_selector: Selector | None = None
    availability_selector: Selector | None = None
    conditions: Annotated[list[Condition], Field(max_length=10)] = Field(
        default_factory=list, description="notify when one turns true (a price watch)"
    )
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=32)
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 15.0
    max_bytes: Annotated[int, Field(ge=1024, le=10 * 1024 * 1024)] = 2 * 1024 * 1024
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    alert_after_failures: Annotated[int, Field(ge=1, le=100)] = 3

    @model_validator(mode="after")
    def _check_combination(self) -> HtmlMonitorJob:
        if self.format == "html" and (self.json_path or self.jq):
            raise ValueError("jsonPath and jq filter a JSON response: format 'html' has none")
        if self.format == "json" and (self.include or self.exclude):
            raise ValueError("include and exclude select from HTML: format 'json' has none")
        if self.conditions and (self.format == "json" or self.json_path or self.jq):
            raise ValueError("conditions read a product page (HTML), not a JSON response")
        if (self.price_selector or self.availability_selector) and not self.conditions:
            raise ValueError("priceSelector and availabilitySelector are read for conditions")
        return self

    @property
    def watches_product(self) -> bool:
        return bool(self.conditions)

    def fingerprint(self) -> str:
        """What decides the compared text: a new one starts a new baseline."""
        relevant: list[Any] = [str(self.url), self.include, self.exclude, self.ignore_text]
        more = {
            "format": self.format if self.format != "auto" else None,
            "jsonPath": self.json_path,
            "jq": self.jq,
            "extractText": self.extract_text,
            "priceSelector": self.price_selector,
            "availabilitySelector": self.availability_selector,
            "conditions": [c.model_dump() for c in self.conditions],
        }
        more = {key: value for key, value in more.items() if value}
        if more:  # timers without the newer fields keep the baselines they have
            relevant.append(more)
        return hashlib.sha256(json.dumps(relevant).encode()).hexdigest()[:32]
