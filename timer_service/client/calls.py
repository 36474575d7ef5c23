"""Each API operation as a :class:`Call`: its request and how its answer is read. The sync and
async clients send the same calls; only their I/O differs."""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeAlias, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from timer_service.bulk_requests import BulkRequest, BulkResult
from timer_service.client.errors import BadRequestError, UnexpectedResponseError
from timer_service.dead_letters import DeadLetterPage, RedriveResult
from timer_service.feeds import FeedPage, FeedView
from timer_service.models import TIMER_ID_RULE, SchedulePreviewRequest, is_timer_id
from timer_service.runs import RunPage
from timer_service.views import SchedulePreview, TimerPage, TimerView, TriggerView

__all__ = ["Body", "Call", "Calls", "IfMatch", "PageTokens", "Params", "bulk_body"]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
IfMatch: TypeAlias = int | Literal["*"] | None
#: A request body: the server's model, or its JSON as a mapping (sent as it is: the API judges).
Body: TypeAlias = BaseModel | Mapping[str, Any]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the reading of its successful answer."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    idempotent: bool  # whether a try that may have been carried out can be made again
    params: dict[str, str | int | builtins.list[str]] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _model(kind: type[M]) -> Callable[[httpx.Response], M]:
    def read(response: httpx.Response) -> M:
        try:
            return kind.model_validate_json(response.content)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "body"
            raise UnexpectedResponseError(
                f"{response.request.method} {response.request.url.path} answered"
                f" {response.status_code}, but not with a {kind.__name__} ({where}: {first['msg']})"
            ) from exc

    return read


def _unexpected(response: httpx.Response, wanted: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"{response.request.method} {response.request.url.path} answered"
        f" {response.status_code}, but not with {wanted}"
    )


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise _unexpected(response, "JSON") from exc


def _object(response: httpx.Response) -> dict[str, Any]:
    found = _json(response)
    if not isinstance(found, dict):
        raise _unexpected(response, "a JSON object")
    return found


def _job_types(response: httpx.Response) -> list[dict[str, Any]]:
    found = _json(response)
    if not isinstance(found, list) or not all(
        isinstance(item, dict) and isinstance(item.get("name"), str) for item in found
    ):
        raise _unexpected(response, "a list of job types")
    return found


def _nothing(response: httpx.Response) -> None:
    return None


def _timer_path(timer_id: str, action: str = "") -> str:
    # Checked here: "", "." and ".." would reach another route (the list), not a 400.
    if not is_timer_id(timer_id):
        message = f"id: must be {TIMER_ID_RULE}"  # as the API words it (api/handler.py)
        raise BadRequestError(message, status=400, code="invalid_request", field="id")
    # Quoted: an id holding "/" or "?" must reach the API as one (refused) segment, never as
    # another route.
    return f"/periodic/{quote(timer_id, safe=':')}{action}"


def _body(value: Body | None) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, BaseModel):  # what the caller set; the API fills in the defaults
        return value.model_dump_json(by_alias=True, exclude_unset=True).encode()
    return json.dumps(dict(value), separators=(",", ":")).encode()


def _conditions(if_match: IfMatch = None, if_none_match: bool = False) -> dict[str, str]:
    headers = {}
    if if_match is not None:
        headers["If-Match"] = "*" if if_match == "*" else f'"{int(if_match)}"'  # an ETag
    if if_none_match:
        headers["If-None-Match"] = "*"
    return headers


Params: TypeAlias = dict[str, str | int | list[str]]


def _page(limit: int | None, next_token: str | None) -> Params | None:
    params: Params = {}
    if limit is not None:
        params["limit"] = limit
    if next_token is not None:
        params["nextToken"] = next_token
    return params or None


_JSON = {"Content-Type": "application/json"}


