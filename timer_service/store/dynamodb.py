"""TimerStore on one DynamoDB table, low-level client: the calls and how their answers read.

Items are encoded in :mod:`timer_service.store.codecs`, conditional writes spelled in
:mod:`timer_service.store.expressions`, errors translated by
:mod:`timer_service.store.table` (keys in :mod:`timer_service.keys`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from timer_service.completion import CountChange, count_change, write_change
from timer_service.errors import (
    FiringRateExceededError,
    QuotaExceededError,
    StoreError,
    VersionConflictError,
)
from timer_service.keys import (
    PK,
    IndexKey,
    registry_key,
    shard_state_key,
    timer_key,
)
from timer_service.models import ShardRegistry, ShardState, Timer
from timer_service.store import expressions
from timer_service.store.codecs import (
    Item,
    index_entry_from_item,
    index_item,
    key_item,
    number,
    registry_from_item,
    registry_item,
    run_from_item,
    run_item,
    shard_state_from_item,
    string,
    timer_from_item,
    version_of,
)
from timer_service.store.dynamodb_changes import DynamoChanges
from timer_service.store.dynamodb_feeds import DynamoFeeds
from timer_service.store.dynamodb_flow import DynamoFlow
from timer_service.store.dynamodb_heartbeats import DynamoHeartbeats
from timer_service.store.dynamodb_history import DynamoHistory
from timer_service.store.dynamodb_listing import DynamoListing
from timer_service.store.dynamodb_packs import DynamoPacks
from timer_service.store.dynamodb_signing import DynamoSigningSecrets
from timer_service.store.table import (
    BATCH_GET_SIZE,
    DEFAULT_BACKOFF,
    Backoff,
    ConditionFailed,
    Contended,
    DynamoTable,
)
from timer_service.time_index import IndexEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The codecs' names importers used before the split (loadtest): timer_service.store.codecs.
__all__ = [
    "DynamoTimerStore",
    "index_entry_from_item",
    "index_item",
    "run_from_item",
    "run_item",
    "timer_from_item",
]


class DynamoTimerStore(
    DynamoHeartbeats,
    DynamoHistory,
    DynamoFlow,
    DynamoSigningSecrets,
    DynamoListing,
    DynamoFeeds,
    DynamoChanges,
    DynamoPacks,
):
    """TimerStore on DynamoDB: conditional transactional writes, consistent reads."""

    def __init__(
        self, client: DynamoDBClient, table_name: str, *, backoff: Backoff = DEFAULT_BACKOFF
    ) -> None:
        self._client = client
        self._table = DynamoTable(client, table_name, backoff)
        self._name = table_name

    def get_timer(self, owner: str, timer_id: str) -> Timer | None:
        item = self._get(timer_key(owner, timer_id))
        return None if item is None else timer_from_item(item)

    def save_timer(
        self,
        timer: Timer,
        *,
        expected_version: int | None,
        remove: Sequence[IndexKey],
        index: IndexEntry | None,
        count_limit: int | None = None,
        replaces: Timer | None = None,
        firing_limit: int | None = None,
    ) -> None:
        change = write_change(timer, expected_version=expected_version, replaces=replaces)
        if firing_limit is not None and timer.firing_weight > firing_limit:
            raise FiringRateExceededError(firing_limit, adds=change.firings)
        actions = expressions.save_timer(
            self._name,
            timer,
            expected_version=expected_version,
            remove=remove,
            index=index,
            count_limit=count_limit,
            change=change,
            firing_limit=firing_limit,
            replaces=replaces,
        )
        try:
            self._write(actions)
        except ConditionFailed as failed:
            # A taken id is a conflict before it is a full quota: written over as an update,
            # it would not count.
            if failed.failed(0):
                actual = version_of(failed.old_item(0))
                raise VersionConflictError(
                    timer.id, expected=expected_version, actual=actual
                ) from failed
            if failed.failed(len(actions) - 1):  # the owner's counts
                counts = failed.old_item(len(actions) - 1)
                timers = None if counts is None else int(counts.get("timers", {}).get("N", "0"))
                full = timers is None or timers >= (count_limit or 0)
                if count_limit is not None and change.timers > 0 and full:
                    raise QuotaExceededError(count_limit) from failed
                if firing_limit is not None:
                    raise FiringRateExceededError(firing_limit, adds=change.firings) from failed
            raise

    def delete_timer(
        self,
        owner: str,
        timer_id: str,
        *,
        expected_version: int,
        remove: Sequence[IndexKey],
        timer: Timer | None = None,
    ) -> None:
        actions = expressions.delete_timer(
            self._name,
            owner,
            timer_id,
            expected_version=expected_version,
            remove=remove,
            change=CountChange(timers=-1) if timer is None else count_change(None, timer),
            labels=None if timer is None else timer.labels,
        )
        try:
            self._write(actions)
        except ConditionFailed as failed:
            actual = version_of(failed.old_item(0))
            raise VersionConflictError(
                timer_id, expected=expected_version, actual=actual
            ) from failed

    # --- delivery -----------------------------------------------------------------------

    def claim_firing(self, firing_id: str, *, claimant: str, expires_s: int) -> bool:
        try:
            with self._table.errors():
                self._client.put_item(
                    **expressions.claim_firing(
                        self._name, firing_id, claimant=claimant, expires_s=expires_s
                    )
                )
        except ConditionFailed:
            return False
        return True

    def release_firing(self, firing_id: str, *, claimant: str) -> None:
        try:
            with self._table.errors():
                self._client.delete_item(
                    **expressions.release_firing(self._name, firing_id, claimant=claimant)
                )
        except ConditionFailed:
            pass  # another claimant's, or none: nothing to give back

    def get_index_entry(self, key: IndexKey) -> IndexEntry | None:
        item = self._get(key)
        return None if item is None else index_entry_from_item(item)

    def get_registry(self) -> ShardRegistry:
        return registry_from_item(self._get(registry_key()))

    def get_timer_and_registry(
        self, owner: str, timer_id: str
    ) -> tuple[Timer | None, ShardRegistry]:
        keys = [timer_key(owner, timer_id), registry_key()]
        items = {item[PK]["S"]: item for item in self._table.batch_get(list(map(key_item, keys)))}
        found = items.get(keys[0].pk)
        return (
            None if found is None else timer_from_item(found),
            registry_from_item(items.get(keys[1].pk)),
        )

    def put_registry(self, registry: ShardRegistry) -> None:
        with self._table.errors():
            self._client.put_item(TableName=self._name, Item=registry_item(registry))

    def get_timers(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Timer]:
        found: dict[tuple[str, str], Timer] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_GET_SIZE):
            batch = [key_item(timer_key(o, i)) for o, i in unique[start : start + BATCH_GET_SIZE]]
            for item in self._table.batch_get(batch):
                timer = timer_from_item(item)
                found[(timer.owner, timer.id)] = timer
        return found

    # --- ticking ----------------------------------------------------------------------

    def get_shard_state(self, shard: int) -> ShardState:
        return shard_state_from_item(shard, self._get(shard_state_key(shard)))

    def begin_tick(
        self, shard: int, *, token: str, now_s: float, lease_s: float, claim: int, first: int
    ) -> ShardState | None:
        request = expressions.begin_tick(
            self._name, shard, token=token, now_s=now_s, lease_s=lease_s, claim=claim, first=first
        )
        try:
            with self._table.errors():
                response = self._client.update_item(**request)
        except ConditionFailed:
            return None
        before = shard_state_from_item(shard, response.get("Attributes"))
        return before.taken(token=token, until_s=now_s + lease_s, claim=claim, first=first)

    def end_tick(
        self,
        shard: int,
        *,
        token: str,
        done: int,
        mark: Mapping[int, int] | None = None,
        unmark: Sequence[int] = (),
    ) -> None:
        request = expressions.end_tick(
            self._name, shard, token=token, done=done, mark=mark or {}, unmark=unmark
        )
        try:
            with self._table.errors():
                self._client.update_item(**request)
        except ConditionFailed as failed:
            raise StoreError(f"shard {shard}: the lease was lost during the tick") from failed

    def ensure_base(self, shard: int, base: int) -> None:
        with self._table.errors():
            self._client.update_item(**expressions.ensure_base(self._name, shard, base))

    def retire_base(self, shard: int, base: int, *, marked_minute: int) -> bool:
        request = expressions.retire_base(self._name, shard, base, marked_minute=marked_minute)
        return self._table.holds(self._client.update_item, request)

    def query_index(self, partition: str) -> list[IndexEntry]:
        entries: list[IndexEntry] = []
        request: dict[str, Any] = {
            "TableName": self._name,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": string(partition)},
            "ConsistentRead": True,
        }
        while True:
            with self._table.errors():
                response = self._client.query(**request)
            entries.extend(index_entry_from_item(item) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return entries
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def put_successor(self, entry: IndexEntry) -> bool:
        return self._table.holds(
            self._client.put_item, expressions.put_successor(self._name, entry)
        )

    def delete_stale(self, key: IndexKey, version: int) -> bool:
        return self._table.holds(
            self._client.delete_item, expressions.delete_stale(self._name, key, version)
        )

    # --- shard administration -----------------------------------------------------------

    def _scan_timers(self, shard: int | None) -> list[Item]:
        request: dict[str, Any] = {
            "TableName": self._name,
            "FilterExpression": "sk = :t",
            "ExpressionAttributeValues": {":t": string("T")},
        }
        if shard is not None:
            request["FilterExpression"] += " AND #shard = :s"
            request["ExpressionAttributeValues"][":s"] = number(shard)
            request["ExpressionAttributeNames"] = {"#shard": "shard"}
        items: list[Item] = []
        with self._table.errors():
            for page in self._client.get_paginator("scan").paginate(**request):
                items.extend(page["Items"])
        return items

    def count_timers_by_shard(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for item in self._scan_timers(None):
            shard = int(item["shard"]["N"])
            counts[shard] = counts.get(shard, 0) + 1
        return counts

    def timers_on_shard(self, shard: int) -> list[Timer]:
        return [timer_from_item(item) for item in self._scan_timers(shard)]

    def move_timer(
        self,
        timer: Timer,
        *,
        target: int,
        remove: Sequence[IndexKey],
        entries: Sequence[IndexEntry],
        old_claimed: int | None,
        first_minute: int | None,
        base: int | None,
    ) -> bool:
        actions = expressions.move_timer(
            self._name,
            timer,
            target=target,
            remove=remove,
            entries=entries,
            old_claimed=old_claimed,
            first_minute=first_minute,
            base=base,
        )
        try:
            self._write(actions)
        except (ConditionFailed, Contended):  # a shard moved on, or was being written
            return False
        return True

    # --- internals ------------------------------------------------------------------

    def _get(self, key: IndexKey) -> Item | None:
        with self._table.errors():
            response = self._client.get_item(
                TableName=self._name, Key=key_item(key), ConsistentRead=True
            )
        return response.get("Item")

    def _write(self, actions: list[dict[str, Any]]) -> None:
        """One put alone, anything more as a transaction."""
        with self._table.errors():
            if len(actions) == 1 and "Put" in actions[0]:
                self._client.put_item(**actions[0]["Put"])
            else:
                self._client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
