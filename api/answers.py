"""The API's answers: its one error shape, each domain error's HTTP status (here and nowhere
else), a timer's answer with its ETag, and the conditional-request headers it reads."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from timer_service.dispatch import DispatchError
from timer_service.errors import (
    FeedNotFoundError,
    FiringBurstExceededError,
    FiringRateExceededError,
    InvalidRequestError,
    PayloadTooLargeError,
    PingTokenNotFoundError,
    QuotaExceededError,
    SigningSecretConflictError,
    SigningSecretNotFoundError,
    StoreError,
    TimerNotFoundError,
    TimerServiceError,
    UnauthorizedError,
    VersionConflictError,
)
from timer_service.models import TIMER_ID_RULE
from timer_service.service import IfMatch
from timer_service.views import TimerView

__all__ = [
    "edge_error",
    "error_body",
    "error_response",
    "if_match",
    "if_none_match",
    "no_route_answer",
    "status_of",
    "timer_response",
    "validation_answer",
]

_STATUS: list[tuple[type[TimerServiceError], int]] = [
    (PayloadTooLargeError, 413),
    (QuotaExceededError, 403),
    (FiringRateExceededError, 400),  # not a throttle: retrying would not help
    (FiringBurstExceededError, 429),  # a throttle: Retry-After says when
    (InvalidRequestError, 400),
    (UnauthorizedError, 401),
    (TimerNotFoundError, 404),
    (PingTokenNotFoundError, 404),
    (FeedNotFoundError, 404),
    (SigningSecretNotFoundError, 404),
    (SigningSecretConflictError, 409),
    (VersionConflictError, 412),
    (StoreError, 503),
    (DispatchError, 503),
]


def status_of(exc: TimerServiceError, *, default: int) -> int:
    """The HTTP status of a domain error (the first kind it is in ``_STATUS``)."""
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), default)


def timer_response(view: TimerView, status: int) -> Response[TimerView]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=view.model_dump(mode="json", by_alias=True),
        headers={"ETag": f'"{view.version}"'},
    )


def error_body(code: str, message: str, field: str | None) -> dict[str, Any]:
    """The API's one error shape."""
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(status: int, code: str, message: str, field: str | None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, field),
    )


def edge_error(exc: TimerServiceError) -> dict[str, Any]:
    """An error answered before routing, in the API's one error shape."""
    status = status_of(exc, default=400)
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(error_body(exc.code, exc.message, exc.field)),
        "isBase64Encoded": False,
    }


_IF_MATCH_RE = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def if_match(raw: str | None) -> IfMatch:
    """The ``If-Match`` header as a version, ``*`` or None; anything else is a 400."""
    if raw is None:
        return None
    if raw.strip() == "*":
        return "*"
    match = _IF_MATCH_RE.match(raw)
    if match is None:
        raise InvalidRequestError(
            'If-Match must be a timer version (e.g. 3, or "3" as in ETag) or *', field="If-Match"
        )
    return int(match.group(1))


def if_none_match(raw: str | None) -> bool:
    """The ``If-None-Match`` header: ``*`` (create only), or absent; anything else is a 400."""
    if raw is None:
        return False
    if raw.strip() != "*":
        raise InvalidRequestError(
            "If-None-Match takes only * (create the timer, never replace it)",
            field="If-None-Match",
        )
    return True


def validation_answer(errors: Sequence[Any]) -> Response[Any]:
    """A request the models refused: a 400 naming the first field (``malformed_json`` for a
    body that is not JSON)."""
    first = dict(errors[0])
    # A refused key of a map (a label's) is named as the map's entry: labels.Team, not .[key].
    location = [str(part) for part in first.get("loc", ()) if part != "[key]"]
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error")
        message = "the body is not valid JSON" + (f": {reason}" if reason else "")
        return error_response(400, "malformed_json", message, "body")
    source = location[0] if location else "body"
    if first.get("type") == "recursion_depth_exceeded":  # the path would be hundreds deep
        location, first = location[:2], {"msg": "nested too deeply"}
    field = ".".join(location[1:]) or source
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        message = "unknown field"
    elif first.get("type") == "missing" and source == "body" and len(location) == 1:
        message = "a JSON object body is required"
    return error_response(400, "validation_error", f"{field}: {message}", field)


_TOKEN_ROUTES = (("/feeds/", FeedNotFoundError()), ("/ping/", PingTokenNotFoundError()))


def no_route_answer(method: str, path: str, allowed: Collection[str]) -> Response[Any]:
    """A request no route took: 404 for an unknown path, the ``Allow`` list for ``OPTIONS`` or
    another method (405), a 400 for a route whose parameter did not match (a bad id)."""
    if not allowed:
        return error_response(404, "no_route", f"no route {method} {path}", None)
    allow = ", ".join(sorted(allowed))
    if method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow}, body="")
    if method in allowed:  # a route of this method, with a parameter it cannot match
        for prefix, error in _TOKEN_ROUTES:  # a token no route can match is no one's token
            if path.startswith(prefix) and path.count("/") == 2:
                return error_response(404, error.code, error.message, error.field)
        return error_response(400, "validation_error", f"id: must be {TIMER_ID_RULE}", "id")
    response = error_response(405, "method_not_allowed", f"{method} {path}: use {allow}", None)
    response.headers["Allow"] = allow
    return response
