"""What the timer service client raises: one root, the API's answers by status, and the rest.

TimerClientError                     anything the client raises on purpose; ``.message``
 ├── TimerServiceApiError            the API answered an error: ``.status .code .field .message``
 │    ├── BadRequestError            400: a mistake in the request; ``.field`` names it
 │    ├── AuthenticationError        401: no caller identity, or a wrong API key
 │    ├── PermissionDeniedError      403: refused (IAM), or the timer quota is reached
 │    ├── NotFoundError              404: no such timer (or no such route)
 │    ├── ConflictError              409
 │    ├── PreconditionFailedError    412: If-Match or If-None-Match did not hold
 │    ├── RequestTooLargeError       413: the body is over the API's limit
 │    ├── RateLimitError             429: still throttled after the retries; ``.retry_after_s``
 │    └── ServerError                5xx: after the retries the call allows
 │         └── ServiceUnavailableError   503: the store was unavailable (retry later)
 ├── ApiConnectionError              no answer: refused, reset, DNS (after the retries)
 │    └── ApiTimeoutError            no answer within the timeout
 ├── UnexpectedResponseError         a success whose body is not what the API answers (the URL
 │                                   is another server's, or a proxy answered)
 └── ClientConfigError               the call cannot be made as the client is set up
      ├── DeploymentError            the stack is not there, lacks an output, or no region
      └── CredentialsError           SigV4 without AWS credentials

An API error's code, field and message are the API's own (``{"error": {"code", "message",
"field"}}``); an answer in another shape (API Gateway's ``{"message": "Forbidden"}``) keeps its
message, with the code ``http_<status>``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

__all__ = [
    "ApiConnectionError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientConfigError",
    "ConflictError",
    "CredentialsError",
    "DeploymentError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitError",
    "RequestTooLargeError",
    "ServerError",
    "ServiceUnavailableError",
    "TimerClientError",
    "TimerServiceApiError",
    "UnexpectedResponseError",
    "api_error",
]


class TimerClientError(Exception):
    """Root of every error the client raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TimerServiceApiError(TimerClientError):
    """The API answered with an error status; its code, field and message as it sent them."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        field: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field
        self.retry_after_s = retry_after_s  # the answer's Retry-After, when it had one

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.status} {self.code}{where}: {self.message}"


class BadRequestError(TimerServiceApiError):
    """400: the request is malformed or names a value the API refuses."""


class AuthenticationError(TimerServiceApiError):
    """401: the API could not tell who is calling."""


class PermissionDeniedError(TimerServiceApiError):
    """403: the caller may not do this (IAM), or has as many timers as allowed."""


class NotFoundError(TimerServiceApiError):
    """404: no timer with this id for the caller."""


class ConflictError(TimerServiceApiError):
    """409: the request conflicts with the timer's state."""


class PreconditionFailedError(TimerServiceApiError):
    """412: the timer is not at the If-Match version, or exists despite If-None-Match: *."""


class RequestTooLargeError(TimerServiceApiError):
    """413: the body is larger than the API takes."""


class RateLimitError(TimerServiceApiError):
    """429: throttled, still, after the retries."""


class ServerError(TimerServiceApiError):
    """5xx: the service failed; the call was retried as far as it was safe."""


class ServiceUnavailableError(ServerError):
    """503: the store or queue was unavailable for a moment."""


class ApiConnectionError(TimerClientError):
    """The API gave no answer: the connection failed or broke."""


class ApiTimeoutError(ApiConnectionError):
    """The API gave no answer within the client's timeout."""


class UnexpectedResponseError(TimerClientError):
    """A success answer whose body is not the API's (another server at that URL, a proxy)."""


class ClientConfigError(TimerClientError):
    """The client cannot make the call as it is set up."""


class DeploymentError(ClientConfigError):
    """The stack is missing, or lacks the outputs the client needs."""

    code = "deployment_error"


class CredentialsError(ClientConfigError):
    """SigV4 signing found no AWS credentials."""


_BY_STATUS: dict[int, type[TimerServiceApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: RequestTooLargeError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def api_error(
    response: httpx.Response, *, retry_after_s: float | None = None
) -> TimerServiceApiError:
    """The typed error of an error answer, from the API's JSON error body when it has one."""
    status = response.status_code
    kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else TimerServiceApiError)
    code, message, field = f"http_{status}", response.reason_phrase or f"HTTP {status}", None
    try:
        body: Any = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
        if text := response.text.strip():
            message = text[:500]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        field = error.get("field") if isinstance(error.get("field"), str) else None
    elif isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]  # API Gateway's own answers: {"message": "Forbidden"}
    return kind(message, status=status, code=code, field=field, retry_after_s=retry_after_s)
