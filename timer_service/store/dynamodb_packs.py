"""The DynamoDB store's pack ledger items (:mod:`timer_service.pack_ledger`): ``pk`` the
shard's minute, ``sk`` ``p#{id}`` for a pack (``m`` its members' hashes, ``r``/``h`` the
positions ran and handed on, ``l`` its lease, ``t`` its holder) or ``r#{hash}`` for the mark of
a re-sent copy; gone after ``PACK_KEEP_S``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from timer_service.keys import PK, SK, TTL_ATTRIBUTE
from timer_service.pack_ledger import (
    PACK_KEEP_S,
    PackClaim,
    PackRecord,
    PackRef,
    pack_partition,
)
from timer_service.store.codecs import number, string
from timer_service.store.table import ConditionFailed, DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DynamoPacks"]

Item = dict[str, Any]


def _key(ref: PackRef) -> Item:
    return {PK: string(pack_partition(ref.shard, ref.minute)), SK: string(f"p#{ref.pack_id}")}


def _expiry(ref: PackRef) -> Item:
    return number(ref.minute * 60 + PACK_KEEP_S)


def _record(ref: PackRef, item: Item | None) -> PackRecord | None:
    if not item:
        return None
    return PackRecord(
        ref=ref,
        members=bytes(item["m"]["B"]) if "m" in item else b"",
        ran=frozenset(int(n) for n in item.get("r", {}).get("NS", [])),
        handed=frozenset(int(n) for n in item.get("h", {}).get("NS", [])),
        token=item.get("t", {}).get("S", ""),
        lease_until_s=float(item["l"]["N"]) if "l" in item else 0.0,
    )


class DynamoPacks:
    _client: DynamoDBClient
    _table: DynamoTable
    _name: str

    def claim_pack(
        self, ref: PackRef, members: bytes, *, token: str, now_s: float, until_s: float
    ) -> PackClaim:
        request: dict[str, Any] = {
            "TableName": self._name,
            "Key": _key(ref),
            "UpdateExpression": (
                f"SET m = if_not_exists(m, :m), t = :t, l = :l, {TTL_ATTRIBUTE} = :x"
            ),
            "ConditionExpression": "attribute_not_exists(l) OR l < :now",
            "ExpressionAttributeValues": {
                ":m": {"B": members},
                ":t": string(token),
                ":l": {"N": repr(until_s)},
                ":now": {"N": repr(now_s)},
                ":x": _expiry(ref),
            },
            "ReturnValues": "ALL_OLD",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            with self._table.errors():
                response = self._client.update_item(**request)
        except ConditionFailed as failed:
            return PackClaim(False, _record(ref, failed.old_item(0)))
        return PackClaim(True, _record(ref, response.get("Attributes")))

    def record_pack(self, ref: PackRef, *, ran: set[int], handed: set[int]) -> None:
        adds, values = [], {":x": _expiry(ref)}
        for name, positions in (("r", ran), ("h", handed)):
            if positions:
                adds.append(f"{name} :{name}")
                values[f":{name}"] = {"NS": [str(n) for n in sorted(positions)]}
        if not adds:
            return
        with self._table.errors():
            self._client.update_item(
                TableName=self._name,
                Key=_key(ref),
                UpdateExpression=(
                    f"ADD {', '.join(adds)} SET {TTL_ATTRIBUTE} = if_not_exists("
                    f"{TTL_ATTRIBUTE}, :x)"
                ),
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",  # its size is what the write costs (loadtest cost)
            )

    def take_pack_member(self, ref: PackRef, position: int, *, now_s: float) -> bool:
        request: dict[str, Any] = {
            "TableName": self._name,
            "Key": _key(ref),
            "UpdateExpression": (
                f"ADD h :h SET {TTL_ATTRIBUTE} = if_not_exists({TTL_ATTRIBUTE}, :x)"
            ),
            "ConditionExpression": "attribute_not_exists(l) OR l < :now OR contains(h, :p)",
            "ExpressionAttributeValues": {
                ":h": {"NS": [str(position)]},
                ":p": {"N": str(position)},
                ":now": {"N": repr(now_s)},
                ":x": _expiry(ref),
            },
        }
        try:
            with self._table.errors():
                self._client.update_item(**request)
        except ConditionFailed:
            return False
        return True

    def get_pack(self, ref: PackRef) -> PackRecord | None:
        with self._table.errors():
            response = self._client.get_item(
                TableName=self._name, Key=_key(ref), ConsistentRead=True
            )
        return _record(ref, response.get("Item"))

    def mark_resent(self, shard: int, minute: int, member: bytes, *, now_s: int) -> None:
        item = {
            PK: string(pack_partition(shard, minute)),
            SK: string(f"r#{member.hex()}"),
            TTL_ATTRIBUTE: number(minute * 60 + PACK_KEEP_S),
        }
        with self._table.errors():
            self._client.put_item(TableName=self._name, Item=item)

    def resent_marks(self, shard: int, minute: int) -> set[bytes]:
        return {bytes.fromhex(item[SK]["S"][2:]) for item in self._minute(shard, minute, "r#")}

    def packs_of(self, shard: int, minute: int) -> list[PackRecord]:
        records = []
        for item in self._minute(shard, minute, "p#"):
            ref = PackRef(shard, minute, item[SK]["S"][2:])
            record = _record(ref, item)
            if record is not None:
                records.append(record)
        return records

    def _minute(self, shard: int, minute: int, prefix: str) -> list[Item]:
        request: dict[str, Any] = {
            "TableName": self._name,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {
                ":p": string(pack_partition(shard, minute)),
                ":s": string(prefix),
            },
            "ConsistentRead": True,
        }
        items: list[Item] = []
        while True:
            with self._table.errors():
                response = self._client.query(**request)
            items += response["Items"]
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
