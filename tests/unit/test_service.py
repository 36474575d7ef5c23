"""TimerService on the in-memory store with a fixed clock: what API callers see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from timer_service.clock import FixedClock
from timer_service.errors import InvalidRequestError, TimerNotFoundError, VersionConflictError
from timer_service.job_types import JobTypeRegistry
from timer_service.keys import minute_partition, rate_partition
from timer_service.models import ShardRegistry, TimerSpec
from timer_service.service import TimerService
from timer_service.store.memory import InMemoryTimerStore

NOW = int(datetime(2026, 11, 22, 12, 0, 37, tzinfo=UTC).timestamp())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store() -> InMemoryTimerStore:
    return InMemoryTimerStore()


@pytest.fixture
def service(store: InMemoryTimerStore, clock: FixedClock) -> TimerService:
    return TimerService(store=store, clock=clock, job_types=JobTypeRegistry.from_entry_points())


def spec(**fields: Any) -> TimerSpec:
    return TimerSpec.model_validate(fields)


def index_items(store: InMemoryTimerStore) -> dict[str, list[str]]:
    return {pk: sorted(part) for pk, part in store.index.items()}


def test_put_new_timer_is_created_with_version_1(service: TimerService) -> None:
    result = service.put("alice", "t1", spec(timerCallbackData={"a": 1}))
    assert result.created
    view = result.view
    assert (view.id, view.version, view.schedule, view.job_type) == (
        "t1",
        1,
        "rate(1 minute)",
        "sqs",
    )
    assert view.timer_callback_data == {"a": 1}
    assert view.created_at == view.updated_at == "2026-11-22T12:00:37Z"


def test_put_rate_timer_fires_on_the_second_of_its_creation(service: TimerService) -> None:
    view = service.put("alice", "t1", spec(schedule="rate(5 minutes)")).view
    assert view.next_fire_times == [
        "2026-11-22T12:05:37Z",
        "2026-11-22T12:10:37Z",
        "2026-11-22T12:15:37Z",
        "2026-11-22T12:20:37Z",
        "2026-11-22T12:25:37Z",
    ]


def test_put_writes_the_rate_index_item_the_ticker_reads(
    service: TimerService, store: InMemoryTimerStore
) -> None:
    view = service.put("alice", "t1", spec(schedule="rate(5 minutes)")).view
    first_minute = (NOW + 300) // 60
    pk = rate_partition(view.shard_id, 5, first_minute % 5)
    assert view.time_shard_id == pk
    assert index_items(store) == {pk: ["37#alice#t1"]}


def test_put_cron_timer_indexes_its_next_minute(
    service: TimerService, store: InMemoryTimerStore
) -> None:
    view = service.put("alice", "c1", spec(schedule="cron(0 13 * * ? *)")).view
    fire_s = int(datetime(2026, 11, 22, 13, 0, tzinfo=UTC).timestamp())
    assert view.next_fire_times[0] == "2026-11-22T13:00:00Z"
    assert index_items(store) == {minute_partition(view.shard_id, fire_s // 60): ["00#alice#c1"]}


def test_replace_bumps_version_and_keeps_created_at(
    service: TimerService, clock: FixedClock
) -> None:
    service.put("alice", "t1", spec())
    clock.advance(10)
    result = service.put("alice", "t1", spec(timerCallbackData="new"))
    assert not result.created
    assert result.view.version == 2
    assert result.view.created_at == "2026-11-22T12:00:37Z"
    assert result.view.updated_at == "2026-11-22T12:00:47Z"


def test_replace_with_same_schedule_keeps_rate_phase(
    service: TimerService, clock: FixedClock
) -> None:
    service.put("alice", "t1", spec(schedule="rate(5 minutes)"))
    clock.advance(100)
    view = service.put("alice", "t1", spec(schedule="rate(5 minutes)", timerCallbackData=2)).view
    assert view.next_fire_times[0] == "2026-11-22T12:05:37Z"


def test_replace_with_new_schedule_reanchors_and_moves_index(
    service: TimerService, clock: FixedClock, store: InMemoryTimerStore
) -> None:
    service.put("alice", "t1", spec(schedule="rate(5 minutes)"))
    clock.advance(100)
    view = service.put("alice", "t1", spec(schedule="rate(2 minutes)")).view
    assert view.next_fire_times[0] == "2026-11-22T12:04:17Z"
    assert list(store.index) == [view.time_shard_id]


def test_put_with_stale_if_match_is_refused_and_changes_nothing(
    service: TimerService, store: InMemoryTimerStore
) -> None:
    service.put("alice", "t1", spec(timerCallbackData=1))
    with pytest.raises(VersionConflictError):
        service.put("alice", "t1", spec(timerCallbackData=2), if_match=7)
    assert service.get("alice", "t1").timer_callback_data == 1


def test_put_with_if_match_on_absent_timer_is_refused(service: TimerService) -> None:
    with pytest.raises(VersionConflictError) as raised:
        service.put("alice", "t1", spec(), if_match=1)
    assert raised.value.message == "timer 't1' does not exist (If-Match expected version 1)"


def test_put_with_matching_if_match_succeeds(service: TimerService) -> None:
    service.put("alice", "t1", spec())
    assert service.put("alice", "t1", spec(), if_match=1).view.version == 2


def test_if_none_match_creates_and_never_replaces(service: TimerService) -> None:
    assert service.put("alice", "t1", spec(timerCallbackData=1), if_none_match=True).created
    with pytest.raises(VersionConflictError) as raised:
        service.put("alice", "t1", spec(timerCallbackData=2), if_none_match=True)
    assert raised.value.field == "If-None-Match"
    assert service.get("alice", "t1").timer_callback_data == 1


class RacingStore(InMemoryTimerStore):
    """Another request writes the timer between this request's read and its write."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races

    def _rival_write(self, owner: str, timer_id: str, like: Any) -> None:
        if self.races:
            self.races -= 1
            current = self.timers.get((owner, timer_id))
            version = 1 if current is None else current.version + 1
            rival = (current or like).model_copy(
                update={"version": version, "callback_data": "theirs"}
            )
            super().save_timer(
                rival,
                expected_version=None if current is None else current.version,
                remove=[],
                index=None,
                count_limit=None,
            )

    def save_timer(self, timer: Any, **kwargs: Any) -> None:
        self._rival_write(timer.owner, timer.id, timer)
        super().save_timer(timer, **kwargs)

    def delete_timer(self, owner: str, timer_id: str, **kwargs: Any) -> None:
        self._rival_write(owner, timer_id, self.timers[(owner, timer_id)])
        super().delete_timer(owner, timer_id, **kwargs)


