"""The DynamoDB store's change log of its timers (:mod:`timer_service.change_log`): an item a
write, ``pk`` the shard's log, ``sk`` the second then the timer, gone after ``KEEP_S``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from timer_service.change_log import KEEP_S, change_partition, change_sort_key
from timer_service.keys import PK, SK, TTL_ATTRIBUTE
from timer_service.store.codecs import number, string
from timer_service.store.table import DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DynamoChanges"]


class DynamoChanges:
    _client: DynamoDBClient
    _table: DynamoTable
    _name: str

    def record_changes(self, shards: Sequence[int], owner: str, timer_id: str, now_s: int) -> None:
        for shard in sorted(set(shards)):
            item = {
                PK: string(change_partition(shard)),
                SK: string(change_sort_key(now_s, owner, timer_id)),
                TTL_ATTRIBUTE: number(now_s + KEEP_S),
            }
            with self._table.errors():
                self._client.put_item(TableName=self._name, Item=item)

    def changes_since(self, shard: int, since_s: int) -> dict[tuple[str, str], int]:
        request: dict[str, Any] = {
            "TableName": self._name,
            "KeyConditionExpression": "pk = :p AND sk >= :s",
            "ExpressionAttributeValues": {
                ":p": string(change_partition(shard)),
                ":s": string(f"{max(0, since_s):011d}"),
            },
            "ConsistentRead": True,
        }
        found: dict[tuple[str, str], int] = {}
        while True:
            with self._table.errors():
                response = self._client.query(**request)
            for item in response["Items"]:
                second, _, rest = item[SK]["S"].partition("#")
                owner, _, timer_id = rest.rpartition("#")  # ids have no "#"
                key = (owner, timer_id)
                found[key] = max(int(second), found.get(key, 0))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
