"""Which errors of an AWS call are worth retrying: throttles, timeouts and server faults are;
a denied call, a missing resource or a bad parameter fails the same way every time."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
)

__all__ = ["TRANSIENT_CODES", "error_code", "is_permanent", "is_transient"]

# botocore's standard retry mode (botocore/retries/standard.py: ThrottledRetryableChecker and
# TransientRetryableChecker), and the expired-credential codes a refresh cures.
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "KMS.ThrottlingException",
        "KmsThrottled",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "IDPCommunicationError",
    }
)
# botocore's TransientRetryableChecker and ThrottlingStatusCodeChecker: server faults, 429.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
_CONFIGURATION_ERRORS = (
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_transient(exc: ClientError) -> bool:
    """Whether botocore's standard mode would retry this answer: a throttle, an expired
    credential, a server fault or a 429, whatever the code."""
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return error_code(exc) in TRANSIENT_CODES or status in TRANSIENT_STATUSES


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying the call cannot help: a client error (4xx) that is no throttle and no
    expired credential (AccessDenied, QueueDoesNotExist, ValidationException ...), or
    parameters or configuration botocore refused before sending."""
    if isinstance(exc, _CONFIGURATION_ERRORS):
        return True
    if not isinstance(exc, ClientError):
        return False
    if error_code(exc) in TRANSIENT_CODES:
        return False
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 400 <= status < 500 and status != 429
