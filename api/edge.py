"""What the API checks of a request before routing: its body (size, UTF-8, base64, RFC 8259
JSON), the id in its path, and its content type (JSON, whatever the client said)."""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

from aws_lambda_powertools.event_handler import content_types

from timer_service.errors import InvalidRequestError, MalformedBodyError, PayloadTooLargeError
from timer_service.models import TIMER_ID_RULE, is_timer_id

__all__ = ["check_body", "check_path_id", "strict_json", "treat_body_as_json"]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is beyond the range of a number (a 64-bit float)")
    return value


def strict_json(text: str | bytes) -> Any:
    """The body as a JSON object (or null), RFC 8259 only. Python's parser also takes NaN and
    Infinity (stored as null: silently not what was sent), turns 1e400 into infinity, raises
    RecursionError on deep nesting and ValueError on an integer of over 4,300 digits: each is a
    ``json_invalid`` 400 with the reason. Any other JSON value is a 400 naming ``body``."""
    doc = text if isinstance(text, str) else text.decode("utf-8")
    try:
        value = json.loads(doc, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # ours, or an integer over Python's 4,300 digits
        raise json.JSONDecodeError(str(exc).split(";")[0], doc, 0) from exc
    except RecursionError as exc:
        raise json.JSONDecodeError("nested too deeply", doc, 0) from exc
    if value is not None and not isinstance(value, dict):
        # Every body this API takes is an object; and powertools validates a JSON array's first
        # element as the model: `[{}]` would create a timer, `[{}]` on redrive redrive them all.
        raise InvalidRequestError(
            'the body must be a JSON object, e.g. {"schedule": "rate(5 minutes)"}',
            field="body",
        )
    return value


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (ValueError, TypeError) as exc:
            raise InvalidRequestError("the body is not valid base64", field="body") from exc
    return body.encode("utf-8", errors="surrogatepass")


def check_body(event: dict[str, Any], limit: int) -> None:
    """Refuse a body over the limit, or one that is not UTF-8 (JSON is), before anything
    reads it (``limit`` bytes); API Gateway hands binary bodies over base64-encoded."""
    raw = _raw_body(event)
    if len(raw) > limit:
        raise PayloadTooLargeError(f"the body is {len(raw)} bytes; at most {limit}", field="body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"the body is not UTF-8 (byte {exc.start}): send JSON", field="body"
        ) from exc
    if event.get("isBase64Encoded"):
        event["body"], event["isBase64Encoded"] = text, False
    if _PING_PATH.fullmatch(event.get("path") or ""):  # its body is not read: any text
        event["body"] = None
        return
    if text:  # every route, those that read no body too: a body is a JSON object (or null)
        try:
            strict_json(text)
        except json.JSONDecodeError as exc:
            raise MalformedBodyError(f"the body is not valid JSON: {exc}", field="body") from exc


_TIMER_PATH = re.compile(r"/periodic/(?P<id>[^/]*)(?:/.*)?", re.DOTALL)
_PING_PATH = re.compile(r"/ping/[^/]+")


def check_path_id(event: dict[str, Any]) -> None:
    """Refuse a path whose id segment is not an id, before the router sees it: its patterns end
    in ``$``, which matches before a trailing newline (``/periodic/%0A`` was the list), and it
    drops trailing slashes (``/periodic//``, an empty id, was the list too)."""
    path = event.get("path") or ""
    match = _TIMER_PATH.fullmatch(path)
    if match is None or path == "/periodic/":  # the collection, with a trailing slash
        return
    if not is_timer_id(match["id"]):
        raise InvalidRequestError(f"id: must be {TIMER_ID_RULE}", field="id")


def treat_body_as_json(event: dict[str, Any]) -> None:
    """The API takes JSON bodies only; ``curl -d`` without a Content-Type still means JSON."""
    if not event.get("body"):
        return
    for headers in (event.get("headers") or {}, event.get("multiValueHeaders") or {}):
        for name in [name for name in headers if name.lower() == "content-type"]:
            del headers[name]
    event.setdefault("headers", {})
    if event["headers"] is None:
        event["headers"] = {}
    event["headers"]["Content-Type"] = content_types.APPLICATION_JSON
    if event.get("multiValueHeaders") is not None:
        event["multiValueHeaders"]["Content-Type"] = [content_types.APPLICATION_JSON]