@pytest.mark.parametrize("races", [1, 2])
def test_a_put_without_precondition_that_loses_a_race_is_applied_over_it(
    clock: FixedClock, races: int
) -> None:
    store = RacingStore(races)
    service = TimerService(store=store, clock=clock, job_types=JobTypeRegistry.from_entry_points())
    result = service.put("alice", "t1", spec(timerCallbackData="mine"))
    assert service.get("alice", "t1").timer_callback_data == "mine"
    assert result.view.version == races + 1


def test_a_pause_or_delete_without_a_version_that_loses_a_race_is_applied_over_it(
    clock: FixedClock,
) -> None:
    store = RacingStore(0)
    service = TimerService(store=store, clock=clock, job_types=JobTypeRegistry.from_entry_points())
    service.put("alice", "t1", spec())
    store.races = 1
    assert service.set_enabled("alice", "t1", enabled=False).enabled is False
    paused = service.get("alice", "t1")
    assert (paused.version, paused.enabled, paused.timer_callback_data) == (3, False, "theirs")
    store.races = 1
    service.delete("alice", "t1", if_match="*")
    assert service.list("alice").items == []


def test_a_delete_held_to_a_version_that_loses_a_race_is_refused(clock: FixedClock) -> None:
    store = RacingStore(0)
    service = TimerService(store=store, clock=clock, job_types=JobTypeRegistry.from_entry_points())
    service.put("alice", "t1", spec())
    store.races = 1
    with pytest.raises(VersionConflictError):
        service.delete("alice", "t1", if_match=1)
    assert service.get("alice", "t1").timer_callback_data == "theirs"


def test_a_conditional_put_that_loses_a_race_is_refused(clock: FixedClock) -> None:
    store = RacingStore(1)
    service = TimerService(store=store, clock=clock, job_types=JobTypeRegistry.from_entry_points())
    with pytest.raises(VersionConflictError):
        service.put("alice", "t1", spec(timerCallbackData="mine"), if_none_match=True)


def test_owners_never_see_each_others_timers(service: TimerService) -> None:
    service.put("alice", "shared-id", spec(timerCallbackData="alice's"))
    with pytest.raises(TimerNotFoundError):
        service.get("bob", "shared-id")
    assert service.list("bob").items == []
    service.put("bob", "shared-id", spec(timerCallbackData="bob's"))
    assert service.get("alice", "shared-id").timer_callback_data == "alice's"
    assert service.get("bob", "shared-id").timer_callback_data == "bob's"


