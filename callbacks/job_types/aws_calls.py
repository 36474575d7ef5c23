"""Calls job types make to AWS: a client error the target will repeat is permanent.

Throttling, timeouts and 5xx are retried (with SQS's backoff); a missing resource, a denied
permission or an invalid parameter will fail the same way on every attempt, so the firing
goes to the dead-letter queue at once with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from timer_service.job_types import PermanentJobError

__all__ = ["PERMANENT_ERROR_CODES", "aws_call", "error_code"]

PERMANENT_ERROR_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "AuthFailure",
        "InvalidClientTokenId",
        "InvalidParameter",
        "InvalidParameterException",
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "InvalidInstanceID.Malformed",
        "KMSAccessDeniedException",
        "NotFound",
        "NotFoundException",
        "NonExistentQueue",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "ResourceNotFoundException",
        "UnauthorizedOperation",
        "ValidationError",
        "ValidationException",
    }
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_call(description: str) -> Iterator[None]:
    """Translate a permanent ClientError into PermanentJobError naming ``description``."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code in PERMANENT_ERROR_CODES:
            message = exc.response.get("Error", {}).get("Message", "")
            raise PermanentJobError(f"{description}: {code}: {message}".rstrip(": ")) from exc
        raise
