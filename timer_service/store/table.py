"""One DynamoDB table through the low-level client, shared by the store adapters: every error
translated in one place, a batch's unprocessed part asked for again after a wait.

What a ClientError becomes (:func:`translated`):

- a false condition (ConditionalCheckFailedException, or a TransactionCanceledException with
  a ConditionalCheckFailed reason): :class:`ConditionFailed`, which the adapter answers (a
  version conflict, False), with the item as it was when the write asked for it
  (``ReturnValuesOnConditionCheckFailure=ALL_OLD``: the error's ``Item``, or in a transaction
  ``CancellationReasons[i].Item``), so no read is needed to learn the current version;
- what botocore's standard mode retries (a throttle, a 5xx, a 429:
  :func:`timer_service.aws_errors.is_transient`), or a write that met a transaction in flight
  (TransactionConflict): StoreError, retry later; botocore has retried it already;
- a missing table or index (ResourceNotFoundException) or a denied call: StoreMisconfiguredError,
  which no retry heals;
- anything else (a ValidationException ...): raised unchanged, a bug to see.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from timer_service.aws_errors import error_code, is_transient
from timer_service.errors import StoreError, StoreMisconfiguredError
from timer_service.store.codecs import Item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "DEFAULT_BACKOFF",
    "Backoff",
    "ConditionFailed",
    "Contended",
    "DynamoTable",
    "translated",
]

BATCH_GET_SIZE = 100  # BatchGetItem's limit
BATCH_WRITE_SIZE = 25  # BatchWriteItem's limit

# TransactWriteItems' cancellation reasons a retry may cure (API Reference, TransactWriteItems).
_TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
_MISCONFIGURED = {
    "ResourceNotFoundException": "does not exist (or lacks the index asked for)",
    "AccessDeniedException": "refuses the service's calls (its role lacks a permission)",
}


class ConditionFailed(Exception):
    """A conditional write found its condition false and wrote nothing."""

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        super().__init__("the conditional request failed")
        self.reasons = reasons  # one per action of a transaction; one for a lone write

    def failed(self, action: int) -> bool:
        """Whether the condition of ``action`` (its index in the transaction) was false."""
        return (
            len(self.reasons) > action
            and self.reasons[action].get("Code") == "ConditionalCheckFailed"
        )

    def old_item(self, action: int = 0) -> Item | None:
        """The item ``action`` was written over, as it was (None: there was none)."""
        return self.reasons[action].get("Item") if len(self.reasons) > action else None


class Contended(StoreError):
    """Another write held one of the items (TransactionConflict); trying again may succeed."""


def _translation(exc: ClientError, table: str) -> Exception:
    code = error_code(exc)
    response = cast(dict[str, Any], exc.response)
    if code == "ConditionalCheckFailedException":
        old = {"Item": response["Item"]} if "Item" in response else {}
        return ConditionFailed([{"Code": "ConditionalCheckFailed", **old}])
    if code == "TransactionCanceledException":
        reasons: list[dict[str, Any]] = response.get("CancellationReasons") or []
        found = {str(reason.get("Code")) for reason in reasons}
        if "ConditionalCheckFailed" in found:
            return ConditionFailed(reasons)
        if found & _TRANSIENT_REASONS:
            kind = Contended if "TransactionConflict" in found else StoreError
            why = ", ".join(sorted(found & _TRANSIENT_REASONS))
            return kind(f"DynamoDB table {table!r}: {code} ({why})")
        return exc
    if code in _MISCONFIGURED:
        return StoreMisconfiguredError(f"DynamoDB table {table!r} {_MISCONFIGURED[code]} ({code})")
    if code == "TransactionConflictException":
        return Contended(f"DynamoDB table {table!r}: {code}")
    if is_transient(exc):
        return StoreError(f"DynamoDB table {table!r}: {code}")
    return exc


@contextmanager
def translated(table: str) -> Iterator[None]:
    """Run DynamoDB calls on ``table`` with their ClientErrors translated (module docstring)."""
    try:
        yield
    except ClientError as exc:
        translation = _translation(exc, table)
        if translation is exc:
            raise
        raise translation from exc


@dataclass(frozen=True)
class Backoff:
    """Waits between tries of a batch's unprocessed part: exponential, capped, full jitter (a
    uniform draw under the cap; AWS Architecture Blog, "Exponential Backoff And Jitter")."""

    attempts: int = 8
    base_s: float = 0.05
    cap_s: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = random.uniform

    def wait(self, retry: int) -> None:
        """Sleep before retry number ``retry`` (0 for the first)."""
        self.sleep(self.jitter(0.0, min(self.cap_s, self.base_s * 2**retry)))


DEFAULT_BACKOFF = Backoff()


class DynamoTable:
    """A table's name and client, its errors translated, its batches retried."""

    def __init__(self, client: DynamoDBClient, name: str, backoff: Backoff) -> None:
        self.client = client
        self.name = name
        self._backoff = backoff

    def errors(self) -> AbstractContextManager[None]:
        """A context in which ClientErrors of this table are translated."""
        return translated(self.name)

    def holds(self, call: Callable[..., Any], request: dict[str, Any]) -> bool:
        """Make the conditional write ``call(**request)`` (the client's put_item, update_item
        or delete_item); False when its condition did not hold and nothing was written."""
        try:
            with self.errors():
                call(**request)
        except ConditionFailed:
            return False
        return True

    def batch_get(self, keys: list[Item]) -> list[Item]:
        """The items of up to 100 ``keys`` that exist, read strongly consistent."""
        request = {self.name: {"Keys": keys, "ConsistentRead": True}}
        responses = self._until_processed(self.client.batch_get_item, request, "UnprocessedKeys")
        return [item for response in responses for item in response["Responses"].get(self.name, [])]

    def batch_write(self, requests: list[dict[str, Any]]) -> None:
        """Up to 25 put or delete requests, all applied."""
        self._until_processed(
            self.client.batch_write_item, {self.name: requests}, "UnprocessedItems"
        )

    def _until_processed(
        self, call: Callable[..., Any], request: dict[str, Any], unprocessed: str
    ) -> list[Any]:
        """The answers of ``call`` on ``request``, then on what it left ``unprocessed`` after a
        wait, until nothing is left; StoreError when something still is after the last try."""
        answers: list[Any] = []
        for attempt in range(self._backoff.attempts):
            if attempt:
                self._backoff.wait(attempt - 1)
            with self.errors():
                answers.append(call(RequestItems=request))
            request = dict(answers[-1].get(unprocessed) or {})
            if not request:
                return answers
        tries = self._backoff.attempts
        raise StoreError(f"DynamoDB table {self.name!r}: {unprocessed} after {tries} tries")
