"""Listings of an owner's timers in the DynamoDB store: by id (the ``byOwner`` index, whole
timers) and a label's partition (its key-only label items, read strongly consistent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from timer_service.keys import (
    OWNER_INDEX,
    OWNER_INDEX_PK,
    OWNER_INDEX_SK,
    SK,
    label_partition,
    owner_partition,
    timer_key,
)
from timer_service.models import Timer
from timer_service.store.codecs import key_item, string, timer_from_item
from timer_service.store.table import DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DynamoListing"]


class DynamoListing:
    """The owner's timers by id, and by label (mixed into DynamoTimerStore)."""

    _client: DynamoDBClient
    _table: DynamoTable
    _name: str

    def list_timers(
        self, owner: str, *, limit: int, after_id: str | None
    ) -> tuple[list[Timer], str | None]:
        request: dict[str, Any] = {
            "TableName": self._name,
            "IndexName": OWNER_INDEX,
            "KeyConditionExpression": "#p = :p",
            "ExpressionAttributeNames": {"#p": OWNER_INDEX_PK},
            "ExpressionAttributeValues": {":p": string(owner_partition(owner))},
            "Limit": limit + 1,
        }
        if after_id is not None:
            request["ExclusiveStartKey"] = {
                **key_item(timer_key(owner, after_id)),
                OWNER_INDEX_PK: string(owner_partition(owner)),
                OWNER_INDEX_SK: string(after_id),
            }
        with self._table.errors():
            response = self._client.query(**request)
        timers = [timer_from_item(item) for item in response["Items"]]
        if len(timers) > limit:
            return timers[:limit], timers[limit - 1].id
        return timers, None

    def list_labelled(
        self, owner: str, key: str, value: str, *, limit: int, after_id: str | None
    ) -> tuple[list[str], str | None]:
        request: dict[str, Any] = {
            "TableName": self._name,
            "KeyConditionExpression": "pk = :p" + ("" if after_id is None else " AND sk > :a"),
            "ExpressionAttributeValues": {":p": string(label_partition(owner, key, value))},
            "ConsistentRead": True,
            "Limit": limit + 1,
        }
        if after_id is not None:
            request["ExpressionAttributeValues"][":a"] = string(after_id)
        with self._table.errors():
            response = self._client.query(**request)
        ids = [item[SK]["S"] for item in response["Items"]]
        return ids[:limit], (ids[limit - 1] if len(ids) > limit else None)
