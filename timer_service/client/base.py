"""What the sync and async clients share: how they are set up (URL, auth, retries, timeouts)
and how a call's answer becomes a result or a typed error."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

import httpx

from timer_service import __version__
from timer_service.client.auth import ApiKeyAuth, SigV4Auth
from timer_service.client.calls import Call
from timer_service.client.deployment import Deployment, region_of_url
from timer_service.client.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    ClientConfigError,
    UnexpectedResponseError,
    api_error,
)
from timer_service.client.retry import RetryPolicy, retry_after_seconds

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MAX_RESPONSE_BYTES",
    "AuthChoice",
    "ClientOptions",
    "is_loopback_host",
    "keep_chunk",
    "resolve_auth",
    "stack_target",
    "wait_after_error",
    "wait_after_status",
]

DEFAULT_TIMEOUT_S = 30.0  # API Gateway gives a request 29 s
#: The most of an answer the client reads (decoded): API Gateway answers at most 10 MB.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
USER_AGENT = f"timer-service-client/{__version__} httpx/{httpx.__version__}"
AuthChoice: TypeAlias = httpx.Auth | Literal["auto", "sigv4", "none"]


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a URL's) is this machine: 127.0.0.0/8, ::1 or ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name
        return False


def resolve_auth(
    url: httpx.URL, auth: AuthChoice, *, api_key: str | None, region: str | None
) -> httpx.Auth | None:
    """The auth a client sends with: given; ``auto``: the API key when there is one, none on a
    loopback address (a local stack), else SigV4; ``sigv4``; ``none``."""
    if isinstance(auth, httpx.Auth):
        return auth
    if auth == "none":
        return None
    if api_key is not None and auth == "auto":
        return ApiKeyAuth(api_key)
    if auth == "sigv4" or not is_loopback_host(url.host):
        from timer_service.settings import DEFAULT_REGION, Settings

        found = region or region_of_url(url) or Settings.region_from_env() or DEFAULT_REGION
        return SigV4Auth(region=found)
    return None


def stack_target(deployment: Deployment, *, api_key: str | None) -> tuple[str, httpx.Auth]:
    """A deployed stack's API URL and how to call it: with ``api_key``, else SigV4 in the
    region of its URL (else of the stack)."""
    url = deployment.output("ApiUrl")
    if api_key is not None:
        return url, ApiKeyAuth(api_key)
    return url, SigV4Auth(region=region_of_url(url) or deployment.region)


class ClientOptions:
    """A client's settings, as its constructor takes them."""

    def __init__(
        self,
        url: str | httpx.URL,
        *,
        auth: AuthChoice = "auto",
        api_key: str | None = None,
        region: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        max_attempts: int | None = None,
        headers: Mapping[str, str] | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        self.url = httpx.URL(str(url))
        if self.url.scheme not in ("http", "https") or not self.url.host:
            raise ValueError(f"the API URL must be http(s)://host/...: {str(url)!r}")
        if self.url.userinfo:  # httpx would send it as Basic auth, and it shows in logs
            raise ClientConfigError("the API URL must not hold user:password@")
        self.auth = resolve_auth(self.url, auth, api_key=api_key, region=region)
        sends_credentials = self.auth is not None or api_key is not None
        if sends_credentials and self.url.scheme == "http" and not is_loopback_host(self.url.host):
            # Over plain http a key or a signature's session token is anyone's on the way.
            raise ClientConfigError(f"https required to send credentials to {self.url.host}")
        self.timeout = timeout
        retry = retry or RetryPolicy()
        if max_attempts is not None:
            retry = RetryPolicy(
                max_attempts=max_attempts,
                backoff_s=retry.backoff_s,
                max_backoff_s=retry.max_backoff_s,
                max_retry_after_s=retry.max_retry_after_s,
            )
        self.retry = retry
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        if api_key is not None and not isinstance(self.auth, ApiKeyAuth):
            self.headers["X-Api-Key"] = api_key  # with SigV4 too: an IAM stack's usage plan
        self.limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=100)

    def http_options(self) -> dict[str, Any]:
        """What httpx.Client / AsyncClient take."""
        return {
            "base_url": self.url,
            "auth": self.auth,
            "timeout": self.timeout,
            "headers": self.headers,
            "limits": self.limits,
        }


def wait_after_status(
    call: Call[Any], response: httpx.Response, retry: RetryPolicy, attempt: int
) -> float:
    """The wait before trying ``call`` again after its ``attempt``-th try got an error answer;
    raises the answer's typed error when it is not tried again."""
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    wait = retry.after_status(
        attempt, response.status_code, retry_after, idempotent=call.idempotent
    )
    if wait is None:
        raise api_error(response, retry_after_s=retry_after)
    return wait


def wait_after_error(
    call: Call[Any], error: httpx.TransportError, retry: RetryPolicy, attempt: int
) -> float:
    """The wait before trying ``call`` again after its ``attempt``-th try got no answer; raises
    the client's error for it when it is not tried again."""
    wait = retry.after_error(attempt, error, idempotent=call.idempotent)
    if wait is not None:
        return wait
    where = f"{call.method} {call.path}"
    if isinstance(error, httpx.TimeoutException):
        raise ApiTimeoutError(f"{where}: no answer in time ({type(error).__name__})") from error
    raise ApiConnectionError(
        f"{where}: cannot reach the API: {error or type(error).__name__}"
    ) from error


def keep_chunk(response: httpx.Response, kept: list[bytes], chunk: bytes) -> None:
    """Add ``chunk`` of ``response``'s body to ``kept``; refuse a body over the limit, read as
    it comes so a huge one never sits in memory."""
    kept.append(chunk)
    if sum(map(len, kept)) > MAX_RESPONSE_BYTES:
        raise UnexpectedResponseError(
            f"{response.request.method} {response.request.url.path} answered"
            f" {response.status_code} with a body larger than {MAX_RESPONSE_BYTES} bytes"
        )
