"""Core of the timer service: schedules, timers, the time index, stores, tick engine, dispatch.

Nothing here reads the environment, builds AWS clients or touches the network at import time,
and nothing here knows Lambda event shapes. The names below are loaded on first use (PEP 562),
so a Lambda that imports one core module pays for that module alone: the ticker never loads
the job-type registry, the service or their dependencies.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    from timer_service.models import ShardRegistry, Timer, TimerSpec
    from timer_service.schedules import Timing, parse_schedule
    from timer_service.service import TimerService
    from timer_service.settings import Settings
    from timer_service.views import TimerPage, TimerView

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

_HOMES = {
    "timer_service.clock": ("Clock", "FixedClock", "SystemClock"),
    "timer_service.errors": (
        "InvalidRequestError",
        "InvalidScheduleError",
        "PayloadTooLargeError",
        "StoreError",
        "TimerNotFoundError",
        "TimerServiceError",
        "UnauthorizedError",
        "VersionConflictError",
    ),
    "timer_service.job_types": ("JobType", "JobTypeRegistry"),
    "timer_service.models": ("ShardRegistry", "Timer", "TimerSpec"),
    "timer_service.views": ("TimerPage", "TimerView"),
    "timer_service.schedules": ("Timing", "parse_schedule"),
    "timer_service.service": ("TimerService",),
    "timer_service.settings": ("Settings",),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> object:
    """A public name, imported from its module the first time it is asked for."""
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
