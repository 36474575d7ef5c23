"""Test helpers for job-type authors: fire a timer in-process and read its run record.

>>> from timer_service.testing import JobHarness
>>> harness = JobHarness()
>>> _ = harness.put("t1", jobType="sqs", job={"queueUrl": "https://sqs.example/1/q"})
>>> harness.fire("t1").outcome   # no AWS configured: the sqs job fails, the run says why
'error'

Everything runs in memory with a fixed clock: the same validation as ``PUT`` (the API's
service), the same delivery code as the callback Lambda, the same history records. Job
types come from the installed entry points unless given; AWS clients only when given
(``clients=``), so a test never reaches a real account by accident.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from timer_service.clock import FixedClock
from timer_service.delivery import Delivered, Delivery
from timer_service.delivery_policy import RetryRule
from timer_service.dispatch import Firing, InMemoryDispatchQueue
from timer_service.egress import Egress, Resolver
from timer_service.job_types import ClientFactory, JobType, JobTypeRegistry
from timer_service.models import TimerSpec
from timer_service.runs import Run
from timer_service.service import TimerService
from timer_service.settings import Settings
from timer_service.signing_service import SigningSecretCache, SigningSecretService
from timer_service.store.memory import InMemoryTimerStore
from timer_service.views import TimerView

__all__ = ["OWNER", "InMemoryRunOnce", "JobHarness", "NoAwsClients", "fire_once"]

OWNER = "test-owner"


class NoAwsClients:
    """The default client factory of the harness: it refuses, naming what was asked for."""

    def __call__(
        self, service: str, *, region: str | None = None, credentials: dict[str, str] | None = None
    ) -> Any:
        raise RuntimeError(f"no AWS client for {service!r} in this test: pass clients=")


class JobHarness:
    """A timer store, the API's service and the callbacks' delivery, in memory.

    ``put`` takes the ``PUT /periodic/{id}`` body's fields (``jobType``, ``job``,
    ``schedule``, ``timerCallbackData``, ``history``, ...); ``fire`` runs one firing of the
    timer now and returns its run. ``history`` defaults to ``all`` here, so every run is
    kept and returned; pass ``history`` to test a policy.
    """

    def __init__(
        self,
        job_types: Iterable[JobType] | JobTypeRegistry | None = None,
        *,
        settings: Settings | None = None,
        clients: ClientFactory | None = None,
        allow_private_targets: bool = True,
        resolver: Resolver | None = None,
        http_client: httpx.Client | None = None,
        start_s: float | None = None,
    ) -> None:
        if job_types is None:
            registry = JobTypeRegistry.from_entry_points()
        elif isinstance(job_types, JobTypeRegistry):
            registry = job_types
        else:
            registry = JobTypeRegistry(job_types)
        self.settings = settings or Settings(allow_private_targets=allow_private_targets)
        self.clock = FixedClock(int(time.time() if start_s is None else start_s))
        self.store = InMemoryTimerStore()
        self.queue = InMemoryDispatchQueue(self.clock)
        self.service = TimerService(
            store=self.store, clock=self.clock, job_types=registry, queue=self.queue
        )
        self.delivery = Delivery(
            store=self.store,
            job_types=registry,
            clock=self.clock,
            settings=self.settings,
            client=clients or NoAwsClients(),
            sleep=lambda _s: None,
            egress=Egress(
                allow_private=allow_private_targets, resolver=resolver, client=http_client
            ),
            signing_secrets=SigningSecretCache(store=self.store, clock=self.clock, ttl_s=0).valid,
        )
        # The owner's webhook signing secrets: ``harness.signing_secrets.create(OWNER).secret``.
        self.signing_secrets = SigningSecretService(store=self.store, clock=self.clock)
        self.last_error: Exception | None = None
        self.last_delivery: Delivered | None = None
        self._last_fired_s: int | None = None

    def put(self, timer_id: str, **fields: Any) -> TimerView:
        """Create or replace a timer, validated as the API validates it."""
        fields.setdefault("history", "all")
        fields.setdefault("schedule", "rate(1 hour)")
        spec = TimerSpec.model_validate(fields)
        return self.service.put(OWNER, timer_id, spec).view

    def fire(self, timer_id: str, *, attempt: int = 1, manual: bool = False) -> Run | None:
        """Deliver one firing of the timer at the clock's now (a second later than the last
        one); the run it recorded, if its history policy kept one. A job that raised leaves
        its error in ``last_error``."""
        timer = self.store.get_timer(OWNER, timer_id)
        if timer is None:
            raise KeyError(f"no timer {timer_id!r}: put it first")
        if self._last_fired_s == int(self.clock.now()):
            self.clock.advance(1)  # two firings of one second would be one run
        self._last_fired_s = int(self.clock.now())
        firing = Firing(
            owner=OWNER,
            timer_id=timer_id,
            version=timer.firing_version,
            scheduled_s=int(self.clock.now()),
            manual=manual,
        )
        before = {run.sort_key for run in self.runs(timer_id)}
        self.last_error = None
        try:
            self.last_delivery = self.delivery.deliver(
                firing,
                attempt=attempt,
                final=RetryRule.from_settings(self.settings).final(attempt),
                reads=self.delivery.reads([firing]),
            )
        except Exception as exc:  # the test inspects it through last_error and the run
            self.last_error = exc
            self.last_delivery = None
        fresh = [run for run in self.runs(timer_id) if run.sort_key not in before]
        return fresh[0] if fresh else None

    def runs(self, timer_id: str) -> list[Run]:
        """The timer's runs, newest first."""
        timer = self.store.get_timer(OWNER, timer_id)
        if timer is None:
            return []
        runs, _ = self.store.list_runs(
            OWNER, timer_id, incarnation=timer.created_s, limit=1000, before=None
        )
        return runs

    def state(self, timer_id: str) -> dict[str, Any] | None:
        """The job state the timer's job type kept."""
        return self.store.get_job_state(OWNER, timer_id)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)


def fire_once(job_type: str, job: dict[str, Any], **fields: Any) -> Run | None:
    """Fire a one-off timer of ``job_type`` with ``job`` and return its run."""
    harness = JobHarness()
    harness.put("test", jobType=job_type, job=job, **fields)
    return harness.fire("test")


class InMemoryRunOnce:
    """``RunOnce`` with powertools Idempotency's semantics, in memory: a firing id whose
    action completed is never run again; one in progress refuses a second run (the message
    is retried later); one whose action raised may run again."""

    def __init__(self) -> None:
        self.completed: set[str] = set()
        self.in_progress: set[str] = set()

    def __call__(self, firing_id: str, action: Callable[[], None]) -> None:
        if firing_id in self.completed:
            return
        if firing_id in self.in_progress:
            raise RuntimeError(f"{firing_id} is already in progress")
        self.in_progress.add(firing_id)
        try:
            action()
        finally:
            self.in_progress.discard(firing_id)
        self.completed.add(firing_id)
