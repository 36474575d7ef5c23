"""A typed client of the timer service's API, sync and async, on httpx.

    from timer_service.client import TimerClient
    from timer_service.models import TimerSpec

    with TimerClient("http://127.0.0.1:8080") as client:  # or TimerClient.for_stack("TimerService")
        timer = client.put("order-42", TimerSpec(schedule="rate(5 minutes)"))
        for timer in client.iter_timers():
            print(timer.id, timer.next_fire_times[0])

It takes and returns the models the API validates with (:mod:`timer_service.models`,
:mod:`timer_service.runs`, :mod:`timer_service.dead_letters`), signs with SigV4 or sends an
API key (:mod:`~timer_service.client.auth`), retries what is safe to retry
(:mod:`~timer_service.client.retry`) and raises each error answer as a typed exception
(:mod:`~timer_service.client.errors`). It imports nothing of the local stack, the console or
the command line. Guide: docs/client.md.
"""

from __future__ import annotations

from timer_service.client.aio import AsyncTimerClient
from timer_service.client.auth import ApiKeyAuth, SigV4Auth
from timer_service.client.calls import Call
from timer_service.client.deployment import Deployment, region_of_url
from timer_service.client.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientConfigError,
    ConflictError,
    CredentialsError,
    DeploymentError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    ServiceUnavailableError,
    TimerClientError,
    TimerServiceApiError,
    UnexpectedResponseError,
)
from timer_service.client.retry import RetryPolicy
from timer_service.client.sync import TimerClient

__all__ = [
    "ApiConnectionError",
    "ApiKeyAuth",
    "ApiTimeoutError",
    "AsyncTimerClient",
    "AuthenticationError",
    "BadRequestError",
    "Call",
    "ClientConfigError",
    "ConflictError",
    "CredentialsError",
    "Deployment",
    "DeploymentError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitError",
    "RequestTooLargeError",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailableError",
    "SigV4Auth",
    "TimerClient",
    "TimerClientError",
    "TimerServiceApiError",
    "UnexpectedResponseError",
    "region_of_url",
]
