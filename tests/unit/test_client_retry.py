"""Which calls the client tries again and after how long; how an error answer is read."""

from __future__ import annotations

import httpx
import pytest

from timer_service.client import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RetryPolicy,
    ServerError,
    ServiceUnavailableError,
    TimerServiceApiError,
)
from timer_service.client.errors import api_error
from timer_service.client.retry import retry_after_seconds

POLICY = RetryPolicy(max_attempts=3, backoff_s=0.5, max_retry_after_s=30)


def test_retry_after_in_seconds_or_an_http_date_is_a_wait() -> None:
    # RFC 9110 10.2.3's own examples: a date, or a number of seconds
    assert retry_after_seconds("120") == 120.0
    date = "Fri, 31 Dec 1999 23:59:59 GMT"
    assert retry_after_seconds(date, now_s=946684799 - 30) == pytest.approx(30.0)
    assert retry_after_seconds(date, now_s=946684799 + 5) == 0.0  # past: at once
    for unreadable in (None, "soon", "-1", "1.5"):
        assert retry_after_seconds(unreadable) is None, unreadable


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("idempotent", [True, False])
def test_throttled_or_unavailable_is_retried_for_any_call_after_retry_after(
    status: int, idempotent: bool
) -> None:
    assert POLICY.after_status(1, status, 2.0, idempotent=idempotent) == 2.0
    assert POLICY.after_status(2, status, 0.0, idempotent=idempotent) == 0.0
    assert POLICY.after_status(3, status, 2.0, idempotent=idempotent) is None  # out of tries


@pytest.mark.parametrize("status", [500, 502, 504])
def test_other_server_errors_are_retried_only_for_idempotent_calls(status: int) -> None:
    assert POLICY.after_status(1, status, None, idempotent=False) is None
    wait = POLICY.after_status(1, status, None, idempotent=True)
    assert wait is not None and 0.25 <= wait <= 0.5
    second = POLICY.after_status(2, status, None, idempotent=True)
    assert second is not None and 0.5 <= second <= 1.0  # backing off


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 413, 501])
def test_client_mistakes_are_never_retried(status: int) -> None:
    assert POLICY.after_status(1, status, 1.0, idempotent=True) is None


def test_a_retry_after_longer_than_the_policy_waits_is_not_waited_for() -> None:
    assert POLICY.after_status(1, 429, 3600.0, idempotent=True) is None


def test_a_connection_never_made_is_retried_for_any_call_a_broken_one_only_if_idempotent() -> None:
    refused = httpx.ConnectError("refused")
    cut = httpx.ReadTimeout("no answer")
    assert POLICY.after_error(1, refused, idempotent=False) is not None
    assert POLICY.after_error(1, cut, idempotent=False) is None
    assert POLICY.after_error(1, cut, idempotent=True) is not None
    assert POLICY.after_error(3, refused, idempotent=True) is None
    assert POLICY.after_error(1, httpx.UnsupportedProtocol("ftp"), idempotent=True) is None


def test_a_policy_of_no_tries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)


def answer(status: int, body: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (412, PreconditionFailedError),
        (500, ServerError),
        (503, ServiceUnavailableError),
        (405, TimerServiceApiError),
    ],
)
def test_an_error_answer_is_its_status_s_exception_with_the_api_s_code_field_message(
    status: int, kind: type[TimerServiceApiError]
) -> None:
    body = (
        b'{"error": {"code": "validation_error", "message": "schedule: bad", "field": "schedule"}}'
    )
    error = api_error(answer(status, body))
    assert type(error) is kind
    assert (error.status, error.code, error.field, error.message) == (
        status,
        "validation_error",
        "schedule",
        "schedule: bad",
    )
    assert str(error) == f"{status} validation_error (schedule): schedule: bad"


def test_an_answer_in_api_gateway_s_own_shape_keeps_its_message() -> None:
    # API Gateway answers IAM refusals itself: {"message": "..."}, no error object
    error = api_error(answer(403, b'{"message": "User: arn:aws:iam::1:user/x is not authorized"}'))
    assert isinstance(error, PermissionDeniedError)
    assert (error.code, error.field) == ("http_403", None)
    assert error.message.startswith("User: arn:aws:iam::1:user/x")
    text = api_error(answer(502, b"Bad Gateway", "text/plain"))
    assert isinstance(text, ServerError) and text.message == "Bad Gateway"