def test_list_pages_through_all_timers_in_id_order(service: TimerService) -> None:
    ids = [f"t{n:02d}" for n in range(7)]
    for timer_id in reversed(ids):
        service.put("alice", timer_id, spec())
    seen: list[str] = []
    token = None
    while True:
        page = service.list("alice", limit=3, next_token=token)
        seen += [item.id for item in page.items]
        token = page.next_token
        if token is None:
            break
    assert seen == ids


def test_list_rejects_a_forged_token(service: TimerService) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        service.list("alice", next_token="%%%")
    assert raised.value.field == "nextToken"


def test_delete_removes_timer_and_its_index_item(
    service: TimerService, store: InMemoryTimerStore
) -> None:
    service.put("alice", "t1", spec(schedule="rate(5 minutes)"))
    assert service.delete("alice", "t1") == "t1"
    assert store.timers == {}
    assert store.index == {}
    with pytest.raises(TimerNotFoundError):
        service.delete("alice", "t1")


def test_delete_cron_timer_removes_its_pending_minute_item(
    service: TimerService, store: InMemoryTimerStore
) -> None:
    service.put("alice", "c1", spec(schedule="cron(0/15 * * * ? *)"))
    service.delete("alice", "c1")
    assert store.index == {}


def test_pause_removes_index_item_and_resume_restores_it(
    service: TimerService, store: InMemoryTimerStore
) -> None:
    service.put("alice", "t1", spec(schedule="rate(5 minutes)"))
    before = index_items(store)
    paused = service.set_enabled("alice", "t1", enabled=False)
    assert not paused.enabled
    assert paused.next_fire_times == []
    assert paused.time_shard_id is None
    assert store.index == {}
    resumed = service.set_enabled("alice", "t1", enabled=True)
    assert resumed.enabled
    assert resumed.version == 3
    assert index_items(store) == before


def test_pause_twice_is_a_no_op(service: TimerService) -> None:
    service.put("alice", "t1", spec())
    first = service.set_enabled("alice", "t1", enabled=False)
    second = service.set_enabled("alice", "t1", enabled=False)
    assert first.version == second.version == 2


def test_naive_start_at_is_local_to_the_timer_time_zone(service: TimerService) -> None:
    view = service.put(
        "alice",
        "t1",
        spec(schedule="rate(1 day)", timezone="Asia/Tokyo", startAt="2027-01-01T09:00:00"),
    ).view
    assert view.start_at == "2027-01-01T00:00:00Z"
    assert view.next_fire_times[0] == "2027-01-01T00:00:00Z"


def test_at_in_the_past_is_refused(service: TimerService, store: InMemoryTimerStore) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        service.put("alice", "t1", spec(schedule="at(2020-01-01T00:00:00)"))
    assert raised.value.field == "schedule"
    assert store.timers == {}


def test_end_at_in_the_past_is_refused(service: TimerService) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        service.put("alice", "t1", spec(endAt="2020-01-01T00:00:00Z"))
    assert raised.value.field == "endAt"


def test_end_before_start_with_mixed_offsets_is_refused(service: TimerService) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        service.put(
            "alice",
            "t1",
            spec(startAt="2027-01-01T10:00:00", endAt="2027-01-01T09:00:00Z", timezone="UTC"),
        )
    assert raised.value.field == "endAt"


@pytest.mark.parametrize(
    ("job_type", "job", "field"),
    [
        ("nope", {}, "jobType"),
        ("webhook", {}, "job.url"),
        ("webhook", {"url": "ftp://example.com"}, "job.url"),
        ("webhook", {"url": "https://example.com", "extra": 1}, "job.extra"),
        ("sqs", {"queueUrl": "not a url"}, "job.queueUrl"),
    ],
)
def test_bad_job_config_names_the_field(
    service: TimerService, store: InMemoryTimerStore, job_type: str, job: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        service.put("alice", "t1", spec(jobType=job_type, job=job))
    assert raised.value.field == field
    assert store.timers == {}


def test_bad_id_is_refused(service: TimerService) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        service.put("alice", "has space", spec())
    assert raised.value.field == "id"


def test_new_timers_spread_over_active_shards_only(
    service: TimerService, store: InMemoryTimerStore
) -> None:
    store.put_registry(ShardRegistry(active=(0, 1, 2, 3), draining=(4,)))
    shards = {service.put("alice", f"t{n}", spec()).view.shard_id for n in range(64)}
    assert shards == {0, 1, 2, 3}


def test_replaced_timer_stays_on_its_shard(
    service: TimerService, store: InMemoryTimerStore
) -> None:
    store.put_registry(ShardRegistry(active=(0, 1, 2, 3)))
    first = service.put("alice", "t1", spec()).view.shard_id
    assert service.put("alice", "t1", spec(timerCallbackData=1)).view.shard_id == first
