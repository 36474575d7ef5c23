"""The API Gateway REST proxy event the local gateway hands the API Lambda for one request."""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["STAGE", "build_event"]

STAGE = "local"

_ENCODED_SLASH = re.compile("%2F", re.IGNORECASE)


def build_event(
    *,
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
    owner: str | None,
    api_key_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event for one HTTP request."""
    parts = urlsplit(raw_path)
    # The handler gets the decoded path, but an encoded slash stays one: /periodic/a%2Fpause
    # names the id "a/pause" (refused), not the pause of "a".
    path = "%2F".join(unquote(piece) for piece in _ENCODED_SLASH.split(parts.path))
    query = parse_qs(parts.query, keep_blank_values=True)
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "resourcePath": path,
            # The stack is served at its root, as a stage behind a custom domain is: the path
            # has no /{stage} in front (so documents' server URLs are "/", not "/local").
            "path": path,
            "stage": STAGE,
            "httpMethod": method,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {
                "sourceIp": "127.0.0.1",
                "userArn": owner if api_key_id is None else None,
                "apiKeyId": api_key_id,
                "apiKey": None,
            },
        },
        "body": text if body else None,
        "isBase64Encoded": encoded,
    }
