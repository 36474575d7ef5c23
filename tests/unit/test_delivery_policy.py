"""The one delivery policy: what happens to each firing of a batch, in memory, on a fixed clock."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import pytest
from pydantic import BaseModel

from tests.unit.world import T0
from timer_service.clock import FixedClock
from timer_service.dead_letters import DeadLetters
from timer_service.delivery import Delivery
from timer_service.delivery_policy import DeliveryPolicy, Received, RetryRule
from timer_service.dispatch import DispatchError, Firing, InMemoryDispatchQueue
from timer_service.job_types import JobContext, JobType, JobTypeRegistry, PermanentJobError
from timer_service.messages import MessageSigner, messages_of, retry_message
from timer_service.models import Timer, TimerSpec
from timer_service.service import TimerService
from timer_service.settings import Settings
from timer_service.store.dead_letters import InMemoryDeadLetterStore
from timer_service.store.memory import InMemoryTimerStore
from timer_service.testing import NoAwsClients

SIGNER = MessageSigner("unit-test-signing-key-0123")


class Behaviour(BaseModel):
    fail: str = "no"  # no | transient | permanent


class Box:
    """A store, queue, dead letters and a policy; a job type that fails as its timer says."""

    def __init__(self, *, max_attempts: int = 3) -> None:
        self.clock = FixedClock(T0 + 10)
        self.store = InMemoryTimerStore()
        self.queue = InMemoryDispatchQueue(self.clock)
        self.runs: Counter[str] = Counter()

        def run(config: Behaviour, context: JobContext) -> None:
            self.runs[context.firing.timer_id] += 1
            if config.fail == "transient":
                raise ConnectionError("target unreachable")
            if config.fail == "permanent":
                raise PermanentJobError("HTTP 404")

        registry = JobTypeRegistry([JobType(name="b", config_model=Behaviour, handler=run)])
        self.service = TimerService(store=self.store, clock=self.clock, job_types=registry)
        delivery = Delivery(
            store=self.store,
            job_types=registry,
            clock=self.clock,
            settings=Settings(),
            client=NoAwsClients(),
            sleep=self.clock.advance,
        )
        self.letters = DeadLetters(
            store=InMemoryDeadLetterStore(), queue=self.queue, clock=self.clock
        )
        self.policy = DeliveryPolicy(
            delivery=delivery,
            queue=self.queue,
            dead_letters=self.letters,
            signer=SIGNER,
            rule=RetryRule(max_attempts=max_attempts, base_s=10),
        )

    def put(self, timer_id: str, fail: str = "no") -> Firing:
        spec = TimerSpec.model_validate(
            {"schedule": "rate(1 hour)", "jobType": "b", "job": {"fail": fail}}
        )
        view = self.service.put("alice", timer_id, spec).view
        return Firing("alice", timer_id, view.version, T0 + 10)

    def dead(self) -> dict[str, str]:
        page = self.letters.look("alice", limit=100)
        return {item.timer_id: item.error for item in page.items}


def received(body: str, *, count: int = 1, signed: bool = True, n: int = 0) -> Received:
    return Received(f"m{n}", body, SIGNER.sign(body) if signed else None, count)


def test_a_pack_retries_only_its_failed_firing_alone_with_its_attempt() -> None:
    box = Box()
    firings = [box.put("ok-1"), box.put("flaky", "transient"), box.put("ok-2")]
    (pack,) = messages_of(firings)
    assert box.policy.handle([received(pack.body)]) == []  # the pack is done
    assert box.runs == {"ok-1": 1, "flaky": 1, "ok-2": 1}
    ((firing, attempts, visible_s),) = box.queue.retried
    assert (firing.timer_id, attempts, visible_s) == ("flaky", 1, T0 + 10 + 10)
    # the retry, received once, is attempt 2: backoff doubles
    retry = retry_message(firing, attempts_before=1)
    assert box.policy.handle([received(retry.body)]) == []
    assert box.queue.retried[-1][1:] == (2, T0 + 10 + 20)


def test_a_pack_s_firings_share_one_read_of_their_timers_though_they_run_at_once() -> None:
    # GIVEN a pack of 20 firings due now, and a store that takes a while to answer a read
    box = Box()
    firings = [box.put(f"t{n}") for n in range(20)]
    (pack,) = messages_of(firings)
    read = box.store.get_timers
    calls: list[int] = []

    def slow_read(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Timer]:
        calls.append(len(keys))
        time.sleep(0.05)  # long enough for every worker to ask before the first answer
        return read(keys)

    box.store.get_timers = slow_read  # type: ignore[method-assign]
    # WHEN the pack runs (its firings on workers of their own)
    assert box.policy.handle([received(pack.body)]) == []
    # THEN every firing ran, after one batched read of the 20 timers, not one per worker
    assert box.runs == {f"t{n}": 1 for n in range(20)}
    assert calls == [20]


def test_the_last_attempt_dead_letters_and_says_so() -> None:
    box = Box(max_attempts=3)
    firing = box.put("flaky", "transient")
    retry = retry_message(firing, attempts_before=2)
    assert box.policy.handle([received(retry.body)]) == []
    assert box.queue.retried == []
    assert box.dead()["flaky"].startswith("retries exhausted: ConnectionError")


def test_receives_count_as_attempts_a_crash_included() -> None:
    box = Box(max_attempts=3)
    firing = box.put("flaky", "transient")
    assert box.policy.handle([received(firing.to_message(), count=3)]) == []
    assert "flaky" in box.dead()


def test_a_permanent_failure_is_dead_lettered_at_once() -> None:
    box = Box()
    firing = box.put("gone", "permanent")
    box.policy.handle([received(firing.to_message())])
    assert box.dead() == {"gone": "HTTP 404"}
    assert box.queue.retried == []


def test_a_message_the_service_did_not_sign_is_dropped() -> None:
    box = Box()
    firing = box.put("ok")
    assert box.policy.handle([received(firing.to_message(), signed=False)]) == []
    assert box.runs == {}
    assert box.dead() == {}


@pytest.mark.parametrize("body", ["not json", '{"p":[]}', '{"o":"alice"}', "[1]", '{"p":[1]}'])
def test_a_signed_message_that_holds_no_firing_is_dropped(body: str) -> None:
    box = Box()
    assert box.policy.handle([received(body)]) == []
    assert box.runs == {}
    assert box.dead() == {}


def test_a_failed_hand_off_gives_the_message_back() -> None:
    box = Box()
    firing = box.put("flaky", "transient")

    def broken(*args: object, **kwargs: object) -> None:
        raise DispatchError("SQS is down")

    box.queue.retry = broken  # type: ignore[method-assign]
    assert box.policy.handle([received(firing.to_message())]) == ["m0"]


class HalfBrokenQueue(InMemoryDispatchQueue):
    """Takes every other firing."""

    def resend(self, firings: Sequence[Firing]) -> None:
        taken = list(firings)[::2]
        super().resend(taken)
        refused = [f for f in firings if f not in taken]
        if refused:
            raise DispatchError("refused", failed=refused)


def test_redrive_deletes_only_the_letters_it_sent() -> None:
    clock = FixedClock(T0)
    queue = HalfBrokenQueue(clock)
    letters = DeadLetters(store=InMemoryDeadLetterStore(), queue=queue, clock=clock)
    for n in range(6):
        letters.record(Firing("alice", f"t{n}", 1, T0 - n), error="e", attempts=5)
    with pytest.raises(DispatchError):
        letters.redrive("alice")
    left = {item.timer_id for item in letters.look("alice").items}
    sent = {firing.timer_id for firing, _ in queue.sent}
    assert len(left) == 3 and len(sent) == 3 and not left & sent
    # sending them again takes the rest; none is sent twice
    queue.resend = InMemoryDispatchQueue.resend.__get__(queue)  # type: ignore[method-assign]
    assert letters.redrive("alice").redriven == 3
    assert sorted(f.timer_id for f, _ in queue.sent) == [f"t{n}" for n in range(6)]
    assert letters.look("alice").items == []


def test_redrive_of_a_raced_firing_runs_it_unclaimed() -> None:
    clock = FixedClock(T0)
    queue = InMemoryDispatchQueue(clock)
    letters = DeadLetters(store=InMemoryDeadLetterStore(), queue=queue, clock=clock)
    letters.record(Firing("alice", "t", 1, T0, raced=True), error="e", attempts=5)
    letters.redrive("alice")
    ((firing, _),) = queue.sent
    assert not firing.raced


def test_retry_rule_backs_off_exponentially_to_the_cap() -> None:
    rule = RetryRule(max_attempts=12, base_s=10)
    assert [rule.delay_s(a) for a in (1, 2, 3, 7, 8, 11)] == [10, 20, 40, 640, 900, 900]
    assert (rule.final(11), rule.final(12)) == (False, True)
