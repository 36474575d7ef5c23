"""The job-type registry: name -> config model (+ handler), loaded from entry points.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."timer_service.job_types"]
    my_job = "my_package.module:job_type"

where ``job_type`` is a :class:`JobType`. Its handler gets the validated config and a
:class:`JobContext`; it returns a :class:`JobResult` (or None: outcome ``ok``), returns an
``error`` result for a failed check that must not be retried, or raises to be retried
(:class:`PermanentJobError`: straight to the dead-letter queue). See ``docs/job-types.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ValidationError

from timer_service.clock import Clock, SystemClock
from timer_service.dispatch import Firing
from timer_service.errors import InvalidRequestError, TimerServiceError
from timer_service.models import Timer
from timer_service.runs import HistoryPolicy, RunOutcome
from timer_service.settings import Settings
from timer_service.tracing import TraceParent

if TYPE_CHECKING:
    from timer_service.egress import Egress  # imports httpx: the API and ticker never need it

__all__ = [
    "ENTRY_POINT_GROUP",
    "ClientFactory",
    "JobContext",
    "JobHandler",
    "JobResult",
    "JobState",
    "JobType",
    "JobTypeRegistry",
    "PermanentJobError",
]

ENTRY_POINT_GROUP = "timer_service.job_types"


class PermanentJobError(TimerServiceError):
    """The job cannot succeed as configured (a 4xx, a blocked URL): not retried, sent to the DLQ."""

    code = "job_failed_permanently"


@dataclass(frozen=True)
class JobResult:
    """What a run did, for the run history: its outcome, a line saying so, and facts.

    ``outcome="error"`` records a failed check without a retry (a monitor's normal "the
    page is down"); raise instead to have the firing retried.
    """

    outcome: RunOutcome = "ok"
    summary: str = ""
    diff: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class JobState(Protocol):
    """Small state a job type keeps per timer between firings (e.g. a page snapshot).

    Stored compressed next to the timer, deleted with it, and reset when the timer is
    deleted and created again.
    """

    def load(self) -> dict[str, Any] | None:
        """The state the last ``save`` stored for this timer, or None."""
        ...

    def save(self, state: dict[str, Any]) -> None:
        """Replace the state (JSON values); JobStateTooLargeError past the store's limit."""
        ...


class ClientFactory(Protocol):
    """boto3 clients for job types: ``client("sns", region="eu-west-1", credentials=...)``."""

    def __call__(
        self, service: str, *, region: str | None = None, credentials: dict[str, str] | None = None
    ) -> Any: ...


@dataclass(frozen=True)
class JobContext:
    """What a job handler gets besides its config: the firing, the timer, and the means."""

    firing: Firing
    timer: Timer
    attempt: int  # 1 on first delivery
    settings: Settings
    client: ClientFactory  # a boto3 client by service name, e.g. client("sqs")
    state: JobState
    http: Egress  # HTTP through the SSRF guard, with size caps and deadlines
    # This attempt's span of the firing's W3C trace: send ``trace.header`` as ``traceparent``.
    trace: TraceParent | None = None
    clock: Clock = field(default_factory=SystemClock)  # the time, as the service tells it
    # The owner's webhook signing secrets valid now (``whsec_...``, the active one first), read
    # when called (a cache: timer_service.signing_secrets).
    signing_secrets: Callable[[], tuple[str, ...]] = tuple


JobHandler = Callable[[Any, JobContext], "JobResult | None"]
"""Runs one firing: ``handler(config, context)``; raises to have it retried."""


@dataclass(frozen=True)
class JobType:
    """A kind of work a firing does: its name, the model of its ``job`` config, its handler.

    ``default_history`` is the history policy of timers that do not set ``history``.
    """

    name: str
    config_model: type[BaseModel]
    handler: JobHandler
    summary: str = ""
    default_history: HistoryPolicy = "errors"

    def describe(self) -> dict[str, Any]:
        """Name, summary, default history policy and the JSON schema of ``job``."""
        return {
            "name": self.name,
            "summary": self.summary,
            "defaultHistory": self.default_history,
            "schema": self.config_model.model_json_schema(by_alias=True),
        }


class JobTypeRegistry:
    """Known job types by name.

    ``context`` reaches the config models' validators as pydantic's validation context (the
    API passes ``settings``, so a model can refuse the service's own resources at PUT)."""

    def __init__(
        self, job_types: Iterable[JobType], *, context: Mapping[str, Any] | None = None
    ) -> None:
        self._by_name = {job_type.name: job_type for job_type in job_types}
        self._context = dict(context or {})

    def with_context(self, **context: Any) -> JobTypeRegistry:
        """These job types, validating with ``context``."""
        return JobTypeRegistry(self._by_name.values(), context={**self._context, **context})

    @classmethod
    def from_entry_points(cls, group: str = ENTRY_POINT_GROUP) -> JobTypeRegistry:
        """Every job type installed in this environment."""
        return cls(entry.load() for entry in entry_points(group=group))

    def plus(self, *job_types: JobType) -> JobTypeRegistry:
        """These job types and ``job_types`` (which replace any of the same name)."""
        return JobTypeRegistry([*self._by_name.values(), *job_types], context=self._context)

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

    def default_history(self, name: str) -> HistoryPolicy:
        """The job type's default policy; ``errors`` for a type no longer installed."""
        job_type = self._by_name.get(name)
        return "errors" if job_type is None else job_type.default_history

    def describe(self) -> list[dict[str, Any]]:
        """Every job type with its config schema, by name."""
        return [self._by_name[name].describe() for name in self.names]

    def validate(self, name: str, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` checked by the job type's model, as stored (JSON, by alias, no None)."""
        job_type = self.get(name)
        try:
            model = job_type.config_model.model_validate(config, context=self._context)
        except ValidationError as exc:
            first = exc.errors()[0]
            # a dict key's error ends in "[key]": the field is the entry, named by its key
            where = ".".join(str(part) for part in first["loc"] if part != "[key]")
            field = f"job.{where}" if where else "job"
            message = first["msg"].removeprefix("Value error, ")
            raise InvalidRequestError(f"{field}: {message}", field=field) from exc
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
