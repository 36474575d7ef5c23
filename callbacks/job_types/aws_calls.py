"""Calls job types make to AWS, named: a permanent error says which call failed.

Delivery treats every permanent AWS error as permanent (:mod:`timer_service.aws_errors`);
``aws_call`` only adds the call's description to the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from timer_service.aws_errors import error_code, is_permanent
from timer_service.job_types import PermanentJobError

__all__ = ["aws_call", "error_code"]


@contextmanager
def aws_call(description: str) -> Iterator[None]:
    """Translate a permanent ClientError into PermanentJobError naming ``description``."""
    try:
        yield
    except ClientError as exc:
        if is_permanent(exc):
            message = exc.response.get("Error", {}).get("Message", "")
            raise PermanentJobError(
                f"{description}: {error_code(exc)}: {message}".rstrip(": ")
            ) from exc
        raise
