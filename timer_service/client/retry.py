"""Which failed calls the client tries again, and after how long.

A 429 or a 503 means "not now": the request did nothing, so any call is tried again, after the
answer's ``Retry-After`` (seconds or an HTTP date, RFC 9110 10.2.3) or a backoff without one.
Another 5xx, or a connection that broke after the request went out, may have done its work:
only an idempotent call (GET, PUT, DELETE and the API's set-state POSTs: pause, resume,
preview) is tried again, never a trigger or a redrive. A connection that could not be opened
sent nothing, so it is tried again for every call.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["RetryPolicy", "retry_after_seconds"]

_ALWAYS_RETRIED = frozenset({429, 503})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_NO_ANSWER = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)


def retry_after_seconds(value: str | None, *, now_s: float | None = None) -> float | None:
    """A ``Retry-After`` header's wait in seconds (0 for a date in the past); None without one
    or for one that is neither seconds nor an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT; a date without a zone is read as such
        return None
    return max(0.0, when.timestamp() - (time.time() if now_s is None else now_s))


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long: ``max_attempts`` tries in all (the first included); without a
    ``Retry-After`` the n-th wait is ``backoff_s * 2**(n-1)`` (at most ``max_backoff_s``), with
    jitter; a ``Retry-After`` over ``max_retry_after_s`` is not waited for (the error is raised)."""

    max_attempts: int = 4
    backoff_s: float = 0.25
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (1: no retries)")

    def after_status(
        self, attempt: int, status: int, retry_after_s: float | None, *, idempotent: bool
    ) -> float | None:
        """The wait before trying again after the ``attempt``-th try answered ``status``; None:
        do not try again."""
        if attempt >= self.max_attempts:
            return None
        if status not in _ALWAYS_RETRIED and not (idempotent and status >= 500 and status != 501):
            return None
        if retry_after_s is not None:
            return retry_after_s if retry_after_s <= self.max_retry_after_s else None
        return self._backoff(attempt)

    def after_error(
        self, attempt: int, error: httpx.TransportError, *, idempotent: bool
    ) -> float | None:
        """The wait before trying again after the ``attempt``-th try got no answer; None: do not."""
        if attempt >= self.max_attempts or not isinstance(error, _NO_ANSWER):
            return None  # out of tries, or a mistake no retry heals (an unsupported URL)
        if not idempotent and not isinstance(error, _NOT_SENT):
            return None
        return self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        ceiling: float = min(self.max_backoff_s, self.backoff_s * 2.0 ** (attempt - 1))
        # Jitter: clients throttled at once do not all come back at once.
        return ceiling * random.uniform(0.5, 1.0)
