"""The job-type registry: name -> config model (+ handler), loaded from entry points.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."timer_service.job_types"]
    my_job = "my_package.module:job_type"

where ``job_type`` is a :class:`JobType`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from timer_service.dispatch import Firing
from timer_service.errors import InvalidRequestError, TimerServiceError
from timer_service.models import Timer
from timer_service.settings import Settings

__all__ = [
    "ENTRY_POINT_GROUP",
    "JobContext",
    "JobHandler",
    "JobType",
    "JobTypeRegistry",
    "PermanentJobError",
]

ENTRY_POINT_GROUP = "timer_service.job_types"


class PermanentJobError(TimerServiceError):
    """The job cannot succeed as configured (a 4xx, a blocked URL): not retried, sent to the DLQ."""

    code = "job_failed_permanently"


@dataclass(frozen=True)
class JobContext:
    """What a job handler gets besides its config: the firing, the timer, and the means."""

    firing: Firing
    timer: Timer
    attempt: int  # 1 on first delivery
    settings: Settings
    client: Callable[[str], Any]  # a boto3 client by service name, e.g. client("sqs")


JobHandler = Callable[[Any, JobContext], None]
"""Runs one firing: ``handler(config, context)``; raises to have it retried."""


@dataclass(frozen=True)
class JobType:
    """A kind of work a firing does: its name, the model of its ``job`` config, its handler."""

    name: str
    config_model: type[BaseModel]
    handler: JobHandler
    summary: str = ""


class JobTypeRegistry:
    """Known job types by name."""

    def __init__(self, job_types: Iterable[JobType]) -> None:
        self._by_name = {job_type.name: job_type for job_type in job_types}

    @classmethod
    def from_entry_points(cls, group: str = ENTRY_POINT_GROUP) -> JobTypeRegistry:
        """Every job type installed in this environment."""
        return cls(entry.load() for entry in entry_points(group=group))

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)

    def get(self, name: str) -> JobType:
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidRequestError(
                f"unknown job type {name!r}; known: {', '.join(self.names)}", field="jobType"
            ) from None

    def validate(self, name: str, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` checked by the job type's model, as stored (JSON, by alias, no None)."""
        job_type = self.get(name)
        try:
            model = job_type.config_model.model_validate(config)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            field = f"job.{where}" if where else "job"
            message = first["msg"].removeprefix("Value error, ")
            raise InvalidRequestError(f"{field}: {message}", field=field) from exc
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
