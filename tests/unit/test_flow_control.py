"""Flow control per destination on the in-memory store: ``concurrencyKey`` with
``maxConcurrency`` and ``maxPerSecond``, shared by an owner's timers, across threads standing in
for concurrently running callbacks. A firing over a limit waits, or goes back to the queue
with its attempts unchanged: never dropped, never a failure."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel

from timer_service.clock import SystemClock
from timer_service.delivery import Delivery
from timer_service.delivery_policy import DeliveryPolicy, Received, RetryRule
from timer_service.dispatch import Firing, InMemoryDispatchQueue
from timer_service.job_types import JobContext, JobType, JobTypeRegistry
from timer_service.messages import MessageSigner
from timer_service.models import TimerSpec
from timer_service.service import TimerService
from timer_service.settings import Settings
from timer_service.store.memory import InMemoryTimerStore
from timer_service.testing import NoAwsClients


class Nothing(BaseModel):
    """No config."""


class Gauge:
    """Counts the runs in flight and the most seen at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = self.done = 0
        self.starts: list[float] = []

    def run(self, config: Nothing, context: JobContext) -> None:
        with self.lock:
            self.starts.append(time.time())
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.02)
        with self.lock:
            self.now -= 1
            self.done += 1


def world(
    gauge: Gauge,
) -> tuple[TimerService, DeliveryPolicy, InMemoryDispatchQueue, MessageSigner]:
    store = InMemoryTimerStore()
    clock = SystemClock()
    registry = JobTypeRegistry([JobType(name="gauge", config_model=Nothing, handler=gauge.run)])
    service = TimerService(store=store, clock=clock, job_types=registry)
    delivery = Delivery(
        store=store, job_types=registry, clock=clock, settings=Settings(), client=NoAwsClients()
    )
    queue = InMemoryDispatchQueue(clock)
    signer = MessageSigner("k" * 32)
    policy = DeliveryPolicy(
        delivery=delivery,
        queue=queue,
        dead_letters=None,  # type: ignore[arg-type]
        signer=signer,
        rule=RetryRule(),
    )
    return service, policy, queue, signer, store


def test_max_concurrency_holds_across_callbacks_and_every_firing_runs() -> None:
    # GIVEN 20 timers sharing one key with maxConcurrency 5, and 200 firings due at once
    gauge = Gauge()
    service, policy, queue, signer, _ = world(gauge)
    spec = {"jobType": "gauge", "concurrencyKey": "api.example.com", "maxConcurrency": 5}
    for n in range(20):
        service.put("alice", f"t{n}", TimerSpec.model_validate(spec))
    now = int(time.time())
    pending = [Firing("alice", f"t{n % 20}", 1, scheduled_s=now - 1 - n // 20) for n in range(200)]
    # WHEN eight callbacks run them, each a batch of ten single-firing messages, and whatever
    # flow control sends back is run again, until nothing is left
    rounds = 0
    while pending:
        rounds += 1
        batches = [pending[i : i + 10] for i in range(0, len(pending), 10)]
        queue.retried.clear()
        with ThreadPoolExecutor(max_workers=8) as callbacks:
            list(
                callbacks.map(
                    lambda batch: policy.handle(
                        [
                            Received(f.firing_id, f.to_message(), signer.sign(f.to_message()))
                            for f in batch
                        ]
                    ),
                    batches,
                )
            )
        pending = [firing for firing, attempts, _ in queue.retried]
        assert all(attempts == 0 for _, attempts, _ in queue.retried)  # not counted as tries
    # THEN never more than 5 ran at once, and all 200 ran
    assert gauge.most <= 5
    assert gauge.done == 200
    assert gauge.most == 5  # and the limit was used, not just respected


def test_a_timer_without_a_key_costs_no_write_for_flow_control() -> None:
    gauge = Gauge()
    service, policy, _, signer, store = world(gauge)
    service.put("alice", "free", TimerSpec.model_validate({"jobType": "gauge"}))
    writes = store.writes
    firing = Firing("alice", "free", 1, scheduled_s=int(time.time()) - 1)
    policy.handle([Received("m", firing.to_message(), signer.sign(firing.to_message()))])
    assert gauge.done == 1 and store.writes == writes


def test_max_per_second_spreads_runs_over_seconds() -> None:
    gauge = Gauge()
    service, policy, queue, signer, _ = world(gauge)
    spec = {"jobType": "gauge", "concurrencyKey": "k", "maxPerSecond": 3}
    service.put("alice", "r", TimerSpec.model_validate(spec))
    now = int(time.time())
    firings = [Firing("alice", "r", 1, scheduled_s=now - 1 - n) for n in range(6)]
    with ThreadPoolExecutor(max_workers=6) as callbacks:
        list(
            callbacks.map(
                lambda f: policy.handle(
                    [Received(f.firing_id, f.to_message(), signer.sign(f.to_message()))]
                ),
                firings,
            )
        )
    per_second: dict[int, int] = {}
    for at in gauge.starts:
        per_second[int(at)] = per_second.get(int(at), 0) + 1
    assert max(per_second.values()) <= 3
    assert len(gauge.starts) + len(queue.retried) == 6  # each ran or waits on the queue
