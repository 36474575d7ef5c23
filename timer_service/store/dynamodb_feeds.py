"""Feeds in the DynamoDB store: a token's item found by its hash, and the owner's scope items
(one partition per owner), which name each feed's current token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from timer_service.feeds import FeedGrant
from timer_service.keys import IndexKey, feed_key, feed_scope_key
from timer_service.store import feed_requests
from timer_service.store.codecs import Item, key_item, string
from timer_service.store.feed_requests import feed_from_item
from timer_service.store.table import ConditionFailed, DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DynamoFeeds"]


class DynamoFeeds:
    """Feed tokens and scopes on the store's table (mixed into DynamoTimerStore)."""

    _client: DynamoDBClient
    _table: DynamoTable
    _name: str

    def _get(self, key: IndexKey) -> Item | None: ...  # the store's

    def _write(self, actions: list[dict[str, Any]]) -> None: ...  # the store's

    def get_feed(self, token_hash: str) -> FeedGrant | None:
        item = self._get(feed_key(token_hash))
        if item is None:
            return None
        grant = feed_from_item(item)
        current = self.get_feed_scope(grant.owner, grant.scope)
        if current is not None and current.token_hash == token_hash:
            return grant
        # Its scope names another token, or none (its timer was deleted): it is dead for good,
        # as no new token hashes to it.
        with self._table.errors():
            self._client.delete_item(TableName=self._name, Key=key_item(feed_key(token_hash)))
        return None

    def get_feed_scope(self, owner: str, scope: str) -> FeedGrant | None:
        item = self._get(feed_scope_key(owner, scope))
        return None if item is None else feed_from_item(item)

    def put_feed(self, grant: FeedGrant, *, replaces: FeedGrant | None) -> bool:
        try:
            self._write(feed_requests.put_feed(self._name, grant, replaces=replaces))
        except ConditionFailed:
            return False
        return True

    def delete_feed(self, grant: FeedGrant) -> bool:
        try:
            self._write(feed_requests.delete_feed(self._name, grant))
        except ConditionFailed:
            return False
        return True

    def list_feeds(self, owner: str) -> list[FeedGrant]:
        partition = feed_scope_key(owner, "").pk
        request: dict[str, Any] = {
            "TableName": self._name,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": string(partition)},
            "ConsistentRead": True,
        }
        found: list[FeedGrant] = []
        while True:
            with self._table.errors():
                response = self._client.query(**request)
            found += [feed_from_item(item) for item in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
