"""Run history: what each policy keeps, what it costs, and how runs are paged."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from timer_service.delivery import Delivery
from timer_service.errors import InvalidRequestError, TimerNotFoundError
from timer_service.job_types import (
    JobContext,
    JobResult,
    JobType,
    JobTypeRegistry,
    PermanentJobError,
)
from timer_service.runs import HISTORY_POLICIES, HistoryPolicy, RunOutcome, records
from timer_service.testing import OWNER, JobHarness, NoAwsClients


class ScriptedJob(BaseModel):
    """A job whose outcome the test chooses: ``outcome``, or ``raise`` / ``permanent``."""

    model_config = ConfigDict(extra="forbid")

    outcome: str = "ok"


def scripted(config: ScriptedJob, context: JobContext) -> JobResult | None:
    if config.outcome == "raise":
        raise ConnectionError("target unreachable")
    if config.outcome == "permanent":
        raise PermanentJobError("target refused the call")
    if config.outcome == "none":
        return None
    return JobResult(outcome=config.outcome, summary=f"did {config.outcome}")  # type: ignore[arg-type]


SCRIPTED = JobType(name="scripted", config_model=ScriptedJob, handler=scripted)


def world(**fields: Any) -> JobHarness:
    harness = JobHarness([SCRIPTED])
    harness.put("t", jobType="scripted", **fields)
    return harness


def fire_as(harness: JobHarness, outcome: str, **fire: Any) -> Any:
    current = harness.store.get_timer(OWNER, "t")
    assert current is not None
    harness.put("t", jobType="scripted", job={"outcome": outcome}, history=current.history)
    return harness.fire("t", **fire)


EXPECTED: dict[HistoryPolicy, set[RunOutcome]] = {
    "all": {"ok", "changed", "unchanged", "error", "skipped"},
    "changes-and-errors": {"changed", "error"},
    "errors": {"error"},
    "none": set(),
}


@pytest.mark.parametrize("policy", HISTORY_POLICIES)
@pytest.mark.parametrize("outcome", ["ok", "changed", "unchanged", "error"])
def test_each_policy_keeps_exactly_its_outcomes(policy: HistoryPolicy, outcome: str) -> None:
    harness = world(history=policy)
    run = fire_as(harness, outcome)
    kept = outcome in EXPECTED[policy]
    assert (run is not None) == kept == records(policy, outcome)  # type: ignore[arg-type]
    if run is not None:
        assert (run.outcome, run.summary) == (outcome, f"did {outcome}")


def test_a_policy_that_does_not_record_costs_no_write_per_firing() -> None:
    harness = world(history="errors", job={"outcome": "ok"})
    writes_before = harness.store.writes
    for _ in range(20):
        harness.fire("t")
    assert harness.store.writes == writes_before
    assert harness.runs("t") == []


def test_a_raised_error_is_recorded_with_its_reason_and_what_happens_next() -> None:
    harness = world(history="errors", job={"outcome": "raise"})
    first = harness.fire("t", attempt=1)
    assert isinstance(harness.last_error, ConnectionError)
    assert first is not None and first.outcome == "error"
    assert first.summary == "ConnectionError: target unreachable (attempt 1; will retry)"
    last = harness.fire("t", attempt=5)
    assert last is not None
    assert last.summary.endswith("(attempt 5; to the dead-letter queue)")
    permanent = fire_as(harness, "permanent")
    assert permanent.summary == "target refused the call (attempt 1; to the dead-letter queue)"


def test_a_handler_that_returns_nothing_ran_ok() -> None:
    run = fire_as(world(history="all"), "none")
    assert run is not None and run.outcome == "ok"


def test_skipped_firing_of_a_paused_timer_is_kept_by_all() -> None:
    harness = world(history="all")
    harness.service.set_enabled(OWNER, "t", enabled=False)
    run = harness.fire("t")
    assert run is not None
    assert (run.outcome, run.summary) == ("skipped", "not run: the timer is paused")
    manual = harness.fire("t", manual=True)  # a trigger runs a paused timer
    assert manual is not None and manual.outcome == "ok" and manual.manual


def test_runs_are_listed_newest_first_a_page_at_a_time() -> None:
    harness = world(history="all")
    fired = [harness.fire("t") for _ in range(5)]
    first = harness.service.runs(OWNER, "t", limit=2)
    assert [r.firing_id for r in first.items] == [fired[4].firing_id, fired[3].firing_id]
    assert first.next_token is not None
    second = harness.service.runs(OWNER, "t", limit=2, next_token=first.next_token)
    third = harness.service.runs(OWNER, "t", limit=2, next_token=second.next_token)
    assert [r.firing_id for r in second.items + third.items] == [
        fired[2].firing_id,
        fired[1].firing_id,
        fired[0].firing_id,
    ]
    assert third.next_token is None


def test_a_timer_created_again_under_its_id_starts_an_empty_history() -> None:
    harness = world(history="all")
    harness.fire("t")
    harness.service.delete(OWNER, "t")
    harness.advance(5)
    harness.put("t", jobType="scripted", history="all")
    assert harness.service.runs(OWNER, "t").items == []


def test_another_owner_cannot_read_the_runs() -> None:
    harness = world(history="all")
    harness.fire("t")
    with pytest.raises(TimerNotFoundError):
        harness.service.runs("someone-else", "t")


@pytest.mark.parametrize("token", ["", "not-a-token!", "123", "1-x-2", "12-m-12345"])
def test_a_token_the_api_did_not_issue_is_refused(token: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        world().service.runs(OWNER, "t", next_token=token)
    assert refused.value.field == "nextToken"


def test_an_uninstalled_job_type_fails_permanently_and_says_so() -> None:
    harness = world(history="errors")
    harness.delivery = Delivery(  # the callbacks, after the plugin was uninstalled
        store=harness.store,
        job_types=JobTypeRegistry([]),
        clock=harness.clock,
        settings=harness.settings,
        client=NoAwsClients(),
    )
    run = harness.fire("t")
    assert isinstance(harness.last_error, PermanentJobError)
    assert run is not None
    assert run.summary.startswith("job type 'scripted' cannot run: unknown job type")
