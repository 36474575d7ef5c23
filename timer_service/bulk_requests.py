"""A bulk action's request and answer (``POST /periodic/bulk``), as the API validates and the
client sends and reads them; what a call does is :mod:`timer_service.bulk`'s."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictInt, StrictStr
from pydantic.alias_generators import to_camel

from timer_service.camel import CamelModel
from timer_service.labels import LABEL_KEY_PATTERN, LabelMap
from timer_service.models import TIMER_ID_PATTERN, TIMER_TOKEN_PATTERN

__all__ = [
    "BULK_TIME_BUDGET_S",
    "DEFAULT_BULK_LIMIT",
    "MAX_BULK_IDS",
    "MAX_BULK_LIMIT",
    "BulkAction",
    "BulkFailure",
    "BulkRequest",
    "BulkResult",
]

DEFAULT_BULK_LIMIT = 100
MAX_BULK_LIMIT = 200
MAX_BULK_IDS = 1000
BULK_TIME_BUDGET_S = 20.0  # a call stops acting after this long: API Gateway cuts at 29 s

BulkAction = Literal["pause", "resume", "trigger", "delete", "relabel"]


class BulkRequest(CamelModel):
    """The body of ``POST /periodic/bulk``: an action and its timers (``selector`` or ``ids``)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=False,
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"action": "pause", "selector": {"team": "payments"}},
                {"action": "relabel", "ids": ["a", "b"], "setLabels": {"tier": "gold"}},
            ]
        },
    )

    action: BulkAction
    selector: Annotated[
        LabelMap | None,
        Field(description="the timers with every one of these labels (at least one)"),
    ] = None
    ids: Annotated[
        list[Annotated[StrictStr, Field(pattern=TIMER_ID_PATTERN)]] | None,
        Field(min_length=1, max_length=MAX_BULK_IDS, description="the timers of these ids"),
    ] = None
    set_labels: Annotated[LabelMap, Field(description="relabel: labels to set")] = Field(
        default_factory=dict
    )
    remove_labels: Annotated[
        list[Annotated[StrictStr, Field(pattern=LABEL_KEY_PATTERN)]],
        Field(max_length=MAX_BULK_IDS, description="relabel: label keys to remove"),
    ] = Field(default_factory=list)
    limit: Annotated[
        StrictInt,
        Field(ge=1, le=MAX_BULK_LIMIT, description="timers this call acts on at most"),
    ] = DEFAULT_BULK_LIMIT
    next_token: Annotated[
        StrictStr | None,
        Field(pattern=TIMER_TOKEN_PATTERN, description="the last call's nextToken"),
    ] = None


class BulkFailure(CamelModel):
    id: str
    reason: str


class BulkResult(CamelModel):
    """What one call of a bulk action did; ``matched = changed + skipped + failed``."""

    action: BulkAction
    matched: int = Field(description="timers this call took up (ids: those it looked for)")
    changed: int = Field(description="timers it changed (trigger: fired)")
    skipped: int = Field(description="timers with nothing to do (already so, gone)")
    failed: int = Field(description="timers it could not change (see failures)")
    reasons: dict[str, int] = Field(description="skipped and failed timers, by reason")
    failures: list[BulkFailure] = Field(description="each failed timer, with its reason")
    next_token: str | None = Field(
        description="send it back for the next slice; null: the action is done"
    )

    @classmethod
    def total(cls, results: Sequence[BulkResult]) -> BulkResult:
        """What the calls of one action did together (their last token: null when done)."""
        if not results:
            raise ValueError("no calls to add up")
        reasons: Counter[str] = Counter()
        for result in results:
            reasons.update(result.reasons)
        return cls(
            action=results[0].action,
            matched=sum(r.matched for r in results),
            changed=sum(r.changed for r in results),
            skipped=sum(r.skipped for r in results),
            failed=sum(r.failed for r in results),
            reasons=dict(sorted(reasons.items())),
            failures=[f for r in results for f in r.failures],
            next_token=results[-1].next_token,
        )
