"""Where dead-lettered firings are kept, per owner: the port and its DynamoDB and memory adapters.

The SQS dead-letter queue is shared by every tenant and can only be read by receiving from it,
so finding one tenant's letters means receiving everyone's. Here each letter is an item in the
owner's partition (``D#{owner}``, keys in :mod:`timer_service.keys`): a tenant lists and
redrives its own with a Query, whatever others have; the operator's view scans the sparse
``deadLetters`` index, which holds dead letters only.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from timer_service.errors import InvalidRequestError
from timer_service.firing import Firing
from timer_service.keys import (
    DEAD_LETTER_INDEX,
    DEAD_LETTER_INDEX_PK,
    PK,
    SK,
    TTL_ATTRIBUTE,
    IndexKey,
    dead_letter_key,
    dead_letter_partition,
)
from timer_service.store.table import BATCH_WRITE_SIZE, DEFAULT_BACKOFF, Backoff, DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "DeadLetterRecord",
    "DeadLetterStore",
    "DynamoDeadLetterStore",
    "InMemoryDeadLetterStore",
]


@dataclass(frozen=True)
class DeadLetterRecord:
    """A firing that will not be delivered again unless redriven: why, and after how many tries."""

    firing: Firing
    error: str
    attempts: int
    dead_s: int

    @property
    def key(self) -> IndexKey:
        firing = self.firing
        return dead_letter_key(
            firing.owner,
            firing.timer_id,
            firing.scheduled_s,
            manual=firing.manual,
            backfill=firing.backfill,
        )


class DeadLetterStore(Protocol):
    """Dead letters by owner, newest firing first."""

    def put(self, letter: DeadLetterRecord, *, expires_s: int) -> None:
        """Keep ``letter`` until ``expires_s``; the same firing again replaces it."""
        ...

    def page(
        self, owner: str | None, *, limit: int, token: str | None
    ) -> tuple[list[DeadLetterRecord], str | None]:
        """Up to ``limit`` of the owner's letters (every owner's with None) after ``token``,
        and the token of the next page when more may follow. The owner's are read strongly
        consistent, newest first; every owner's in no particular order."""
        ...

    def delete(self, letters: Sequence[DeadLetterRecord]) -> None:
        """Remove these letters (absent ones are fine)."""
        ...


def _encode_token(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _decode_token(token: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError as exc:
        raise InvalidRequestError("nextToken is not one this API gave", field="nextToken") from exc
    if not isinstance(value, dict):
        raise InvalidRequestError("nextToken is not one this API gave", field="nextToken")
    return value


class DynamoDeadLetterStore:
    """Dead letters in the service's table."""

    def __init__(
        self, client: DynamoDBClient, table_name: str, *, backoff: Backoff = DEFAULT_BACKOFF
    ) -> None:
        self._client = client
        self._table = table_name
        self._dynamo = DynamoTable(client, table_name, backoff)

    def put(self, letter: DeadLetterRecord, *, expires_s: int) -> None:
        key = letter.key
        item = {
            PK: {"S": key.pk},
            SK: {"S": key.sk},
            DEAD_LETTER_INDEX_PK: {"S": key.pk},
            "firing": {"S": letter.firing.to_message()},
            "error": {"S": letter.error[:2000]},
            "attempts": {"N": str(letter.attempts)},
            "deadAt": {"N": str(letter.dead_s)},
            TTL_ATTRIBUTE: {"N": str(expires_s)},
        }
        with self._dynamo.errors():
            self._client.put_item(TableName=self._table, Item=item)

    def page(
        self, owner: str | None, *, limit: int, token: str | None
    ) -> tuple[list[DeadLetterRecord], str | None]:
        request: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        if token is not None:
            start = _decode_token(token)
            if owner is not None and start.get(PK) != {"S": dead_letter_partition(owner)}:
                raise InvalidRequestError("nextToken is not one this API gave", field="nextToken")
            request["ExclusiveStartKey"] = start
        with self._dynamo.errors():
            if owner is None:
                response = self._client.scan(IndexName=DEAD_LETTER_INDEX, **request)
            else:
                response = self._client.query(
                    KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": dead_letter_partition(owner)}},
                    ScanIndexForward=False,
                    ConsistentRead=True,
                    **request,
                )
        letters = [_letter(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return letters, None if last is None else _encode_token(last)

    def delete(self, letters: Sequence[DeadLetterRecord]) -> None:
        requests = [
            {"DeleteRequest": {"Key": {PK: {"S": k.pk}, SK: {"S": k.sk}}}}
            for k in dict.fromkeys(letter.key for letter in letters)
        ]
        batches = [
            requests[start : start + BATCH_WRITE_SIZE]
            for start in range(0, len(requests), BATCH_WRITE_SIZE)
        ]
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(batches)))) as pool:
            list(pool.map(self._dynamo.batch_write, batches))


def _letter(item: dict[str, Any]) -> DeadLetterRecord:
    return DeadLetterRecord(
        firing=Firing.from_message(item["firing"]["S"]),
        error=item["error"]["S"],
        attempts=int(item["attempts"]["N"]),
        dead_s=int(item["deadAt"]["N"]),
    )


class InMemoryDeadLetterStore:
    """Dead letters in a dict, for tests and the load harness."""

    def __init__(self) -> None:
        self._letters: dict[IndexKey, DeadLetterRecord] = {}
        self._lock = threading.Lock()

    def put(self, letter: DeadLetterRecord, *, expires_s: int) -> None:
        with self._lock:
            self._letters[letter.key] = letter

    def page(
        self, owner: str | None, *, limit: int, token: str | None
    ) -> tuple[list[DeadLetterRecord], str | None]:
        with self._lock:
            keys = sorted(
                (k for k in self._letters if owner is None or k.pk == dead_letter_partition(owner)),
                reverse=True,
            )
            if token is not None:
                after = IndexKey(*_decode_token(token)["key"])
                keys = [k for k in keys if k < after]
            chosen = keys[:limit]
            letters = [self._letters[k] for k in chosen]
        more = len(keys) > limit
        return letters, _encode_token({"key": list(chosen[-1])}) if more else None

    def delete(self, letters: Sequence[DeadLetterRecord]) -> None:
        with self._lock:
            for letter in letters:
                self._letters.pop(letter.key, None)
