"""A timer's ``catchUpWindow`` through the API and DynamoDB to the ticker, on moto."""

from __future__ import annotations

from tests.conftest import ApiCall, AwsResources


def test_catch_up_window_is_stored_shown_and_bounds_the_tickers_catch_up(
    call_api: ApiCall, aws: AwsResources
) -> None:
    from timer_service.aws import client
    from timer_service.clock import FixedClock
    from timer_service.dispatch import InMemoryDispatchQueue
    from timer_service.job_types import JobTypeRegistry
    from timer_service.service import TimerService
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service.tick import TickEngine

    # GIVEN a fireAll timer with a 5-minute catch-up window, stored in DynamoDB
    store = DynamoTimerStore(client("dynamodb", "us-east-1", aws.endpoint_url), aws.table)
    t0 = 1_893_456_000  # 2030-01-01T00:00:00Z
    clock = FixedClock(t0 + 1)
    queue = InMemoryDispatchQueue(clock)
    service = TimerService(
        store=store, clock=clock, job_types=JobTypeRegistry.from_entry_points(), queue=queue
    )
    from timer_service.models import TimerSpec

    spec = {"schedule": "rate(1 minute)", "misfirePolicy": "fireAll", "catchUpWindow": 300}
    view = service.put("alice", "r", TimerSpec.model_validate(spec)).view
    assert view.catch_up_window == 300
    engine = TickEngine(store=store, queue=queue, clock=clock)
    engine.tick(0)
    # WHEN the ticker is down for 30 minutes, then ticks
    queue.sent.clear()
    clock.set(t0 + 31 * 60 + 1)
    report = engine.tick(0)
    # THEN only the late firings inside the window are sent, a second apart
    late = sorted((f.scheduled_s, at) for f, at in queue.sent if f.scheduled_s < clock.now() - 60)
    assert [s for s, _ in late] == [t0 + 60 * m + 1 for m in range(26, 30)]
    assert [at - clock.now() for _, at in late] == [0, 1, 2, 3]
    assert report.not_sent == 24


def test_catch_up_window_round_trips_through_the_api(call_api: ApiCall) -> None:
    body = {"misfirePolicy": "fireAll", "catchUpWindow": 900}
    created = call_api("PUT", "/periodic/w", body)
    assert created.status == 201, created.body
    assert call_api("GET", "/periodic/w").body["catchUpWindow"] == 900
    plain = call_api("PUT", "/periodic/plain", {})
    assert plain.body["catchUpWindow"] is None
