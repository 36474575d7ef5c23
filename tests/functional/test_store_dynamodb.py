"""The DynamoDB store on the embedded endpoint: transactions all or nothing, conflicts answered
by the write itself, a missing table a clear error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ApiCall, AwsResources
from timer_service.clock import FixedClock
from timer_service.errors import StoreMisconfiguredError, VersionConflictError
from timer_service.job_types import JobTypeRegistry
from timer_service.models import TimerSpec
from timer_service.rebalance import Rebalancer
from timer_service.service import TimerService
from timer_service.store.dynamodb import DynamoTimerStore

T0 = 1_795_348_800


@pytest.fixture
def store(aws: AwsResources) -> DynamoTimerStore:
    from timer_service.aws import client

    return DynamoTimerStore(client("dynamodb", "us-east-1", aws.endpoint_url), aws.table)


def service(store: DynamoTimerStore, clock: FixedClock) -> TimerService:
    return TimerService(store=store, clock=clock, job_types=JobTypeRegistry.from_entry_points())


def test_failed_move_changes_nothing(store: DynamoTimerStore, aws: AwsResources) -> None:
    # GIVEN a rate timer on some shard, and a target shard that has claimed far ahead
    clock = FixedClock(T0 + 5)
    service(store, clock).put(
        "alice", "t", TimerSpec.model_validate({"schedule": "rate(5 minutes)"})
    )
    timer = store.get_timer("alice", "t")
    assert timer is not None
    target = timer.shard + 1
    store.begin_tick(target, token="x", now_s=T0, lease_s=1, claim=10**9, first=1)
    store.end_tick(target, token="x", done=10**9)
    before = aws.scan()
    # WHEN the move transaction fails on its last condition, after updating the timer
    assert not Rebalancer(store=store, clock=clock).move(timer, target)
    # THEN every item is as it was (the timer's shard included), but for the change log's
    # entries, made before the write whether it lands or not (they only send firings in
    # flight to a read of the timer)
    assert [i for i in aws.scan() if not i["pk"]["S"].startswith("chg#")] == before


def test_concurrent_create_loses_with_a_conflict(store: DynamoTimerStore) -> None:
    clock = FixedClock(T0 + 5)
    first = service(store, clock)
    timer_spec = TimerSpec.model_validate({"schedule": "rate(5 minutes)"})
    first.put("alice", "t", timer_spec)
    timer = store.get_timer("alice", "t")
    assert timer is not None
    with pytest.raises(VersionConflictError):
        store.save_timer(timer, expected_version=None, remove=[], index=None)
    assert store.get_timer("alice", "t") == timer


def test_rate_bases_are_marked_unmarked_and_retired_in_dynamodb(store: DynamoTimerStore) -> None:
    from timer_service.dispatch import InMemoryDispatchQueue
    from timer_service.tick import TickEngine

    # GIVEN rate timers under bases 1 and 60 on shard 0, ticked by a ticker on DynamoDB
    clock = FixedClock(T0 + 1)
    api = service(store, clock)
    for timer_id, schedule in (("seven", "rate(7 minutes)"), ("hourly", "rate(1 hour)")):
        api.put("alice", timer_id, TimerSpec.model_validate({"schedule": schedule}))
    queue = InMemoryDispatchQueue(clock)
    engine = TickEngine(store=store, queue=queue, clock=clock)

    def tick(minutes: int) -> None:
        for _ in range(minutes):
            engine.tick(0)
            clock.set((int(clock.now()) // 60 + 1) * 60 + 1)

    tick(2)
    state = store.get_shard_state(0)
    assert state.bases == frozenset({7, 60})
    assert 60 in state.retiring  # its slot not read yet: marked, not retired
    # WHEN the 7-minute timer goes
    api.delete("alice", "seven")
    tick(2)
    assert 7 in store.get_shard_state(0).retiring
    tick(10)
    # THEN base 7 is retired; base 60 is unmarked when its slot comes round, and stays
    assert store.get_shard_state(0).bases == frozenset({60})
    tick(60)
    assert store.get_shard_state(0).bases == frozenset({60})
    assert any(f.timer_id == "hourly" for f, _ in queue.sent)
    # AND a new timer under a retiring base clears the mark and brings it back
    api.put("alice", "again", TimerSpec.model_validate({"schedule": "rate(7 minutes)"}))
    state = store.get_shard_state(0)
    assert 7 in state.bases and 7 not in state.retiring


class Calls:
    """The DynamoDB operations a client makes (botocore's before-call event), and HTTP sends."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        self.sends = 0
        self._client = client
        client.meta.events.register("before-call.dynamodb", self._called)
        client.meta.events.register("before-send.dynamodb", self._sent)

    def _called(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    def _sent(self, **_: Any) -> None:
        self.sends += 1

    def remove(self) -> None:
        self._client.meta.events.unregister("before-call.dynamodb", self._called)
        self._client.meta.events.unregister("before-send.dynamodb", self._sent)


@pytest.fixture
def calls(store: DynamoTimerStore) -> Iterator[Calls]:
    counted = Calls(store._client)
    yield counted
    counted.remove()


def test_conflicts_name_the_actual_version_without_another_read(
    store: DynamoTimerStore, calls: Calls
) -> None:
    # GIVEN a timer at version 1 (moto returns the item with a failed condition, ALL_OLD)
    clock = FixedClock(T0 + 5)
    service(store, clock).put(
        "alice", "t", TimerSpec.model_validate({"schedule": "rate(5 minutes)"})
    )
    timer = store.get_timer("alice", "t")
    assert timer is not None
    calls.operations.clear()
    # WHEN writes hold it to other versions: a lone put, a transaction, a delete
    bumped = timer.model_copy(update={"version": 9})
    for write in (
        lambda: store.save_timer(bumped, expected_version=5, remove=[], index=None),
        lambda: store.save_timer(bumped, expected_version=None, remove=[], index=None),
        lambda: store.delete_timer("alice", "t", expected_version=5, remove=[]),
    ):
        with pytest.raises(VersionConflictError) as raised:
            write()
        # THEN each conflict names version 1, answered by the write itself
        assert raised.value.actual == 1
    assert calls.operations == ["PutItem", "TransactWriteItems", "TransactWriteItems"]


def test_missing_table_is_misconfigured_after_one_request(
    store: DynamoTimerStore, aws: AwsResources, calls: Calls
) -> None:
    store._client.delete_table(TableName=aws.table)
    calls.sends = 0
    with pytest.raises(StoreMisconfiguredError, match="'timers-test' does not exist"):
        store.get_timer("alice", "t")
    assert calls.sends == 1  # not retried


def test_api_missing_table_answers_500_naming_it(
    store: DynamoTimerStore, aws: AwsResources, call_api: ApiCall, calls: Calls
) -> None:
    # GIVEN the API configured with a table that does not exist
    store._client.delete_table(TableName=aws.table)
    calls.sends = 0
    # WHEN a client reads a timer
    response = call_api("GET", "/periodic/t")
    # THEN a server fault that names the table, and no 503 asking to retry later
    assert response.status == 500
    assert response.body["error"]["code"] == "store_misconfigured"
    assert "'timers-test'" in response.body["error"]["message"]
    assert calls.sends == 1
