"""The browser function's protocol: a render asked of it by Lambda ``Invoke``, and its answer.

Request ``{"url", "headers", "timeoutSeconds", "maxBytes"}``; answer ``{"status", "url",
"headers", "bodyGzipBase64"}`` or ``{"error": {"code", "message"}}`` (the code of the
:mod:`timer_service.egress` error it was, so the callback raises the same kind). The body is
gzipped: a synchronous invoke's answer is at most 6 MB, and a page of 10 MiB of HTML fits.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from callbacks.html_monitor.rendered import BrowserError, Rendered
from timer_service.egress import (
    BlockedTargetError,
    EgressError,
    EgressTimeout,
    ResponseTooLarge,
    TooManyRedirects,
    TransportFailure,
)

__all__ = ["answer", "failure", "invoke", "lambda_client", "request_payload"]

MAX_ANSWER_BYTES = 6 * 1024 * 1024 - 64 * 1024  # Lambda's limit of a synchronous answer, less room
INVOKE_GRACE_S = 30  # the function's cold start (unpacking Chromium) on top of the page's time
_ERRORS: dict[str, type[EgressError]] = {
    cls.code: cls
    for cls in (
        BlockedTargetError,
        EgressTimeout,
        ResponseTooLarge,
        TooManyRedirects,
        TransportFailure,
        BrowserError,
    )
}


def lambda_client() -> Any:
    """The callback's Lambda client, to the settings' region and endpoint (as its other clients)."""
    from timer_service.settings import Settings

    settings = Settings.from_env()
    return _client(settings.region, settings.endpoint_url)


@cache
def _client(region: str, endpoint_url: str | None) -> Any:
    """One try (a render is not worth two), a read as long as the function may run."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "lambda",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(read_timeout=60 + INVOKE_GRACE_S, retries={"total_max_attempts": 1}),
    )


def request_payload(
    url: str, *, headers: Mapping[str, str], timeout_s: float, max_bytes: int
) -> dict[str, Any]:
    return {
        "url": url,
        "headers": dict(headers),
        "timeoutSeconds": timeout_s,
        "maxBytes": max_bytes,
    }


def invoke(
    function: str,
    *,
    url: str,
    headers: Mapping[str, str],
    timeout_s: float,
    max_bytes: int,
    client: Any = None,
) -> Rendered:
    """Render ``url`` in the browser function; its failure raised as the error it was."""
    from botocore.exceptions import BotoCoreError, ClientError

    payload = request_payload(url, headers=headers, timeout_s=timeout_s, max_bytes=max_bytes)
    try:
        response = (client or lambda_client()).invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        body = json.loads(response["Payload"].read() or b"null")
    except (BotoCoreError, ClientError, ValueError) as exc:
        raise BrowserError(f"the browser function {function} could not be called: {exc}") from exc
    if response.get("FunctionError"):
        message = body.get("errorMessage") if isinstance(body, dict) else None
        raise BrowserError(f"the browser function failed: {message or response['FunctionError']}")
    return parse_answer(body)


def parse_answer(body: Any) -> Rendered:
    """The :class:`Rendered` of an answer, or its error raised."""
    if not isinstance(body, dict):
        raise BrowserError("the browser function's answer is not an object")
    if "error" in body:
        error = body["error"]
        kind = _ERRORS.get(str(error.get("code")), BrowserError)
        raise kind(str(error.get("message", "the browser function failed")))
    try:
        return Rendered(
            status=int(body["status"]),
            url=str(body["url"]),
            headers={str(k).lower(): str(v) for k, v in body["headers"].items()},
            body=gzip.decompress(base64.b64decode(body["bodyGzipBase64"])),
        )
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise BrowserError(f"the browser function's answer is malformed: {exc!r}") from exc


def answer(rendered: Rendered) -> dict[str, Any]:
    """The browser function's answer for a page (an error when it is too large to send)."""
    packed = base64.b64encode(gzip.compress(rendered.body, compresslevel=6)).decode()
    if len(packed) > MAX_ANSWER_BYTES:
        return failure(
            ResponseTooLarge(f"the rendered page is too large to send back ({len(packed)} bytes)")
        )
    return {
        "status": rendered.status,
        "url": rendered.url,
        "headers": rendered.headers,
        "bodyGzipBase64": packed,
    }


def failure(exc: EgressError) -> dict[str, Any]:
    """The answer for a failed render: the error's code (RenderTimeout's is EgressTimeout's)."""
    return {"error": {"code": exc.code, "message": exc.message}}
