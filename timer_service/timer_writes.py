"""The rules of the service's writes that are not the use cases themselves: a write without a
version that loses a race is applied again, the id and heartbeat checks, what a put and a
trigger answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias, TypeVar

from timer_service.errors import InvalidRequestError, VersionConflictError
from timer_service.models import TIMER_ID_RULE, Timer, TimerSpec, is_timer_id
from timer_service.views import TimerView

__all__ = [
    "IfMatch",
    "PutResult",
    "TriggerResult",
    "again_if_raced",
    "check_timer_id",
    "no_schedule_fields",
    "only_labels_differ",
]

#: An If-Match precondition: a version, ``"*"`` (the timer exists) or none.
IfMatch: TypeAlias = int | Literal["*"] | None
_UNCONDITIONAL_ATTEMPTS = 3  # a write without a version that loses a race is applied again
_T = TypeVar("_T")


def again_if_raced(conditional: bool, attempt: Callable[[], _T]) -> _T:
    """``attempt()``; when it loses a race with another write of the same timer and the caller
    gave no version to hold it to, once more over that write (last writer wins)."""
    for tries in range(1, _UNCONDITIONAL_ATTEMPTS + 1):
        try:
            return attempt()
        except VersionConflictError:
            if conditional or tries == _UNCONDITIONAL_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def check_timer_id(timer_id: str) -> str:
    if not is_timer_id(timer_id):
        raise InvalidRequestError(f"id must be {TIMER_ID_RULE}", field="id")
    return timer_id


@dataclass(frozen=True)
class PutResult:
    view: TimerView
    created: bool
    ping_token: str | None = None  # a heartbeat's new ping token: shown this once


@dataclass(frozen=True)
class TriggerResult:
    id: str
    firing_id: str
    scheduled_at: str


def no_schedule_fields(spec: TimerSpec) -> None:
    """InvalidRequestError naming a schedule field given with ``heartbeat``; the run-limit and
    jitter fields at their defaults (what GET shows for a heartbeat) are taken."""
    defaults = {"jitter_seconds": 0, "max_firings": None, "on_complete": "keep"}
    for name, alias in (
        ("schedule", "schedule"),
        ("start_at", "startAt"),
        ("end_at", "endAt"),
        ("jitter_seconds", "jitterSeconds"),
        ("max_firings", "maxFirings"),
        ("on_complete", "onComplete"),
    ):
        at_default = name in defaults and getattr(spec, name) == defaults[name]
        if name in spec.model_fields_set and not at_default:
            raise InvalidRequestError(
                f"{alias}: a heartbeat timer has no schedule: it fires when a ping is late",
                field=alias,
            )


def only_labels_differ(timer: Timer, previous: Timer) -> bool:
    """Whether writing ``timer`` over ``previous`` changes nothing but its labels (or
    nothing): then its firings are left as they are."""
    same = {
        "labels": previous.labels,
        "version": previous.version,
        "schedule_version": previous.schedule_version,
        "prior_version": previous.prior_version,
        "prior_until_s": previous.prior_until_s,
        "updated_s": previous.updated_s,
    }
    return timer.model_copy(update=same) == previous
