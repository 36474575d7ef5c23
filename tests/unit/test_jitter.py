"""``jitterSeconds`` on a fixed clock: each firing runs at its scheduled second plus an offset in
``[0, jitterSeconds]`` derived from the timer and that second (EventBridge Scheduler's
"flexible time window", https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-flexible-time-windows.html,
but deterministic): never early, the same after a retry or a restart, and spreading the
timers that share a second."""

from __future__ import annotations

from collections import Counter

from tests.unit.world import T0, World
from timer_service.clock import format_utc
from timer_service.delivery_policy import DeliveryPolicy, Received, RetryRule
from timer_service.dispatch import Firing, InMemoryDispatchQueue
from timer_service.jitter import jitter_offset
from timer_service.messages import MessageSigner
from timer_service.models import SchedulePreviewRequest


def test_offsets_stay_in_the_window_and_spread_over_it() -> None:
    offsets = [jitter_offset("alice", f"t{n}", T0, 60) for n in range(1000)]
    assert min(offsets) >= 0 and max(offsets) <= 60
    counts = Counter(offsets)
    assert len(counts) == 61  # every second of the window is used
    assert max(counts.values()) < 40  # ~16 each: no second takes a crowd


def test_an_offset_is_the_same_in_every_process_and_differs_by_timer_and_time() -> None:
    assert jitter_offset("alice", "t", T0, 300) == jitter_offset("alice", "t", T0, 300)
    assert len({jitter_offset("alice", "t", T0 + 60 * k, 300) for k in range(50)}) > 20
    assert jitter_offset("alice", "t", T0, 0) == 0


def test_ticked_firings_carry_their_offset_and_reach_the_queue_not_before_it() -> None:
    # GIVEN 200 timers due at the same seconds, with a 60-second window
    world = World()
    for n in range(200):
        world.put(f"t{n}", schedule="rate(1 minute)", jitterSeconds=60)
    world.run_minutes(2)
    sent = [(f, visible) for f, visible in world.queue.sent]
    assert sent
    for firing, visible in sent:
        offset = jitter_offset("alice", firing.timer_id, firing.scheduled_s, 60)
        # THEN each runs at scheduled + its own offset, visible at most 1 s before that
        assert firing.jitter_s == offset and firing.due_s == firing.scheduled_s + offset
        assert visible >= firing.due_s - 1
        # AND its id is still the scheduled second's (a retry or a restart dedupes on it)
        assert firing.firing_id == f"alice#{firing.timer_id}@{format_utc(firing.scheduled_s)}"
    # AND timers that share a second no longer land together
    first_second = min(f.scheduled_s for f, _ in sent)
    dues = Counter(f.due_s for f, _ in sent if f.scheduled_s == first_second)
    assert len(dues) > 40 and max(dues.values()) < 20


def test_a_jittered_firing_runs_at_its_offset_not_its_scheduled_second() -> None:
    # GIVEN a jittered timer whose firing the ticker sent
    world = World()
    world.put("j", schedule="rate(1 minute)", jitterSeconds=30, jobType="counted")
    while not any(f.jitter_s > 1 for f, _ in world.queue.sent):
        world.run_minutes(1)
    firing = next(f for f, _ in world.queue.sent if f.jitter_s > 1)
    # WHEN delivery gets it a second before its jittered second
    world.clock.set(firing.due_s - 1)
    reads = world.delivery.reads([firing])
    result = world.delivery.deliver(firing, attempt=1, reads=reads)
    # THEN it waited for that second before running
    assert result.outcome == "delivered"
    assert world.clock.now() >= firing.due_s
    assert world.runs[("j", firing.scheduled_s)] == 1


def test_a_firing_jittered_past_sqs_longest_delay_is_sent_on_not_run_early() -> None:
    # GIVEN a firing due 14 minutes after its scheduled second and a message arriving 15
    # minutes early (SQS holds a message at most 900 s)
    world = World()
    world.put("j", schedule="rate(1 hour)", jitterSeconds=900, jobType="counted")
    timer = world.store.get_timer("alice", "j")
    assert timer is not None
    firing = Firing("alice", "j", timer.version, scheduled_s=T0 + 3600, jitter_s=840)
    world.clock.set(T0 + 3600 - 60)
    queue = InMemoryDispatchQueue(world.clock)
    signer = MessageSigner("k" * 32)
    policy = DeliveryPolicy(
        delivery=world.delivery,
        queue=queue,
        dead_letters=None,  # type: ignore[arg-type]  # nothing is dead-lettered here
        signer=signer,
        rule=RetryRule(),
    )
    body = firing.to_message()
    failed = policy.handle([Received("m1", body, signer.sign(body))])
    # THEN it did not run; it went back on the queue for the rest of its wait, same attempt
    assert failed == [] and world.runs == Counter()
    [(again, attempts_before, visible)] = queue.retried
    assert again == firing and attempts_before == 0
    assert visible == firing.due_s


def test_preview_shows_when_a_jittered_timers_firings_will_run() -> None:
    world = World()
    request = SchedulePreviewRequest.model_validate(
        {"schedule": "rate(1 hour)", "jitterSeconds": 600, "id": "nightly", "count": 3}
    )
    preview = world.service.preview(request, "alice")
    assert preview.next_run_times is not None
    world.put("nightly", schedule="rate(1 hour)", jitterSeconds=600)
    view = world.service.get("alice", "nightly")
    assert view.next_run_times is not None
    assert view.next_run_times[:3] == preview.next_run_times  # the timer's own offsets
    assert view.next_run_times != view.next_fire_times
    anonymous = SchedulePreviewRequest.model_validate(
        {"schedule": "rate(1 hour)", "jitterSeconds": 600}
    )
    assert world.service.preview(anonymous).next_run_times is None  # no id: no offsets
