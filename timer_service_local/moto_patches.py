"""Changes to moto that keep the local emulator fast: its cost independent of the table's size.

moto backs a TransactWriteItems up by deep-copying every table it names, once per action, so
a transaction on a table of 10,000 items takes 70-150 ms. The items of one transaction are
distinct (DynamoDB refuses two actions on one item), so every condition can be checked
against the state before the transaction and only the items it touches need backing up:
``fast_transactions`` checks all conditions first, then applies the actions, restoring the
touched items if applying one fails. Same answers, same errors, O(items touched).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

__all__ = [
    "atomic_writes",
    "cached_module_list",
    "fast_transactions",
    "no_queue_scans",
    "visibility_zero_releases",
]

_PATCHED = "_timer_service_fast"


_ATOMIC = "_timer_service_atomic"
_WRITES = threading.RLock()


def atomic_writes() -> None:
    """Make moto's DynamoDB writes atomic, as DynamoDB's are: moto's server answers requests on
    several threads and checks a write's condition, then applies it, with nothing between, so two
    conditional writes of one item (two tickers taking one lease) could both pass."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)
        if getattr(original, _ATOMIC, False):
            continue

        def serialized(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _WRITES:
                return __original(*args, **kwargs)

        setattr(serialized, _ATOMIC, True)
        setattr(DynamoDBBackend, name, serialized)


def fast_transactions() -> None:
    """Replace moto's TransactWriteItems with one that backs up only the touched items."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend.transact_write_items, _PATCHED, False):
        return

    def key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
        if op_type != "Put":
            return dict(op["Key"])
        table = backend.get_table(op["TableName"])
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
        return key

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        seen: set[tuple[str, str]] = set()
        actions: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        errors: list[Any] = []
        # Phase 1: shape, unicity and every condition, against the state before the transaction.
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            original_item = None
            try:
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                key = key_of(self, op_type, op)
                unique = (str(op["TableName"]), str(dict(sorted(key.items()))))
                if unique in seen:
                    raise MultipleTransactionsException()
                seen.add(unique)
                current = self.get_item(op["TableName"], key)
                condition = op.get("ConditionExpression")
                if condition is not None:
                    check = get_filter_expression(
                        condition,
                        op.get("ExpressionAttributeNames"),
                        op.get("ExpressionAttributeValues"),
                    )
                    if not check.expr(current):
                        wants_old = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                        if wants_old and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)
                actions.append((op_type, op, key))
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                raise
            except ConditionalCheckFailed as failed:
                errors.append(("ConditionalCheckFailed", str(failed.message), original_item))
            except Exception as failed:  # moto reports any other failure per action
                errors.append((type(failed).__name__, str(failed), original_item))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        # Phase 2: apply, with a backup of exactly the items touched.
        backups = [
            (op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key)))
            for op_type, op, key in actions
            if op_type != "ConditionCheck"
        ]
        try:
            for op_type, op, key in actions:
                # moto's own transaction passes None when the action has none.
                names: Any = op.get("ExpressionAttributeNames")
                values: Any = op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(
                        op["TableName"],
                        op["Item"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                elif op_type == "Delete":
                    self.delete_item(
                        op["TableName"],
                        key,
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                elif op_type == "Update":
                    self.update_item(
                        op["TableName"],
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
        except Exception:
            for table_name, key, item in backups:
                _restore(self, table_name, key, item)
            raise

    setattr(transact_write_items, _PATCHED, True)
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _restore(backend: Any, table_name: str, key: dict[str, Any], item: Any) -> None:
    """Put ``item`` back under ``key`` (or remove the key when there was no item)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = backend.get_table(table_name)
    hash_value = DynamoType(key[table.hash_key_attr])
    if table.range_key_attr is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
        return
    range_value = DynamoType(key[table.range_key_attr])
    if item is None:
        table.items.get(hash_value, {}).pop(range_value, None)
    else:
        table.items[hash_value][range_value] = item


def cached_module_list() -> None:
    """List moto's services once, not at every request (a stat per service each time)."""
    from functools import cache

    import moto.backends

    if getattr(moto.backends.list_of_moto_modules, _PATCHED, False):
        return
    original = moto.backends.list_of_moto_modules
    listed = cache(lambda: tuple(original()))
    setattr(listed, _PATCHED, True)
    moto.backends.list_of_moto_modules = listed


_SENDING = threading.local()


def no_queue_scans() -> None:
    """Sending and receiving do not scan the queue, so they cost the same however many messages
    wait in it. moto builds every attribute of the queue, three of them by looking at each
    message (``ApproximateNumberOfMessages*``), to read one: ``send_message`` for
    ``ContentBasedDeduplication`` (a FIFO queue's), and ``receive_message`` for
    ``MessageRetentionPeriod``, through ``get_queue_attributes``, twice for each message it
    returns (a receive of 10 from 1,000 messages took 0.8 s, under the emulator's lock)."""
    from moto.core.utils import unix_time
    from moto.sqs.models import Queue, SQSBackend

    original_send = SQSBackend.send_message
    if getattr(original_send, _PATCHED, False):
        return
    every_attribute = Queue.attributes

    def send_message(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
        _SENDING.active = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            _SENDING.active = False

    def attributes(queue: Queue) -> dict[str, Any]:
        if getattr(_SENDING, "active", False) and not queue.fifo_queue:
            return {}  # a standard queue has no ContentBasedDeduplication
        return every_attribute.fget(queue)  # type: ignore[attr-defined,no-any-return]

    def is_message_valid_based_on_retention_period(
        self: SQSBackend, queue_name: str, message: Any
    ) -> bool:
        queue = self.get_queue(queue_name)
        retention_s = int(queue.message_retention_period)  # type: ignore[attr-defined]
        return bool(retention_s + message.sent_timestamp / 1000 > unix_time())

    setattr(send_message, _PATCHED, True)
    SQSBackend.send_message = send_message  # type: ignore[method-assign]
    Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )


def visibility_zero_releases() -> None:
    """``ChangeMessageVisibility`` to 0 makes a message visible at once, as in SQS."""
    # moto checks visibility in the same millisecond it set it, finds the message not yet
    # visible and keeps it in flight until its old timeout ends.
    from moto.sqs.models import SQSBackend

    original = SQSBackend.change_message_visibility
    if getattr(original, _PATCHED, False):
        return

    def change_message_visibility(
        self: SQSBackend, queue_name: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        original(self, queue_name, receipt_handle, visibility_timeout)
        if int(visibility_timeout) != 0:
            return
        queue = self.get_queue(queue_name)
        for message in list(queue.pending_messages):
            if message.had_receipt_handle(receipt_handle):
                message.visible_at = 0
                queue.pending_messages.remove(message)

    setattr(change_message_visibility, _PATCHED, True)
    SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]
