"""Firings a tenant's requests send outside its schedules' share of the firing limit: the API's
hand-off of a fast rate's claimed minutes (up to two minutes of firings per write), backfills
and bulk triggers. Each write of a ``rate(1 second)`` timer inside a claimed minute sends its
firings itself; without a bound, replacing one timer in a loop floods the shared queue and
callbacks however low the owner's firing limit is. They are bounded per owner and minute by the
owner's firing limit (at least BURST_FLOOR): past it, a 429 that says when to try again, with
nothing written or sent."""

from __future__ import annotations

import pytest

from tests.unit.world import T0, World
from timer_service.backfill import BackfillRequest
from timer_service.bursts import BURST_FLOOR
from timer_service.errors import FiringBurstExceededError


def api_sent(world: World, owner: str = "alice") -> int:
    return sum(1 for f, _ in world.queue.sent if f.owner == owner)


def test_replacing_a_second_rate_in_a_loop_is_bounded_by_the_firing_limit() -> None:
    # GIVEN a ticker that has claimed this minute and the next
    world = World(max_firings=BURST_FLOOR, start_s=T0 + 30)
    world.put("fast", schedule="rate(1 second)")
    world.tick_all()
    world.queue.sent.clear()
    # WHEN alice replaces the timer again and again inside the minute
    refused = None
    for n in range(100):
        try:
            world.put("fast", schedule="rate(1 second)", timerCallbackData={"n": n})
        except FiringBurstExceededError as exc:
            refused = (n, exc)
            break
    # THEN the hand-offs stop at her limit: a 429-kind error naming the schedule, with a wait
    assert refused is not None, f"{api_sent(world)} firings sent by 100 writes, no refusal"
    n, error = refused
    assert api_sent(world) <= BURST_FLOOR
    assert error.field == "schedule" and 0 < error.retry_after_s <= 60
    # AND the refused write changed nothing: the timer keeps the last payload that was answered
    assert world.store.get_timer("alice", "fast").callback_data == {"n": n - 1}
    # AND another owner's writes are not held back by alice's
    world.put("fast", owner="bob", schedule="rate(1 second)")
    assert api_sent(world, "bob") > 0
    # AND in the next minute alice may write again
    world.clock.set(T0 + 60 + error.retry_after_s)
    world.put("fast", schedule="rate(1 second)", timerCallbackData={"n": "later"})


def test_writes_of_minute_rates_and_crons_take_nothing_from_the_budget() -> None:
    world = World(max_firings=BURST_FLOOR, start_s=T0 + 30)
    world.tick_all()
    writes_before = world.store.writes
    world.put("slow", schedule="rate(1 minute)")
    world.put("cron", schedule="cron(* * * * ? *)")
    plain = World(max_firings=None, start_s=T0 + 30)
    plain.tick_all()
    plain_before = plain.store.writes
    plain.put("slow", schedule="rate(1 minute)")
    plain.put("cron", schedule="cron(* * * * ? *)")
    assert world.store.writes - writes_before == plain.store.writes - plain_before


def test_backfills_past_the_limit_in_one_minute_are_refused_until_the_next() -> None:
    world = World(max_firings=BURST_FLOOR, start_s=T0 + 30)
    world.put("fast", schedule="rate(1 second)", startAt="2026-11-22T10:00:00Z")
    # (its PUT took the most its hand-off may send, to the end of the next minute: 90)
    request = BackfillRequest.model_validate(
        {"from": "2026-11-22T10:00:00Z", "to": "2026-11-22T10:10:00Z"}
    )
    sent = world.service.backfill("alice", "fast", request).backfilled
    with pytest.raises(FiringBurstExceededError) as refused:
        world.service.backfill("alice", "fast", request)
    assert sent == 600 and api_sent(world) == 600
    world.clock.advance(refused.value.retry_after_s)
    assert world.service.backfill("alice", "fast", request).backfilled == 600


def test_the_budget_follows_a_higher_firing_limit() -> None:
    world = World(max_firings=10 * BURST_FLOOR, start_s=T0 + 30)
    world.put("fast", schedule="rate(1 second)", startAt="2026-11-22T10:00:00Z")
    request = BackfillRequest.model_validate(
        {"from": "2026-11-22T10:00:00Z", "to": "2026-11-22T11:00:00Z"}
    )
    for _ in range(5):
        assert world.service.backfill("alice", "fast", request).backfilled == 1000


def test_a_bulk_trigger_past_the_budget_is_refused_whole_and_goes_on_from_its_token() -> None:
    from timer_service.bulk import BulkRequest, run_bulk

    world = World(max_firings=BURST_FLOOR, start_s=T0 + 30)
    for n in range(900):
        world.put(f"t{n:05d}", schedule="rate(1 hour)", labels={"team": "pay"})
    world.put("old", schedule="rate(1 hour)", startAt="2026-01-01T00:00:00Z")
    backfill = BackfillRequest.model_validate(
        {"from": "2026-01-01T00:00:00Z", "to": "2026-01-26T00:00:00Z"}
    )
    assert world.service.backfill("alice", "old", backfill).backfilled == 600
    body: dict[str, object] = {"action": "trigger", "selector": {"team": "pay"}, "limit": 100}
    token, fired = None, 0
    with pytest.raises(FiringBurstExceededError) as refused:  # a 429: the same call again later
        while True:
            result = run_bulk(
                world.service, "alice", BulkRequest.model_validate(body | {"nextToken": token})
            )
            assert not result.failures, result.failures  # never half a slice marked failed
            fired, token = fired + result.changed, result.next_token
    assert fired == BURST_FLOOR - 600 and api_sent(world) == BURST_FLOOR
    world.clock.advance(refused.value.retry_after_s)
    while token is not None:  # the refused slice again, from its token, then the rest
        result = run_bulk(
            world.service, "alice", BulkRequest.model_validate(body | {"nextToken": token})
        )
        fired, token = fired + result.changed, result.next_token
    triggered = {f.timer_id for f, _ in world.queue.sent if f.timer_id != "old"}
    assert fired == 900 == len(triggered) and api_sent(world) == 1_500
