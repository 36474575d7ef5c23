"""A deployed stack as the command line sees it: its outputs, and SigV4-signed API calls.

``timer-service ... --stack NAME`` reads the stack's CloudFormation outputs (``ApiUrl``,
``TableName``, ``QueueUrl``, ``DlqUrl``, ``OutputQueueUrl``) with the usual AWS credentials
and region (environment, profile, SSO...), as the client does
(:class:`timer_service.client.Deployment`), and signs with the client's auth.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urljoin

import httpx

from timer_service.client.auth import ApiKeyAuth, SigV4Auth
from timer_service.client.deployment import Deployment, region_of_url
from timer_service.client.errors import DeploymentError

__all__ = [
    "Deployment",
    "DeploymentError",
    "api_region",
    "call_auth",
    "join_url",
    "parse_body",
    "signed_call",
]


def api_region(url: str, default: str) -> str:
    """The region in an execute-api URL's host, else ``default``."""
    return region_of_url(url) or default


def join_url(base_url: str, path: str) -> str:
    """``path`` (with its query) under the API's base URL, stage included."""
    return urljoin(base_url if base_url.endswith("/") else base_url + "/", path.lstrip("/"))


def call_auth(region: str, api_key: str | None) -> httpx.Auth:
    """With ``api_key``, that key alone (a stack deployed with API keys takes no signature);
    else SigV4 (service ``execute-api``) from the usual credentials."""
    return ApiKeyAuth(api_key) if api_key is not None else SigV4Auth(region=region)


def signed_call(
    method: str,
    base_url: str,
    path: str,
    *,
    body: str | None = None,
    region: str,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
    http: httpx.Client | None = None,
) -> httpx.Response:
    """Call the API as it is, once, signed (:func:`call_auth`); ``headers`` are sent (and
    signed) too, e.g. ``If-Match``; ``http``: a client to send with (its pool), else a new one."""
    url = join_url(base_url, path)
    headers = dict(headers or {})
    if body is not None:
        headers["Content-Type"] = "application/json"
    content = body.encode() if body is not None else None
    auth = call_auth(region, api_key)
    if http is not None:
        return http.request(method.upper(), url, content=content, headers=headers, auth=auth)
    with httpx.Client(timeout=timeout_s) as client:
        return client.request(method.upper(), url, content=content, headers=headers, auth=auth)


def parse_body(text: str | None) -> str | None:
    """A request body from the command line: JSON text, ``@file`` or None; checked as JSON."""
    if text is None:
        return None
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as handle:
            text = handle.read()
    json.loads(text)  # a mistake is the caller's to see before anything is sent
    return text
