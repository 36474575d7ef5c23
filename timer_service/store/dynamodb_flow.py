"""Flow control's items in the DynamoDB store: per (owner, key), a map of the runs holding
its slots; per (owner, key, second), a count of the runs started in it (TTL a minute)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from timer_service.aws_errors import error_code
from timer_service.keys import TTL_ATTRIBUTE, IndexKey
from timer_service.store.codecs import Item, key_item, number
from timer_service.store.table import ConditionFailed, DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DynamoFlow", "flow_key", "rate_key"]

RATE_TTL_S = 60


def flow_key(owner: str, key: str) -> IndexKey:
    return IndexKey(f"Q#{owner}#{key}", "Q")


def rate_key(owner: str, key: str, second: int) -> IndexKey:
    return IndexKey(f"Q#{owner}#{key}", f"S#{second}")


class DynamoFlow:
    """Slots and rates on the store's table (mixed into DynamoTimerStore)."""

    _client: DynamoDBClient
    _table: DynamoTable
    _name: str

    def _get(self, key: IndexKey) -> Item | None: ...  # the store's

    def acquire_slot(
        self, owner: str, key: str, holder: str, *, limit: int, now_s: int, until_s: int
    ) -> bool:
        if self._hold(owner, key, holder, limit=limit, until_s=until_s):
            return True
        if not self._expire(owner, key, now_s):  # a crashed run's slot, past its lease
            return False
        return self._hold(owner, key, holder, limit=limit, until_s=until_s)

    def release_slot(self, owner: str, key: str, holder: str) -> None:
        with self._table.errors():
            self._client.update_item(
                TableName=self._name,
                Key=key_item(flow_key(owner, key)),
                UpdateExpression="REMOVE holders.#h",
                ExpressionAttributeNames={"#h": holder},
            )

    def take_rate(self, owner: str, key: str, second: int, *, limit: int, count: int = 1) -> bool:
        if count > limit:  # a first count: the condition would let it through
            return False
        try:
            with self._table.errors():
                self._client.update_item(
                    TableName=self._name,
                    Key=key_item(rate_key(owner, key, second)),
                    UpdateExpression="ADD n :count SET #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(n) OR n <= :most",
                    ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                    ExpressionAttributeValues={
                        ":count": number(count),
                        ":most": number(limit - count),  # no arithmetic in a condition
                        ":ttl": number(second + RATE_TTL_S),
                    },
                )
        except ConditionFailed:
            return False
        return True

    def _hold(self, owner: str, key: str, holder: str, *, limit: int, until_s: int) -> bool:
        request: dict[str, Any] = {
            "TableName": self._name,
            "Key": key_item(flow_key(owner, key)),
            "UpdateExpression": "SET holders.#h = :until",
            "ConditionExpression": "attribute_not_exists(holders) OR size(holders) < :limit"
            " OR attribute_exists(holders.#h)",  # no map yet: the SET fails, and makes it
            "ExpressionAttributeNames": {"#h": holder},
            "ExpressionAttributeValues": {":until": number(until_s), ":limit": number(limit)},
        }
        for _ in range(2):
            try:
                with self._table.errors():
                    self._client.update_item(**request)
                return True
            except ConditionFailed:
                return False
            except ClientError as exc:  # the key's first run: its item has no map yet
                if error_code(exc) != "ValidationException":
                    raise
                with self._table.errors():
                    self._client.update_item(
                        TableName=self._name,
                        Key=key_item(flow_key(owner, key)),
                        UpdateExpression="SET holders = if_not_exists(holders, :empty)",
                        ExpressionAttributeValues={":empty": {"M": {}}},
                    )
        return False

    def _expire(self, owner: str, key: str, now_s: int) -> bool:
        """Remove the slots held past their lease; whether any was."""
        item = self._get(flow_key(owner, key)) or {}
        holders = item.get("holders", {}).get("M", {})
        expired = [h for h, until in holders.items() if int(until["N"]) < now_s][:20]
        if not expired:
            return False
        names = {f"#h{n}": h for n, h in enumerate(expired)}
        values = {f":u{n}": holders[h] for n, h in enumerate(expired)}
        try:
            with self._table.errors():
                self._client.update_item(
                    TableName=self._name,
                    Key=key_item(flow_key(owner, key)),
                    UpdateExpression="REMOVE " + ", ".join(f"holders.{n}" for n in names),
                    ConditionExpression=" AND ".join(
                        f"holders.#h{n} = :u{n}" for n in range(len(expired))
                    ),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
        except ConditionFailed:
            return False  # another run expired or renewed them first
        return True
