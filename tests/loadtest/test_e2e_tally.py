"""The e2e scenario's books: what each timer must fire and when (jitter offsets from the API),
and how arrivals count (early and late against the jittered time, after a stop or completion)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from loadtest import e2e_mix
from loadtest.e2e_mix import Plan
from loadtest.e2e_tally import STOP_SLACK_S, tally
from loadtest.stack import Received
from timer_service.clock import format_utc
from timer_service.jitter import jitter_offset
from timer_service.models import SchedulePreviewRequest
from timer_service.testing import OWNER, JobHarness
from timer_service.views import SchedulePreview

BASE_S = 1_900_000_020  # a window's first second


class _Api:
    """The two calls a plan makes, answered by the real service in memory as the caller."""

    def __init__(self, harness: JobHarness) -> None:
        self._harness = harness
        self.previews = 0

    def preview(self, body: dict[str, Any]) -> SchedulePreview:
        self.previews += 1
        request = SchedulePreviewRequest.model_validate(body)
        return self._harness.service.preview(request, OWNER)


def _arrival(timer_id: str, scheduled_s: int, at_s: float) -> Received:
    body = {"timerId": timer_id, "scheduledAt": format_utc(scheduled_s)}
    return Received(f"/{timer_id}", {}, json.dumps(body).encode(), at_s)


def _tally(plans: dict[str, Plan], arrivals: list[Received], **stopped: Any) -> dict[str, Any]:
    receiver = SimpleNamespace(requests=arrivals)
    return tally(plans, stopped, receiver, BASE_S, BASE_S + 60)  # type: ignore[arg-type]


def test_plan_of_a_jittered_second_rate_has_every_firing_s_offset_as_the_service_derives_it() -> (
    None
):
    # GIVEN a jittered rate(1 second) timer created before the window: its answer shows 5 runs
    harness = JobHarness(start_s=BASE_S - 30)
    view = harness.put(
        "jit-1",
        jobType="webhook",
        job={"url": "http://127.0.0.1:9/h"},
        schedule="rate(1 second)",
        startAt=format_utc(BASE_S),
        jitterSeconds=30,
    )
    api = _Api(harness)
    # WHEN the harness plans its window
    plan = e2e_mix.plan_of(api, view, BASE_S, BASE_S + 60)  # type: ignore[arg-type]
    # THEN it fires every second of the window, each at its own offset (the rest from previews)
    assert plan.fires == list(range(BASE_S, BASE_S + 60))
    expected = {s: jitter_offset(OWNER, "jit-1", s, 30) for s in plan.fires}
    assert plan.offsets == expected and len(set(expected.values())) > 1
    assert api.previews == 3  # 55 firings past the answer's 5, 20 a preview
    assert plan.second_rate and plan.max_firings is None


def test_plan_of_a_max_firings_timer_holds_all_its_firings_and_its_last() -> None:
    # GIVEN a rate(5 seconds) timer with maxFirings 4 and onComplete delete
    harness = JobHarness(start_s=BASE_S - 30)
    view = harness.put(
        "max-1",
        jobType="webhook",
        job={"url": "http://127.0.0.1:9/h"},
        schedule="rate(5 seconds)",
        startAt=format_utc(BASE_S + 2),
        maxFirings=4,
        onComplete="delete",
    )
    # WHEN planned
    plan = e2e_mix.plan_of(_Api(harness), view, BASE_S, BASE_S + 60)  # type: ignore[arg-type]
    # THEN its four firings, nothing after the fourth
    assert plan.fires == [BASE_S + 2 + 5 * k for k in range(4)]
    assert (plan.max_firings, plan.on_complete, plan.last_s) == (4, "delete", BASE_S + 17)


def test_tally_measures_a_jittered_firing_against_its_offset_not_its_scheduled_second() -> None:
    # GIVEN two firings of a timer jittered by 7 s, one arriving before its offset
    plans = {"jit-1": Plan([BASE_S, BASE_S + 10], BASE_S + 60, 10, offsets={BASE_S: 7})}
    arrivals = [
        _arrival("jit-1", BASE_S, BASE_S + 3.0),
        _arrival("jit-1", BASE_S + 10, BASE_S + 10.2),
    ]
    # WHEN tallied
    figures = _tally(plans, arrivals)
    # THEN the first is early (3 s after scheduledAt, 4 s before it was due), the second on time
    assert figures["early"] == 1 and figures["lost"] == 0
    assert figures["lateness_ms"]["max"] == 200.0
    assert figures["lateness_ms_by_kind"]["jit"]["firings"] == 2
    assert figures["jittered_firings"] == 2 and figures["second_rate_firings"] == 2


def test_tally_counts_a_firing_past_max_firings_as_after_completion() -> None:
    # GIVEN a maxFirings 2 timer whose two firings came, then a third
    plans = {"max-1": Plan([BASE_S, BASE_S + 1], BASE_S + 2, 1, 2, "keep")}
    arrivals = [_arrival("max-1", BASE_S + n, BASE_S + n + 0.1) for n in range(3)]
    # WHEN tallied
    figures = _tally(plans, arrivals)
    # THEN it ran exactly its two, and one fired after completion
    assert figures["max_firings_ran_exactly"] == figures["max_firings_timers"] == 1
    assert figures["fired_after_completion"] == 1 and figures["duplicates"] == 0


def test_tally_splits_a_deleted_timer_s_firings_at_its_delete() -> None:
    # GIVEN a rate(1 second) timer deleted at BASE_S + 30 (the call took 0.5 s)
    plans = {"sec-1": Plan(list(range(BASE_S, BASE_S + 60)), BASE_S + 60, 1)}
    stop_s = BASE_S + 30.0
    arrivals = [_arrival("sec-1", s, s + 0.1) for s in range(BASE_S, BASE_S + 31)]
    arrivals += [_arrival("sec-1", BASE_S + 40, BASE_S + 40.1)]  # after the delete answered
    arrivals += [_arrival("sec-1", BASE_S + 5, BASE_S + 5.2)]  # a duplicate
    # WHEN tallied
    figures = _tally(plans, arrivals, **{"sec-1": (stop_s, stop_s + 0.5)})
    # THEN those due before the delete (less its slack) were expected, one came after it
    assert figures["firings_expected"] == 30 - STOP_SLACK_S
    assert figures["lost"] == 0
    assert figures["fired_after_delete"] == 1 and figures["duplicates"] == 1


def test_tally_counts_a_missing_firing_as_lost() -> None:
    # GIVEN a one-shot that never arrived
    plans = {"one-1": Plan([BASE_S + 3], BASE_S + 60)}
    # WHEN tallied
    figures = _tally(plans, [])
    # THEN it is lost, named, and there is no lateness to show
    assert (figures["lost"], figures["firings_received"], figures["lateness_ms"]) == (1, 0, {})
    assert figures["lost_sample"] == [f"one-1@{format_utc(BASE_S + 3)}"]
