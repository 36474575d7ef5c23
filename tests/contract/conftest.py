"""The TimerStore contract's fixture: every test runs on the in-memory store and on DynamoDB
(the moto server of tests/conftest.py), which is the truth where they differ."""

from __future__ import annotations

from typing import Any

import pytest

from timer_service.keys import IndexKey, index_sort_key, minute_partition, rate_partition
from timer_service.models import Timer
from timer_service.store.base import TimerStore
from timer_service.time_index import IndexEntry

T0 = 1_795_348_800  # 2026-11-22T12:00:00Z, a minute boundary
MINUTE = T0 // 60


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> TimerStore:
    if request.param == "memory":
        from timer_service.store.memory import InMemoryTimerStore

        return InMemoryTimerStore()
    from timer_service.aws import client
    from timer_service.store.dynamodb import DynamoTimerStore

    aws = request.getfixturevalue("aws")
    return DynamoTimerStore(client("dynamodb", "us-east-1", aws.endpoint_url), aws.table)


def timer(timer_id: str = "t", *, owner: str = "alice", **fields: Any) -> Timer:
    """A stored rate timer, as the service would write it."""
    values: dict[str, Any] = {
        "shard": 0,
        "schedule": "rate(5 minutes)",
        "first_fire_s": T0 + 300,
        "job": {"url": "https://example.com/hook"},
        "callback_data": {"n": 1},
        "created_s": T0,
        "updated_s": T0,
    }
    return Timer(owner=owner, id=timer_id, **(values | fields))


def at_entry(
    timer_id: str = "t",
    *,
    owner: str = "alice",
    shard: int = 0,
    minute: int = MINUTE + 1,
    second: int = 0,
    version: int = 1,
    **fields: Any,
) -> IndexEntry:
    """A minute item of a one-shot timer."""
    values: dict[str, Any] = {"kind": "at", "misfire_policy": "fireOnce"} | fields
    return IndexEntry(
        key=IndexKey(minute_partition(shard, minute), index_sort_key(second, owner, timer_id)),
        shard=shard,
        owner=owner,
        timer_id=timer_id,
        version=version,
        second=second,
        fire_s=minute * 60 + second,
        **values,
    )


def rate_entry(
    timer_id: str = "t", *, owner: str = "alice", shard: int = 0, version: int = 1
) -> IndexEntry:
    """The static item of a 5-minute rate timer (base 5, slot 0)."""
    return IndexEntry(
        key=IndexKey(rate_partition(shard, 5, 0), index_sort_key(0, owner, timer_id)),
        shard=shard,
        owner=owner,
        timer_id=timer_id,
        version=version,
        kind="rate",
        second=0,
        misfire_policy="fireAll",
        first_fire_s=T0 + 300,
        period_s=300,
    )
