"""Labels on a fixed clock: the rules a label obeys (a refusal names the label), and a change of
labels alone that leaves every firing as it was: no phase change, the maxFirings count kept,
nothing sent again, and a firing already on its way (or being retried) still runs, once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from tests.unit.test_completion import deliver_minutes
from tests.unit.world import T0, World
from timer_service.errors import InvalidRequestError
from timer_service.job_types import JobContext, JobType
from timer_service.labels import MAX_LABELS, check_labels, parse_selector, relabelled
from timer_service.models import TimerSpec


def runs_of(world: World, timer_id: str) -> Counter[int]:
    return Counter({s: n for (tid, s), n in world.runs.items() if tid == timer_id})


# --- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ({"Team": "payments"}, "labels.Team"),  # upper case in a key
        ({"-team": "payments"}, "labels.-team"),  # not starting with a letter or digit
        ({"k" * 64: "v"}, "labels." + "k" * 64),
        ({"team": "x" * 64}, "labels.team"),
        ({"team": "a b"}, "labels.team"),
        ({"team": "a=b"}, "labels.team"),
        ({"team": 7}, "labels.team"),
        ({f"k{n}": "v" for n in range(MAX_LABELS + 1)}, "labels"),
    ],
)
def test_a_label_against_the_rules_is_refused_naming_it(labels: dict[str, Any], field: str) -> None:
    # WHEN the labels are checked, by the core or as a PUT body
    with pytest.raises(InvalidRequestError) as raised:
        check_labels(labels)
    # THEN the error names the label (the map, for too many)
    assert raised.value.field == field
    with pytest.raises(ValidationError) as invalid:
        TimerSpec.model_validate({"labels": labels})
    where = [str(part) for part in invalid.value.errors()[0]["loc"] if part != "[key]"]
    assert ".".join(where) == field


def test_labels_within_the_rules_are_kept_as_given() -> None:
    labels = {"team": "payments", "app.kubernetes.io/name": "Checkout-2", "empty": ""}
    labels |= {f"k{n}": "v" for n in range(MAX_LABELS - len(labels))}
    assert TimerSpec.model_validate({"labels": labels}).labels == labels
    assert check_labels(labels) == labels


def test_a_selector_needs_key_value_pairs_and_one_value_a_key() -> None:
    assert parse_selector(["team:payments", "url:https://x"]) == {
        "team": "payments",
        "url": "https://x",
    }
    for bad in (["team"], ["Team:x"], ["team:a", "team:b"]):
        with pytest.raises(InvalidRequestError) as raised:
            parse_selector(bad)
        assert raised.value.field == "label"


def test_relabelled_removes_then_sets() -> None:
    assert relabelled({"a": "1", "b": "2"}, put={"b": "3", "c": "4"}, remove=["a", "z"]) == {
        "b": "3",
        "c": "4",
    }


# --- a change of labels alone never moves a firing --------------------------------------------


def test_changing_only_labels_keeps_the_rate_anchor_and_the_max_firings_count() -> None:
    # GIVEN a rate(5 minutes) timer limited to 4 firings, created at 12:00:01; one has run
    world = World()
    body = {"schedule": "rate(5 minutes)", "maxFirings": 4, "jobType": "counted"}
    world.put("t", **body)
    deliver_minutes(world, 3)  # to 12:06:01
    assert runs_of(world, "t") == Counter({T0 + 301: 1})
    before = world.service.get("alice", "t")
    stored = world.store.get_timer("alice", "t")
    assert stored is not None
    # WHEN, two minutes later, only its labels change, twice (as PUT bodies)
    world.clock.advance(120)
    world.put("t", **body, labels={"team": "payments"})
    world.put("t", **body, labels={"team": "billing", "tier": "gold"})
    # THEN it keeps its anchor, its last firing and what is left
    after = world.service.get("alice", "t")
    relabelled_timer = world.store.get_timer("alice", "t")
    assert relabelled_timer is not None
    assert relabelled_timer.first_fire_s == stored.first_fire_s
    assert relabelled_timer.max_fire_s == stored.max_fire_s
    assert (after.firings_left, after.next_fire_times) == (3, before.next_fire_times)
    assert after.labels == {"team": "billing", "tier": "gold"}
    assert after.version == before.version + 2
    # AND it runs at 12:05:01, 12:10:01, 12:15:01 and 12:20:01: 4 firings, then completes
    deliver_minutes(world, 15)
    assert runs_of(world, "t") == Counter({T0 + 1 + 300 * n: 1 for n in range(1, 5)})
    assert world.service.get("alice", "t").state == "completed"


def test_changing_only_labels_sends_nothing_and_writes_no_index_item() -> None:
    # GIVEN a cron timer whose next firing's minute the ticker has claimed and sent
    world = World()
    world.put("c", schedule="cron(* * * * ? *)", jobType="counted")
    world.engine.tick(0)
    sent, index = len(world.queue.sent), {k: dict(v) for k, v in world.store.index.items()}
    # WHEN only its labels change
    world.put("c", schedule="cron(* * * * ? *)", jobType="counted", labels={"env": "prod"})
    # THEN nothing more is sent, its index items are as they were, and each firing runs once
    assert len(world.queue.sent) == sent
    assert world.store.index == index
    world.clock.advance(59)
    world.deliver_sent()
    assert runs_of(world, "c") == Counter({T0 + 60: 1})


class Flaky(BaseModel):
    """The config of the ``flaky`` job type: nothing."""


def test_a_firing_retried_after_a_change_of_labels_still_runs() -> None:
    # GIVEN a timer whose firing at 12:01:00 failed its first attempt
    attempts: Counter[int] = Counter()

    def run(config: Flaky, context: JobContext) -> None:
        attempts[context.attempt] += 1
        if context.attempt == 1:
            raise RuntimeError("the receiver is down")

    world = World(job_types=(JobType(name="flaky", config_model=Flaky, handler=run),))
    world.put("f", schedule="cron(1 12 * * ? *)", jobType="flaky")
    world.engine.tick(0)
    world.clock.advance(59)
    (firing, _), *_ = world.queue.sent
    with pytest.raises(RuntimeError):
        world.delivery.deliver(firing, attempt=1, reads=world.delivery.reads([firing]))
    # WHEN its labels change before the retry
    world.put("f", schedule="cron(1 12 * * ? *)", jobType="flaky", labels={"team": "ops"})
    # THEN the retry runs the job (the firing is still the timer's)
    outcome = world.delivery.deliver(firing, attempt=2, reads=world.delivery.reads([firing]))
    assert outcome.outcome == "delivered"
    assert attempts == Counter({1: 1, 2: 1})


def test_changing_labels_with_the_schedule_moves_the_firings_as_any_change_does() -> None:
    # GIVEN a rate timer sent for its next minute
    world = World()
    world.put("t", schedule="rate(1 minute)", jobType="counted")
    world.engine.tick(0)
    # WHEN its labels and its schedule change
    world.put("t", schedule="rate(2 minutes)", jobType="counted", labels={"team": "x"})
    # THEN the firing sent for the old schedule is stale: it does not run
    world.clock.advance(59)
    assert [d.outcome for d in world.deliver_sent()] == ["stale"]
