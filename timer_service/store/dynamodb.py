"""TimerStore on one DynamoDB table (keys in :mod:`timer_service.keys`), low-level client."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from timer_service.errors import QuotaExceededError, StoreError, VersionConflictError
from timer_service.keys import (
    OWNER_INDEX,
    OWNER_INDEX_PK,
    OWNER_INDEX_SK,
    PK,
    SK,
    TTL_ATTRIBUTE,
    IndexKey,
    firing_claim_key,
    job_state_key,
    owner_count_key,
    owner_partition,
    registry_key,
    run_partition,
    shard_state_key,
    timer_key,
)
from timer_service.models import ShardRegistry, ShardState, Timer
from timer_service.runs import Run
from timer_service.store.base import decode_job_state, encode_job_state
from timer_service.time_index import IndexEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "DynamoTimerStore",
    "index_entry_from_item",
    "index_item",
    "run_from_item",
    "run_item",
    "timer_from_item",
]

Item = dict[str, Any]

_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "ResourceNotFoundException",
}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _optional_n(item: Item, name: str, value: int | None) -> None:
    if value is not None:
        item[name] = _n(value)


def _get_n(item: Item, name: str) -> int | None:
    return int(item[name]["N"]) if name in item else None


def _get_s(item: Item, name: str) -> str | None:
    return item[name]["S"] if name in item else None


def _registry(item: Item | None) -> ShardRegistry:
    if item is None:
        return ShardRegistry()
    return ShardRegistry(
        active=tuple(int(v["N"]) for v in item["active"]["L"]),
        draining=tuple(int(v["N"]) for v in item["draining"]["L"]),
    )


def _key(key: IndexKey) -> Item:
    return {PK: _s(key.pk), SK: _s(key.sk)}


def timer_item(timer: Timer) -> Item:
    key = timer_key(timer.owner, timer.id)
    item: Item = {
        **_key(key),
        OWNER_INDEX_PK: _s(owner_partition(timer.owner)),
        OWNER_INDEX_SK: _s(timer.id),
        "owner": _s(timer.owner),
        "id": _s(timer.id),
        "shard": _n(timer.shard),
        "schedule": _s(timer.schedule),
        "tz": _s(timer.timezone),
        "jobType": _s(timer.job_type),
        "job": _s(json.dumps(timer.job, separators=(",", ":"))),
        "data": _s(json.dumps(timer.callback_data, separators=(",", ":"))),
        "enabled": {"BOOL": timer.enabled},
        "misfire": _s(timer.misfire_policy),
        "delivery": _s(timer.delivery),
        "version": _n(timer.version),
        "createdS": _n(timer.created_s),
        "updatedS": _n(timer.updated_s),
    }
    _optional_n(item, "startS", timer.start_s)
    _optional_n(item, "endS", timer.end_s)
    _optional_n(item, "firstFireS", timer.first_fire_s)
    if timer.history is not None:
        item["history"] = _s(timer.history)
    return item


def timer_from_item(item: Item) -> Timer:
    return Timer(
        owner=item["owner"]["S"],
        id=item["id"]["S"],
        shard=int(item["shard"]["N"]),
        schedule=item["schedule"]["S"],
        timezone=item["tz"]["S"],
        start_s=_get_n(item, "startS"),
        end_s=_get_n(item, "endS"),
        first_fire_s=_get_n(item, "firstFireS"),
        job_type=item["jobType"]["S"],
        job=json.loads(item["job"]["S"]),
        callback_data=json.loads(item["data"]["S"]),
        enabled=item["enabled"]["BOOL"],
        misfire_policy=item["misfire"]["S"],
        delivery=item.get("delivery", {"S": "atLeastOnce"})["S"],
        history=_get_s(item, "history"),
        version=int(item["version"]["N"]),
        created_s=int(item["createdS"]["N"]),
        updated_s=int(item["updatedS"]["N"]),
    )


# Index items are read far more often than anything else (each tick reads every item of the
# slots it queries, firing or not, billed by the byte): owner, id, second and shard are read
# from the keys, and the rest has one-letter names.
_KIND_CODES = {"rate": "r", "cron": "c", "at": "a"}
_MISFIRE_CODES = {"fireOnce": "o", "fireAll": "a", "skip": "s"}
_KINDS = {code: kind for kind, code in _KIND_CODES.items()}
_MISFIRES = {code: policy for policy, code in _MISFIRE_CODES.items()}
_INDEX_NUMBERS = (
    ("f", "fire_s"),
    ("a", "first_fire_s"),
    ("p", "period_s"),
    ("e", "end_s"),
    ("b", "start_s"),
    ("n", "not_before_s"),
    ("w", "api_written_s"),
)


def index_item(entry: IndexEntry) -> Item:
    item: Item = {
        **_key(entry.key),
        "v": _n(entry.version),
        "k": _s(_KIND_CODES[entry.kind]),
        "m": _s(_MISFIRE_CODES[entry.misfire_policy]),
    }
    for name, attribute in _INDEX_NUMBERS:
        _optional_n(item, name, getattr(entry, attribute))
    _optional_n(item, TTL_ATTRIBUTE, entry.expires_s)
    if entry.schedule is not None:
        item["c"] = _s(entry.schedule)
    if entry.timezone is not None:
        item["z"] = _s(entry.timezone)
    return item


def index_entry_from_item(item: Item) -> IndexEntry:
    pk, sk = item[PK]["S"], item[SK]["S"]
    owner, _, timer_id = sk[3:].rpartition("#")  # "{sec:02}#{owner}#{id}"; ids have no "#"
    numbers = {attribute: _get_n(item, name) for name, attribute in _INDEX_NUMBERS}
    return IndexEntry(
        key=IndexKey(pk, sk),
        shard=int(pk.split("#", 2)[1]),
        owner=owner,
        timer_id=timer_id,
        version=int(item["v"]["N"]),
        kind=_KINDS[item["k"]["S"]],  # type: ignore[arg-type]
        second=int(sk[:2]),
        misfire_policy=_MISFIRES[item["m"]["S"]],  # type: ignore[arg-type]
        schedule=_get_s(item, "c"),
        timezone=_get_s(item, "z"),
        **numbers,
    )


def run_item(run: Run, *, expires_s: int) -> Item:
    item: Item = {
        PK: _s(run_partition(run.owner, run.timer_id)),
        SK: _s(run.sort_key),
        "firingId": _s(run.firing_id),
        "inc": _n(run.incarnation),
        "scheduledS": _n(run.scheduled_s),
        "startedS": {"N": f"{run.started_s:.3f}"},
        "finishedS": {"N": f"{run.finished_s:.3f}"},
        "attempt": _n(run.attempt),
        "outcome": _s(run.outcome),
        "summary": _s(run.summary),
        "manual": {"BOOL": run.manual},
        TTL_ATTRIBUTE: _n(expires_s),
    }
    if run.lateness_ms is not None:
        item["latenessMs"] = {"N": f"{run.lateness_ms:.1f}"}
    if run.diff is not None:
        item["diff"] = _s(run.diff)
    if run.details:
        item["details"] = _s(json.dumps(run.details, separators=(",", ":")))
    return item


def run_from_item(item: Item, owner: str, timer_id: str) -> Run:
    return Run(
        owner=owner,
        timer_id=timer_id,
        incarnation=int(item["inc"]["N"]),
        firing_id=item["firingId"]["S"],
        scheduled_s=int(item["scheduledS"]["N"]),
        started_s=float(item["startedS"]["N"]),
        finished_s=float(item["finishedS"]["N"]),
        attempt=int(item["attempt"]["N"]),
        outcome=item["outcome"]["S"],
        summary=item["summary"]["S"],
        manual=item["manual"]["BOOL"],
        lateness_ms=float(item["latenessMs"]["N"]) if "latenessMs" in item else None,
        diff=_get_s(item, "diff"),
        details=json.loads(item["details"]["S"]) if "details" in item else {},
    )


class DynamoTimerStore:
    """TimerStore on DynamoDB: conditional transactional writes, consistent reads."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

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
    ) -> None:
        put: dict[str, Any] = {"TableName": self._table, "Item": timer_item(timer)}
        put.update(self._version_condition(expected_version))
        actions: list[dict[str, Any]] = [{"Put": put}]
        new_key = None if index is None else index.key
        actions += [
            {"Delete": {"TableName": self._table, "Key": _key(key)}}
            for key in dict.fromkeys(remove)
            if key != new_key
        ]
        if index is not None:
            actions.append({"Put": {"TableName": self._table, "Item": index_item(index)}})
        if expected_version is None:
            actions.append({"Update": self._count_update(timer.owner, +1, count_limit)})
        self._write(actions, timer.owner, timer.id, expected_version, count_limit)

    def delete_timer(
        self, owner: str, timer_id: str, *, expected_version: int, remove: Sequence[IndexKey]
    ) -> None:
        delete: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(timer_key(owner, timer_id)),
            **self._version_condition(expected_version),
        }
        actions: list[dict[str, Any]] = [{"Delete": delete}]
        actions += [
            {"Delete": {"TableName": self._table, "Key": _key(key)}}
            for key in dict.fromkeys([*remove, job_state_key(owner, timer_id)])
        ]
        actions.append({"Update": self._count_update(owner, -1, None)})
        self._write(actions, owner, timer_id, expected_version)

    def _count_update(self, owner: str, change: int, limit: int | None) -> dict[str, Any]:
        """The owner's timer count, changed by ``change`` (under ``limit`` when given)."""
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(owner_count_key(owner)),
            "UpdateExpression": "ADD timers :change",
            "ExpressionAttributeValues": {":change": _n(change)},
        }
        if limit is not None:
            update["ConditionExpression"] = "attribute_not_exists(timers) OR timers < :limit"
            update["ExpressionAttributeValues"][":limit"] = _n(limit)
        return update

    # --- delivery -----------------------------------------------------------------------

    def claim_firing(self, firing_id: str, *, claimant: str, expires_s: int) -> bool:
        item = {
            **_key(firing_claim_key(firing_id)),
            "claimant": _s(claimant),
            TTL_ATTRIBUTE: _n(expires_s),
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR claimant = :c",
                ExpressionAttributeValues={":c": _s(claimant)},
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise self._translate(exc) from exc
        return True

    def release_firing(self, firing_id: str, *, claimant: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_key(firing_claim_key(firing_id)),
                ConditionExpression="claimant = :c",
                ExpressionAttributeValues={":c": _s(claimant)},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise self._translate(exc) from exc

    # --- run history and job state ------------------------------------------------------

    def put_run(self, run: Run, *, expires_s: int) -> None:
        try:
            self._client.put_item(TableName=self._table, Item=run_item(run, expires_s=expires_s))
        except ClientError as exc:
            raise self._translate(exc) from exc

    def list_runs(
        self, owner: str, timer_id: str, *, incarnation: int, limit: int, before: str | None
    ) -> tuple[list[Run], str | None]:
        partition = run_partition(owner, timer_id)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":p": _s(partition),
                ":prefix": _s(f"{incarnation:010d}#"),
            },
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if before is not None:
            request["ExclusiveStartKey"] = {PK: _s(partition), SK: _s(before)}
        try:
            items = self._client.query(**request)["Items"]
        except ClientError as exc:
            raise self._translate(exc) from exc
        runs = [run_from_item(item, owner, timer_id) for item in items]
        if len(runs) > limit:
            return runs[:limit], runs[limit - 1].sort_key
        return runs, None

    def get_job_state(self, owner: str, timer_id: str) -> dict[str, Any] | None:
        item = self._get(job_state_key(owner, timer_id))
        return None if item is None else decode_job_state(item["state"]["B"])

    def put_job_state(self, owner: str, timer_id: str, state: dict[str, Any]) -> None:
        item = {**_key(job_state_key(owner, timer_id)), "state": {"B": encode_job_state(state)}}
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except ClientError as exc:
            raise self._translate(exc) from exc

    def list_timers(
        self, owner: str, *, limit: int, after_id: str | None
    ) -> tuple[list[Timer], str | None]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": OWNER_INDEX,
            "KeyConditionExpression": "#p = :p",
            "ExpressionAttributeNames": {"#p": OWNER_INDEX_PK},
            "ExpressionAttributeValues": {":p": _s(owner_partition(owner))},
            "Limit": limit + 1,
        }
        if after_id is not None:
            request["ExclusiveStartKey"] = {
                **_key(timer_key(owner, after_id)),
                OWNER_INDEX_PK: _s(owner_partition(owner)),
                OWNER_INDEX_SK: _s(after_id),
            }
        try:
            response = self._client.query(**request)
        except ClientError as exc:
            raise self._translate(exc) from exc
        timers = [timer_from_item(item) for item in response["Items"]]
        if len(timers) > limit:
            return timers[:limit], timers[limit - 1].id
        more = "LastEvaluatedKey" in response and len(timers) == limit + 1
        return timers, (timers[-1].id if more else None)

    def get_index_entry(self, key: IndexKey) -> IndexEntry | None:
        item = self._get(key)
        return None if item is None else index_entry_from_item(item)

    def get_registry(self) -> ShardRegistry:
        return _registry(self._get(registry_key()))

    def get_timer_and_registry(
        self, owner: str, timer_id: str
    ) -> tuple[Timer | None, ShardRegistry]:
        items = {
            item[PK]["S"]: item
            for item in self._batch_get([_key(timer_key(owner, timer_id)), _key(registry_key())])
        }
        found = items.get(timer_key(owner, timer_id).pk)
        return (
            None if found is None else timer_from_item(found),
            _registry(items.get(registry_key().pk)),
        )

    def put_registry(self, registry: ShardRegistry) -> None:
        item = {
            **_key(registry_key()),
            "active": {"L": [_n(n) for n in registry.active]},
            "draining": {"L": [_n(n) for n in registry.draining]},
        }
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except ClientError as exc:
            raise self._translate(exc) from exc

    def get_timers(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Timer]:
        found: dict[tuple[str, str], Timer] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 100):  # BatchGetItem's limit
            batch = [_key(timer_key(o, i)) for o, i in unique[start : start + 100]]
            for item in self._batch_get(batch):
                timer = timer_from_item(item)
                found[(timer.owner, timer.id)] = timer
        return found

    def _batch_get(self, keys: list[Item]) -> list[Item]:
        """The items of up to 100 ``keys`` that exist, read strongly consistent."""
        items: list[Item] = []
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            try:
                response = self._client.batch_get_item(RequestItems=request)
            except ClientError as exc:
                raise self._translate(exc) from exc
            items += response["Responses"].get(self._table, [])
            request = response.get("UnprocessedKeys") or {}
        return items

    # --- ticking ----------------------------------------------------------------------

    def get_shard_state(self, shard: int) -> ShardState:
        item = self._get(shard_state_key(shard))
        return _shard_state(shard, item or {})

    def begin_tick(
        self, shard: int, *, token: str, now_s: float, lease_s: float, claim: int, first: int
    ) -> ShardState | None:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=_key(shard_state_key(shard)),
                UpdateExpression=(
                    "SET leaseOwner = :me, leaseUntil = :until, done = if_not_exists(done, :d), "
                    "claimed = :c, retiringSince = if_not_exists(retiringSince, :none)"
                ),
                ConditionExpression=(
                    "(attribute_not_exists(leaseOwner) OR leaseOwner = :me OR leaseUntil < :now)"
                    " AND (attribute_not_exists(claimed) OR claimed <= :c)"
                ),
                ExpressionAttributeValues={
                    ":me": _s(token),
                    ":until": {"N": repr(now_s + lease_s)},
                    ":now": {"N": repr(now_s)},
                    ":d": _n(first - 1),
                    ":c": _n(claim),
                    ":none": {"M": {}},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return None
            raise self._translate(exc) from exc
        return _shard_state(shard, response["Attributes"])

    def end_tick(
        self,
        shard: int,
        *,
        token: str,
        done: int,
        mark: Mapping[int, int] | None = None,
        unmark: Sequence[int] = (),
    ) -> None:
        if mark and unmark:
            raise ValueError("mark and unmark in one call: both change `retiring`")
        sets, removes = ["done = :d"], ["leaseOwner", "leaseUntil"]
        values: dict[str, Any] = {":d": _n(done), ":me": _s(token)}
        names: dict[str, str] = {}
        tail = ""
        for n, (base, minute) in enumerate(sorted((mark or {}).items())):
            names[f"#b{n}"] = str(base)
            sets.append(f"retiringSince.#b{n} = :m{n}")
            values[f":m{n}"] = _n(minute)
        if mark:
            tail = " ADD retiring :marked"
            values[":marked"] = {"NS": [str(b) for b in sorted(mark)]}
        if unmark:
            for n, base in enumerate(sorted(unmark)):
                names[f"#u{n}"] = str(base)
                removes.append(f"retiringSince.#u{n}")
            tail = " DELETE retiring :cleared"
            values[":cleared"] = {"NS": [str(b) for b in sorted(unmark)]}
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(shard_state_key(shard)),
            "UpdateExpression": f"SET {', '.join(sets)} REMOVE {', '.join(removes)}{tail}",
            "ConditionExpression": "leaseOwner = :me",
            "ExpressionAttributeValues": values,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            self._client.update_item(**request)
        except ClientError as exc:
            if _condition_failed(exc):
                raise StoreError(f"shard {shard}: the lease was lost during the tick") from exc
            raise self._translate(exc) from exc

    def ensure_base(self, shard: int, base: int) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(shard_state_key(shard)),
                UpdateExpression="ADD bases :b DELETE retiring :b",
                ExpressionAttributeValues={":b": {"NS": [str(base)]}},
            )
        except ClientError as exc:
            raise self._translate(exc) from exc

    def retire_base(self, shard: int, base: int, *, marked_minute: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(shard_state_key(shard)),
                UpdateExpression="DELETE bases :b, retiring :b REMOVE retiringSince.#b",
                ConditionExpression="contains(retiring, :one) AND retiringSince.#b = :m",
                ExpressionAttributeNames={"#b": str(base)},
                ExpressionAttributeValues={
                    ":b": {"NS": [str(base)]},
                    ":one": _n(base),
                    ":m": _n(marked_minute),
                },
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise self._translate(exc) from exc
        return True

    def query_index(self, partition: str) -> list[IndexEntry]:
        entries: list[IndexEntry] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": _s(partition)},
            "ConsistentRead": True,
        }
        while True:
            try:
                response = self._client.query(**request)
            except ClientError as exc:
                raise self._translate(exc) from exc
            entries.extend(index_entry_from_item(item) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return entries
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def put_successor(self, entry: IndexEntry) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=index_item(entry),
                ConditionExpression="attribute_not_exists(pk) OR v <= :v",
                ExpressionAttributeValues={":v": _n(entry.version)},
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise self._translate(exc) from exc
        return True

    def delete_stale(self, key: IndexKey, version: int) -> bool:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_key(key),
                ConditionExpression="v = :v",
                ExpressionAttributeValues={":v": _n(version)},
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise self._translate(exc) from exc
        return True

    # --- shard administration -----------------------------------------------------------

    def _scan_timers(self, shard: int | None) -> list[Item]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "sk = :t" + ("" if shard is None else " AND #shard = :s"),
            "ExpressionAttributeValues": {":t": _s("T")}
            | ({} if shard is None else {":s": _n(shard)}),
        }
        if shard is not None:
            request["ExpressionAttributeNames"] = {"#shard": "shard"}
        items: list[Item] = []
        paginator = self._client.get_paginator("scan")
        try:
            for page in paginator.paginate(**request):
                items.extend(page["Items"])
        except ClientError as exc:
            raise self._translate(exc) from exc
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
        old_check: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(shard_state_key(timer.shard)),
        }
        if old_claimed is None:
            old_check["ConditionExpression"] = "attribute_not_exists(claimed)"
        else:
            old_check["ConditionExpression"] = (
                "claimed = :c AND done = :c AND attribute_not_exists(leaseOwner)"
            )
            old_check["ExpressionAttributeValues"] = {":c": _n(old_claimed)}
        # The target's `claimed` is checked, and the item's rate base ensured, in one action.
        target_action: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(shard_state_key(target)),
            "ExpressionAttributeValues": {},
        }
        if first_minute is not None:
            target_action["ConditionExpression"] = "attribute_not_exists(claimed) OR claimed < :f"
            target_action["ExpressionAttributeValues"][":f"] = _n(first_minute)
        if base is not None:
            target_action["UpdateExpression"] = "ADD bases :b DELETE retiring :b"
            target_action["ExpressionAttributeValues"][":b"] = {"NS": [str(base)]}
        if not target_action["ExpressionAttributeValues"]:
            del target_action["ExpressionAttributeValues"]
        verb = "Update" if base is not None else "ConditionCheck"
        new_keys = {entry.key for entry in entries}
        actions: list[dict[str, Any]] = [
            {"ConditionCheck": old_check},
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _key(timer_key(timer.owner, timer.id)),
                    "UpdateExpression": "SET #shard = :s",
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeNames": {"#shard": "shard"},
                    "ExpressionAttributeValues": {":s": _n(target), ":v": _n(timer.version)},
                }
            },
            *(
                {"Delete": {"TableName": self._table, "Key": _key(key)}}
                for key in dict.fromkeys(remove)
                if key not in new_keys
            ),
            *(
                [{verb: target_action}]
                if "ConditionExpression" in target_action or base is not None
                else []
            ),
            *({"Put": {"TableName": self._table, "Item": index_item(e)}} for e in entries),
        ]
        try:
            self._client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise self._translate(exc) from exc
        return True

    # --- internals ------------------------------------------------------------------

    def _get(self, key: IndexKey) -> Item | None:
        try:
            response = self._client.get_item(
                TableName=self._table, Key=_key(key), ConsistentRead=True
            )
        except ClientError as exc:
            raise self._translate(exc) from exc
        return response.get("Item")

    @staticmethod
    def _version_condition(expected_version: int | None) -> dict[str, Any]:
        if expected_version is None:
            return {"ConditionExpression": "attribute_not_exists(pk)"}
        return {
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": _n(expected_version)},
        }

    def _write(
        self,
        actions: list[dict[str, Any]],
        owner: str,
        timer_id: str,
        expected_version: int | None,
        count_limit: int | None = None,
    ) -> None:
        try:
            if len(actions) == 1:
                ((verb, request),) = actions[0].items()
                if verb == "Put":
                    self._client.put_item(**request)
                else:
                    self._client.delete_item(**request)
            else:
                self._client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            count_refused = (  # the count's update is the last action
                count_limit is not None
                and len(reasons) == len(actions)
                and reasons[-1].get("Code") == "ConditionalCheckFailed"
            )
            if count_refused:
                assert count_limit is not None
                raise QuotaExceededError(count_limit) from exc
            if _condition_failed(exc):
                current = self.get_timer(owner, timer_id)
                actual = None if current is None else current.version
                raise VersionConflictError(
                    timer_id, expected=expected_version, actual=actual
                ) from exc
            raise self._translate(exc) from exc

    def _translate(self, exc: ClientError) -> Exception:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _RETRYABLE:
            return StoreError(f"DynamoDB table {self._table!r}: {code}")
        return exc


def _shard_state(shard: int, item: Item) -> ShardState:
    return ShardState(
        shard=shard,
        claimed=_get_n(item, "claimed"),
        done=_get_n(item, "done"),
        lease_owner=_get_s(item, "leaseOwner"),
        lease_until_s=float(item["leaseUntil"]["N"]) if "leaseUntil" in item else None,
        bases=frozenset(int(b) for b in item.get("bases", {}).get("NS", [])),
        retiring={
            int(b): int(since[b]["N"])
            for b in item.get("retiring", {}).get("NS", [])
            if b in (since := item.get("retiringSince", {}).get("M", {}))
        },
    )


def _condition_failed(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons", [])
        return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"
    return False
