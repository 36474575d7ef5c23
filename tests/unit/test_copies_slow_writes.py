"""A write slower than the clocks' slack: a ticker that read the timer's item while it was
under way must not have its copy trusted (issue 22, from the review that broke the first
version)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.test_handoff import HookedStore
from tests.unit.world import T0, Counted, World
from timer_service.job_types import JobContext, JobType

CREATED = T0 - 570


class SlowStore(HookedStore):
    def delete_timer(self, *args: Any, **kwargs: Any) -> Any:
        self._run("api_before_write")
        return super().delete_timer(*args, **kwargs)

    def save_timer(self, *args: Any, **kwargs: Any) -> Any:
        self._run("api_before_write")
        return super().save_timer(*args, **kwargs)


@pytest.mark.parametrize("change", ["delete", "pause", "replace"])
def test_write_slower_than_the_slack_is_missed(change: str) -> None:
    runs: list[tuple[int, Any]] = []

    def run(config: Counted, context: JobContext) -> None:
        runs.append((context.firing.scheduled_s, context.timer.callback_data))

    store = SlowStore()
    w = World(store, start_s=CREATED, job_types=(JobType("recorded", Counted, run),))
    w.put("t", schedule="rate(1 minute)", jobType="recorded", timerCallbackData="v1")
    # GIVEN the API starts the write at 11:59:54 (recorded in the log then) and its write
    # call takes 8 s, during which the ticker of 12:00:01 reads the old item
    w.clock.set(T0 - 6)

    def stall() -> None:
        w.clock.set(T0 + 1.5)
        w.engine.tick(0)
        w.clock.set(T0 + 2)

    store.hooks["api_before_write"] = stall
    if change == "delete":
        w.service.delete("alice", "t")
    elif change == "pause":
        w.service.set_enabled("alice", "t", enabled=False)
    else:
        w.put("t", schedule="rate(1 minute)", jobType="recorded", timerCallbackData="v2")
    # WHEN the 12:00:30 firing is delivered at its second (the write returned at 12:00:02)
    for n, (firing, _) in enumerate(w.queue.sent):
        w.clock.set(max(w.clock.now(), firing.due_s + 0.2))
        w.delivery.deliver(firing, attempt=1, reads=w.delivery.reads([firing]), delivery_id=f"m{n}")
    # THEN it does not run as the old timer
    assert [(s - T0, d) for s, d in runs if d == "v1"] == []
