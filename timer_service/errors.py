"""Domain errors of the timer service, one root and narrow subclasses.

TimerServiceError
 ├── InvalidRequestError        a client mistake; ``field`` names the offending input
 │    ├── InvalidScheduleError  a schedule expression or time zone that cannot be evaluated
 │    ├── MalformedBodyError    a request body that is not JSON
 │    └── PayloadTooLargeError  a body or value over its size limit
 ├── UnauthorizedError          no caller identity, or a wrong API key
 ├── TimerNotFoundError         no timer with that id for this owner
 ├── PingTokenNotFoundError     no heartbeat timer has that ping token
 ├── FeedNotFoundError          no feed has that token (or the caller has no such feed)
 ├── SigningSecretNotFoundError no signing secret with that id for this owner
 ├── SigningSecretConflictError a signing-secret change the owner's secrets do not allow now
 │                              (a second active one, a second rotation under way)
 ├── VersionConflictError       the stored version differs from the one expected (If-Match)
 ├── QuotaExceededError         the owner has as many timers as allowed
 ├── FiringRateExceededError    the owner's timers would fire too often a minute
 ├── StoreError                 the store failed for now (throttled, a server fault): retry later
 ├── StoreMisconfiguredError    the store is not there or refuses the service (a missing table,
 │                              a denied call): no retry heals it; the API answers 500
 └── JobStateTooLargeError      a job type's per-timer state is over the store's limit

Outbound HTTP has its own branch, EgressError, in :mod:`timer_service.egress`.
"""

from __future__ import annotations

__all__ = [
    "FeedNotFoundError",
    "FiringBurstExceededError",
    "FiringRateExceededError",
    "InvalidRequestError",
    "InvalidScheduleError",
    "JobStateTooLargeError",
    "MalformedBodyError",
    "PayloadTooLargeError",
    "PingTokenNotFoundError",
    "QuotaExceededError",
    "SigningSecretConflictError",
    "SigningSecretNotFoundError",
    "StoreError",
    "StoreMisconfiguredError",
    "TimerNotFoundError",
    "TimerServiceError",
    "UnauthorizedError",
    "VersionConflictError",
]


class TimerServiceError(Exception):
    """Root of every error the service raises on purpose."""

    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidRequestError(TimerServiceError):
    """The request is malformed or names values the service cannot accept."""

    code = "invalid_request"


class InvalidScheduleError(InvalidRequestError):
    """A schedule expression or time zone is not valid."""

    code = "invalid_schedule"

    def __init__(self, message: str, *, field: str | None = "schedule") -> None:
        super().__init__(message, field=field)


class MalformedBodyError(InvalidRequestError):
    """A request body that does not parse as JSON (RFC 8259)."""

    code = "malformed_json"


class PayloadTooLargeError(InvalidRequestError):
    """A body or a value is larger than the service accepts."""

    code = "payload_too_large"


class UnauthorizedError(TimerServiceError):
    """The caller could not be identified."""

    code = "unauthorized"


class TimerNotFoundError(TimerServiceError):
    """No timer with this id exists for the caller."""

    code = "not_found"

    def __init__(self, timer_id: str) -> None:
        super().__init__(f"timer {timer_id!r} does not exist", field="id")
        self.timer_id = timer_id


class PingTokenNotFoundError(TimerServiceError):
    """A ping names a token no heartbeat timer has (never had, or no longer: deleted)."""

    code = "not_found"

    def __init__(self) -> None:
        super().__init__("no heartbeat timer has this ping token", field="token")


class FeedNotFoundError(TimerServiceError):
    """A feed URL's token no feed has (never had, revoked, rotated, or its timer deleted); or
    the caller has no feed of that timer or label to revoke."""

    code = "not_found"

    def __init__(self, message: str = "no feed has this token", *, field: str = "token") -> None:
        super().__init__(message, field=field)


class SigningSecretNotFoundError(TimerServiceError):
    """No signing secret with this id exists for the caller (or it is retired)."""

    code = "not_found"

    def __init__(self, secret_id: str) -> None:
        super().__init__(f"signing secret {secret_id!r} does not exist", field="id")


class SigningSecretConflictError(TimerServiceError):
    """The owner's signing secrets do not allow this change now."""

    code = "conflict"


class VersionConflictError(TimerServiceError):
    """The timer changed since the version the caller expected."""

    code = "version_conflict"

    def __init__(
        self,
        timer_id: str,
        *,
        expected: int | str | None,
        actual: int | None,
        if_none_match: bool = False,
    ) -> None:
        wanted = "any version" if expected == "*" else f"version {expected}"
        if if_none_match:
            message = f"timer {timer_id!r} exists (version {actual}); If-None-Match: * only creates"
        elif actual is None:
            message = f"timer {timer_id!r} does not exist (If-Match expected {wanted})"
        elif expected is None:
            message = f"timer {timer_id!r} was changed by another request (now version {actual})"
        else:
            message = f"timer {timer_id!r} is at version {actual}, not {expected}"
        super().__init__(message, field="If-None-Match" if if_none_match else "If-Match")
        self.expected = expected
        self.actual = actual


class QuotaExceededError(TimerServiceError):
    """The owner already has the most timers allowed."""

    code = "quota_exceeded"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"you have {limit} timers, the most allowed: delete some before creating more",
            field="id",
        )
        self.limit = limit


class FiringRateExceededError(TimerServiceError):
    """The owner's timers would fire more often a minute than allowed."""

    code = "firing_rate_exceeded"

    def __init__(self, limit: int, *, adds: int) -> None:
        super().__init__(
            f"this schedule adds up to {adds} firings a minute and your timers may fire at most"
            f" {limit} a minute together: use a longer rate, or pause or delete some timers",
            field="schedule",
        )
        self.limit = limit


class FiringBurstExceededError(TimerServiceError):
    """The owner's requests sent as many firings outside their schedules this minute as allowed
    (hand-offs of fast rates, backfills, bulk triggers): a throttle, retried after a wait."""

    code = "firing_burst_exceeded"

    def __init__(self, limit: int, *, count: int, retry_after_s: int) -> None:
        super().__init__(
            f"this request would send {count} firings outside their schedules and your requests"
            f" may send at most {limit} a minute: try again in {retry_after_s} s",
            field="schedule",
        )
        self.limit = limit
        self.retry_after_s = retry_after_s


class StoreError(TimerServiceError):
    """The backing store failed (throttling, outage); retrying may help."""

    code = "store_unavailable"


class StoreMisconfiguredError(TimerServiceError):
    """The store is missing or refuses the service's calls: an operator must fix it."""

    code = "store_misconfigured"


class JobStateTooLargeError(TimerServiceError):
    """A job type tried to keep more per-timer state than one item holds."""

    code = "job_state_too_large"
