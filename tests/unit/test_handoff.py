"""The hand-off from API and ticker to delivery: every firing runs exactly once, the common
path costs no write, and nothing runs after DELETE or pause returned.

Every interleaving of the API's steps (write, read ``claimed``, send) with the ticker's
(claim, query, send, done) is run deterministically with hooks on the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.world import T0, Counted, World
from timer_service.dispatch import Firing
from timer_service.job_types import JobContext, JobType
from timer_service.store.memory import InMemoryTimerStore

SCHEDULES = {
    "rate": ("rate(1 minute)", T0 + 61),
    "cron": ("cron(* * * * ? *)", T0 + 60),
    "at": ("at(2026-11-22T12:01:30)", T0 + 90),
}
STEPS = ["before_claim", "after_claim", "before_query", "after_query", "before_done", "after_done"]


class HookedStore(InMemoryTimerStore):
    """Runs ``hooks[name]`` once, at the named point of a store call."""

    def __init__(self) -> None:
        super().__init__()
        self.hooks: dict[str, Callable[[], None]] = {}

    def _run(self, name: str) -> None:
        hook = self.hooks.pop(name, None)
        if hook is not None:
            hook()

    def begin_tick(self, *args: Any, **kwargs: Any) -> Any:
        self._run("before_claim")
        state = super().begin_tick(*args, **kwargs)
        self._run("after_claim")
        return state

    def query_index(self, partition: str) -> Any:
        self._run("before_query")
        entries = super().query_index(partition)
        self._run("after_query")
        return entries

    def end_tick(self, *args: Any, **kwargs: Any) -> None:
        self._run("before_done")
        super().end_tick(*args, **kwargs)
        self._run("after_done")

    def save_timer(self, *args: Any, **kwargs: Any) -> None:
        super().save_timer(*args, **kwargs)
        self._run("api_after_write")

    def get_shard_state(self, shard: int) -> Any:
        state = super().get_shard_state(shard)
        self._run("api_after_claim_read")
        return state


def world_with_hooks() -> tuple[World, HookedStore]:
    store = HookedStore()
    return World(store), store


def sent_times(world: World, timer_id: str) -> Counter[int]:
    return Counter(f.scheduled_s for f, _ in world.queue.sent if f.timer_id == timer_id)


def run_counts(world: World, timer_id: str) -> Counter[int]:
    """How often each scheduled second of the timer ran."""
    return Counter({s: n for (t, s), n in world.runs.items() if t == timer_id})


def create(world: World, schedule: str) -> None:
    world.put("t", schedule=schedule, jobType="counted")


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_timer_created_at_any_step_of_a_tick_runs_each_firing_once(step: str, kind: str) -> None:
    # GIVEN a ticker at 12:00:01 claiming minute 12:01, and a timer whose first firing is in it
    world, store = world_with_hooks()
    schedule, first = SCHEDULES[kind]
    # WHEN the API creates the timer at this step of the tick
    store.hooks[step] = lambda: create(world, schedule)
    world.engine.tick(0)
    if ("alice", "t") not in store.timers:
        create(world, schedule)  # the hook never ran (an empty minute is not queried)
    world.deliver_sent()
    world.next_minute()
    for _ in range(3):
        world.engine.tick(0)
        world.deliver_sent()
        world.next_minute()
    # THEN every firing from 12:01 on ran exactly once, whoever sent it and how often
    runs = run_counts(world, "t")
    assert runs[first] == 1, (step, kind, runs)
    assert set(runs.values()) == {1}, (step, kind, runs)


@pytest.mark.parametrize("kind", list(SCHEDULES))
@pytest.mark.parametrize("api_step", ["api_after_write", "api_after_claim_read"])
def test_a_whole_tick_inside_the_api_request_runs_each_firing_once(
    kind: str, api_step: str
) -> None:
    # GIVEN the API has written the timer; WHEN a whole tick runs before it reads `claimed`
    # (or right after) THEN both may send the first firing, and it runs once
    world, store = world_with_hooks()
    schedule, first = SCHEDULES[kind]
    store.hooks[api_step] = lambda: world.engine.tick(0)
    create(world, schedule)
    world.deliver_sent()
    world.next_minute()
    for _ in range(2):
        world.engine.tick(0)
        world.deliver_sent()
        world.next_minute()
    assert run_counts(world, "t")[first] == 1
    assert set(run_counts(world, "t").values()) == {1}
    doubles = [s for s, n in sent_times(world, "t").items() if n > 1]
    for firing, _ in world.queue.sent:
        if firing.scheduled_s in doubles:
            assert firing.raced  # only raced firings are sent twice, and each is claimed


def test_firings_of_timers_made_before_the_race_horizon_cost_no_claim() -> None:
    # GIVEN timers created well before their firings' minutes
    world = World()
    for n in range(20):
        world.put(f"r{n}", schedule="rate(1 minute)", jobType="counted")
        world.put(f"c{n}", schedule="cron(0/5 * * * ? *)", jobType="counted")
    world.clock.set(T0 + 10 * 60 + 1)
    world.engine.tick(0)
    world.deliver_sent()
    world.queue.sent.clear()
    world.delivered = 0
    # WHEN they fire for ten minutes
    for _ in range(10):
        world.next_minute()
        world.engine.tick(0)
        outcomes = world.deliver_sent()
        assert {o.outcome for o in outcomes} == {"delivered"}
    # THEN nothing was raced and delivery wrote no claim
    assert not any(f.raced for f, _ in world.queue.sent)
    assert world.store.claims == {}


def test_a_claimed_firing_that_fails_is_released_for_its_retries() -> None:
    attempts: list[int] = []

    def flaky(config: Any, context: JobContext) -> None:
        attempts.append(context.attempt)
        if len(attempts) == 1:
            raise ConnectionError("target down")

    world = World(job_types=(JobType(name="flaky", config_model=Counted, handler=flaky),))
    world.put("t", schedule="rate(1 hour)", jobType="flaky")
    firing = Firing("alice", "t", 1, T0 + 30, raced=True)
    world.clock.set(T0 + 30)

    def deliver(attempt: int, message_id: str) -> str:
        reads = world.delivery.reads([firing])
        return world.delivery.deliver(
            firing, attempt=attempt, reads=reads, delivery_id=message_id
        ).outcome

    with pytest.raises(ConnectionError):
        deliver(1, "copy-a")
    assert world.store.claims == {}  # released: a retry of either copy may run it
    assert deliver(2, "copy-a") == "delivered"
    assert deliver(1, "copy-b") == "duplicate"
    assert attempts == [1, 2]


# --- nothing runs after DELETE or pause returned ------------------------------------------------


@pytest.mark.parametrize("before_s", [1.0, 0.5, 0.1])
@pytest.mark.parametrize("change", ["delete", "pause"])
def test_delete_or_pause_while_the_firing_waits_for_its_second_stops_it(
    before_s: float, change: str
) -> None:
    # GIVEN a firing for 12:00:30 whose message arrives 1.5 s early
    world = World()
    world.put("t", schedule="rate(1 hour)", jobType="counted")
    firing = Firing("alice", "t", 1, T0 + 30)
    world.clock.set(T0 + 28.5)
    reads = world.delivery.reads([firing])

    def sleep(seconds: float) -> None:
        # WHEN the user deletes (or pauses) the timer `before_s` before its second
        world.clock.advance(seconds - before_s)
        if change == "delete":
            world.service.delete("alice", "t")
        else:
            world.service.set_enabled("alice", "t", enabled=False)
        world.clock.advance(before_s)

    reads._sleep = sleep
    outcome = world.delivery.deliver(firing, attempt=1, reads=reads, delivery_id="m1")
    # THEN the firing does not run
    assert outcome.outcome == ("deleted" if change == "delete" else "paused")
    assert world.runs == Counter()


def test_a_batch_due_together_is_read_once_after_its_second() -> None:
    world = World()
    for n in range(5):
        world.put(f"t{n}", schedule="rate(1 hour)", jobType="counted")
    firings = [Firing("alice", f"t{n}", 1, T0 + 30) for n in range(5)]
    world.clock.set(T0 + 29.2)
    reads = world.delivery.reads(firings)
    reads_before = world.store.reads
    for n, firing in enumerate(firings):
        world.delivery.deliver(firing, attempt=1, reads=reads, delivery_id=f"m{n}")
    assert world.store.reads - reads_before == 1
    assert world.clock.now() == T0 + 30
    assert sum(world.runs.values()) == 5
