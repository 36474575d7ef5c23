"""Core of the timer service: schedules, timers, the time index, stores, tick engine, dispatch.

Nothing here reads the environment, builds AWS clients or touches the network at import time,
and nothing here knows Lambda event shapes.
"""

from timer_service.clock import Clock, FixedClock, SystemClock
from timer_service.errors import (
    InvalidRequestError,
    InvalidScheduleError,
    PayloadTooLargeError,
    StoreError,
    TimerNotFoundError,
    TimerServiceError,
    UnauthorizedError,
    VersionConflictError,
)
from timer_service.job_types import JobType, JobTypeRegistry
from timer_service.models import ShardRegistry, Timer, TimerPage, TimerSpec, TimerView
from timer_service.schedules import Timing, parse_schedule
from timer_service.service import TimerService
from timer_service.settings import Settings

__version__ = "0.1.0"

__all__ = [
    "Clock",
    "FixedClock",
    "InvalidRequestError",
    "InvalidScheduleError",
    "JobType",
    "JobTypeRegistry",
    "PayloadTooLargeError",
    "Settings",
    "ShardRegistry",
    "StoreError",
    "SystemClock",
    "Timer",
    "TimerNotFoundError",
    "TimerPage",
    "TimerService",
    "TimerServiceError",
    "TimerSpec",
    "TimerView",
    "Timing",
    "UnauthorizedError",
    "VersionConflictError",
    "__version__",
    "parse_schedule",
]
