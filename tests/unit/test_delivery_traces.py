"""Delivery continues each firing's trace: every attempt is a span of it, the job gets its
traceparent, and each run keeps the trace id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel

from tests.unit.test_tracing import assert_w3c_traceparent
from tests.unit.world import T0
from timer_service.clock import FixedClock
from timer_service.dead_letters import DeadLetters
from timer_service.delivery import Delivery
from timer_service.delivery_policy import DeliveryPolicy, Received, RetryRule
from timer_service.dispatch import Firing, InMemoryDispatchQueue
from timer_service.job_types import JobContext, JobType, JobTypeRegistry
from timer_service.messages import MessageSigner, messages_of, retry_message
from timer_service.models import TimerSpec
from timer_service.runs import RunView
from timer_service.service import TimerService
from timer_service.settings import Settings
from timer_service.store.dead_letters import InMemoryDeadLetterStore
from timer_service.store.memory import InMemoryTimerStore
from timer_service.testing import NoAwsClients
from timer_service.tracing import TraceParent

SIGNER = MessageSigner("unit-test-signing-key-0123")


class Flaky(BaseModel):
    failures: int = 0  # attempts that fail before one succeeds


class Traced:
    """A policy whose job type records the traceparent of each attempt and fails as told."""

    def __init__(self) -> None:
        self.clock = FixedClock(T0 + 10)
        self.store = InMemoryTimerStore()
        self.queue = InMemoryDispatchQueue(self.clock)
        self.seen: list[TraceParent | None] = []
        self.spans: list[tuple[str, str]] = []

        def run(config: Flaky, context: JobContext) -> None:
            self.seen.append(context.trace)
            if len(self.seen) <= config.failures:
                raise ConnectionError("target unreachable")

        @contextmanager
        def span(firing: Firing, trace: TraceParent) -> Iterator[None]:
            self.spans.append((firing.firing_id, trace.header))
            yield

        registry = JobTypeRegistry([JobType(name="flaky", config_model=Flaky, handler=run)])
        self.service = TimerService(store=self.store, clock=self.clock, job_types=registry)
        delivery = Delivery(
            store=self.store,
            job_types=registry,
            clock=self.clock,
            settings=Settings(),
            client=NoAwsClients(),
            sleep=self.clock.advance,
            span=span,
        )
        self.policy = DeliveryPolicy(
            delivery=delivery,
            queue=self.queue,
            dead_letters=DeadLetters(
                store=InMemoryDeadLetterStore(), queue=self.queue, clock=self.clock
            ),
            signer=SIGNER,
            rule=RetryRule(max_attempts=3, base_s=1),
        )

    def put(self, timer_id: str, failures: int) -> Firing:
        spec = {"jobType": "flaky", "job": {"failures": failures}, "history": "all"}
        self.service.put("alice", timer_id, TimerSpec.model_validate(spec))
        return Firing("alice", timer_id, 1, T0 + 10)

    def handle(self, body: str, message_id: str) -> None:
        self.policy.handle([Received(message_id, body, SIGNER.sign(body))])


def test_a_retried_firing_stays_in_its_trace_with_a_span_per_attempt() -> None:
    # GIVEN a firing packed with another, whose job fails once
    box = Traced()
    (message,) = messages_of([box.put("a", failures=1), Firing("alice", "zz", 1, T0 + 10)])
    queued = message.firings[0]
    # WHEN it is delivered, fails, and its retry is delivered
    box.handle(message.body, "m1")
    ((retried, attempts_before, _),) = box.queue.retried
    box.handle(retry_message(retried, attempts_before=attempts_before).body, "m2")
    # THEN both attempts carry a valid traceparent of the trace it was queued with
    first, second = box.seen
    assert first is not None and second is not None
    for trace in (first, second):
        assert_w3c_traceparent(trace.header)
        assert trace.trace_id == queued.trace_id
    assert first.parent_id != second.parent_id  # a span per attempt
    # AND each attempt ran in a span of that trace
    assert box.spans == [(queued.firing_id, first.header), (queued.firing_id, second.header)]
    # AND both runs keep the trace id, as GET /periodic/{id}/runs shows it
    runs, _ = box.store.list_runs("alice", "a", incarnation=T0 + 10, limit=10, before=None)
    assert [run.trace_id for run in runs] == [queued.trace_id] * 2
    view = RunView.of(runs[0]).model_dump(mode="json", by_alias=True)
    assert view["traceId"] == queued.trace_id


def test_a_firing_queued_before_traces_keeps_one_trace_across_attempts() -> None:
    # GIVEN a message of the version before traces (no trace id), whose job fails once
    box = Traced()
    body = box.put("old", failures=1).to_message()
    # WHEN it is delivered and retried
    box.handle(body, "m1")
    ((retried, attempts_before, _),) = box.queue.retried
    box.handle(retry_message(retried, attempts_before=attempts_before).body, "m2")
    # THEN both attempts are in one trace all the same
    first, second = box.seen
    assert first is not None and second is not None
    assert first.trace_id == second.trace_id
    assert_w3c_traceparent(second.header)