def bulk_body(
    action: str,
    *,
    selector: Mapping[str, str] | None = None,
    ids: Collection[str] | None = None,
    set_labels: Mapping[str, str] | None = None,
    remove_labels: Collection[str] | None = None,
    limit: int | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    """The body of ``POST /periodic/bulk`` from the fields given (the API judges them)."""
    fields: dict[str, Any] = {
        "selector": None if selector is None else dict(selector),
        "ids": None if ids is None else list(ids),
        "setLabels": None if not set_labels else dict(set_labels),
        "removeLabels": None if not remove_labels else list(remove_labels),
        "limit": limit,
        "nextToken": next_token,
    }
    return {"action": action} | {k: v for k, v in fields.items() if v is not None}


class Calls:
    """The API's operations (README "The API"), one builder each: a namespace."""

    @staticmethod
    def put(
        timer_id: str, spec: Body, *, if_match: IfMatch = None, if_none_match: bool = False
    ) -> Call[TimerView]:
        return Call(
            "PUT",
            _timer_path(timer_id),
            _model(TimerView),
            idempotent=True,
            content=_body(spec),
            headers=_JSON | _conditions(if_match, if_none_match),
        )

    @staticmethod
    def get(timer_id: str) -> Call[TimerView]:
        return Call("GET", _timer_path(timer_id), _model(TimerView), idempotent=True)

    @staticmethod
    def delete(timer_id: str, *, if_match: IfMatch = None) -> Call[None]:
        return Call(
            "DELETE",
            _timer_path(timer_id),
            _nothing,
            idempotent=True,
            headers=_conditions(if_match),
        )

    @staticmethod
    def list(
        limit: int | None = None,
        next_token: str | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        job_type: str | None = None,
        state: str | None = None,
    ) -> Call[TimerPage]:
        """A page of timers; with ``labels`` (every pair), ``job_type`` and ``state``, those
        that have them (a page may then be short, or empty, and still have a nextToken)."""
        params = _page(limit, next_token) or {}
        if labels:
            params["label"] = [f"{key}:{value}" for key, value in labels.items()]
        if job_type is not None:
            params["jobType"] = job_type
        if state is not None:
            params["state"] = state
        return Call("GET", "/periodic", _model(TimerPage), idempotent=True, params=params or None)

    @staticmethod
    def bulk(request: BulkRequest | Mapping[str, Any]) -> Call[BulkResult]:
        """One call of a bulk action: its next slice (send its ``nextToken`` back for more)."""
        action = request.action if isinstance(request, BulkRequest) else request.get("action")
        return Call(
            "POST",
            "/periodic/bulk",
            _model(BulkResult),
            idempotent=action != "trigger",  # a second try of a trigger fires them again
            content=_body(request),
            headers=dict(_JSON),
        )

    @staticmethod
    def set_enabled(timer_id: str, *, enabled: bool, if_match: IfMatch = None) -> Call[TimerView]:
        # Setting a state: the same call twice leaves the timer as once does.
        action = "/resume" if enabled else "/pause"
        return Call(
            "POST",
            _timer_path(timer_id, action),
            _model(TimerView),
            idempotent=True,
            headers=_conditions(if_match),
        )

    @staticmethod
    def trigger(timer_id: str) -> Call[TriggerView]:
        # Not idempotent: a second try in another second is a second firing.
        return Call(
            "POST", _timer_path(timer_id, "/trigger"), _model(TriggerView), idempotent=False
        )

    @staticmethod
    def runs(
        timer_id: str, limit: int | None = None, next_token: str | None = None
    ) -> Call[RunPage]:
        return Call(
            "GET",
            _timer_path(timer_id, "/runs"),
            _model(RunPage),
            idempotent=True,
            params=_page(limit, next_token),
        )

    # A feed's URL (its token) is in the answer that made it only. Made again, a feed has a
    # new URL and the last ends: a second try of a lost answer leaves one URL, the one answered.

    @staticmethod
    def open_feed(timer_id: str) -> Call[FeedView]:
        return Call("POST", _timer_path(timer_id, "/feed"), _model(FeedView), idempotent=True)

    @staticmethod
    def revoke_feed(timer_id: str) -> Call[None]:
        return Call("DELETE", _timer_path(timer_id, "/feed"), _nothing, idempotent=True)

    @staticmethod
    def open_label_feed(label: str) -> Call[FeedView]:
        return Call(
            "POST",
            "/feeds",
            _model(FeedView),
            idempotent=True,
            content=_body({"label": label}),
            headers=dict(_JSON),
        )

    @staticmethod
    def revoke_label_feed(label: str) -> Call[None]:
        return Call("DELETE", "/feeds", _nothing, idempotent=True, params={"label": label})

    @staticmethod
    def feeds() -> Call[FeedPage]:
        return Call("GET", "/feeds", _model(FeedPage), idempotent=True)

    @staticmethod
    def preview(request: SchedulePreviewRequest | Mapping[str, Any]) -> Call[SchedulePreview]:
        return Call(
            "POST",
            "/schedules/preview",
            _model(SchedulePreview),
            idempotent=True,  # reads nothing, writes nothing
            content=_body(request),
            headers=dict(_JSON),
        )

    @staticmethod
    def job_types() -> Call[builtins.list[dict[str, Any]]]:
        return Call("GET", "/job-types", _job_types, idempotent=True)

    @staticmethod
    def dead_letters(
        limit: int | None = None, next_token: str | None = None
    ) -> Call[DeadLetterPage]:
        return Call(
            "GET", "/dlq", _model(DeadLetterPage), idempotent=True, params=_page(limit, next_token)
        )

    @staticmethod
    def redrive(firing_ids: Collection[str] | None = None) -> Call[RedriveResult]:
        body = None if firing_ids is None else {"firingIds": sorted(firing_ids)}
        return Call(
            "POST",
            "/dlq/redrive",
            _model(RedriveResult),
            idempotent=False,  # letters dead-lettered meanwhile would go too
            content=_body(body),
            headers=dict(_JSON) if body is not None else {},
        )

    @staticmethod
    def health() -> Call[dict[str, Any]]:
        return Call("GET", "/health", _object, idempotent=True)


class PageTokens:
    """The tokens a paging has followed: a server that hands one out again would loop it."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def follow(self, token: str | None) -> str | None:
        """``token``, once; raises the second time."""
        if token is not None:
            if token in self._seen:
                raise UnexpectedResponseError(f"the API gave the page token {token!r} again")
            self._seen.add(token)
        return token
