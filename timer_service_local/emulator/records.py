"""A change as the emulator journals it, and the state that records add up to.

A record is one of: a call defining a resource (``c``: ``service.method``, with its account
``a``, region ``r``, resource name ``n`` and arguments ``k``); an item's new value (``item``,
None once deleted, in table ``t`` under key ``k``); a message sent or moved to a dead-letter
queue (``msg``, in queue ``q``) or deleted (``gone``: its id); an object's new value (``obj``,
None once deleted, in bucket ``b`` under key ``k``).
"""

from __future__ import annotations

from typing import Any

from timer_service_local.journal import dumps

__all__ = [
    "CREATES",
    "DEFINITIONS",
    "DELETES",
    "State",
    "append_call",
    "item_json",
    "item_key",
    "message_record",
]

# Calls that define a resource, by service: method -> the argument naming the resource.
DEFINITIONS = {
    "dynamodb": {
        "create_table": "name",
        "update_table": "name",
        "update_time_to_live": "table_name",
        "delete_table": "name",
    },
    "sqs": {
        "create_queue": "name",
        "set_queue_attributes": "queue_name",
        "purge_queue": "queue_name",
        "delete_queue": "queue_name",
    },
    "s3": {"create_bucket": "bucket_name", "delete_bucket": "bucket_name"},
}
CREATES = {"create_table", "create_queue", "create_bucket"}
DELETES = {"delete_table", "delete_queue", "delete_bucket"}


class State:
    """Resources and their contents, built by applying records (snapshot, then journal)."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
        self.items: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        self.messages: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        self.objects: dict[tuple[str, str, str], dict[str, bytes]] = {}
        self._message_queue: dict[str, tuple[str, str, str]] = {}

    def apply(self, record: dict[str, Any]) -> None:
        if "c" in record:
            self._apply_call(record)
        elif "item" in record:
            table = (record["a"], record["r"], record["t"])
            items = self.items.setdefault(table, {})
            key = _key_text(record["k"])
            if record["item"] is None:
                items.pop(key, None)
            else:
                items[key] = record["item"]
        elif "msg" in record:
            message = record["msg"]
            queue = (record["a"], record["r"], record["q"])
            previous = self._message_queue.get(message["id"])
            if previous is not None:  # a move to a dead-letter queue
                self.messages.get(previous, {}).pop(message["id"], None)
            self.messages.setdefault(queue, {})[message["id"]] = message
            self._message_queue[message["id"]] = queue
        elif "gone" in record:
            queue = (record["a"], record["r"], record["q"])
            self.messages.get(queue, {}).pop(record["gone"], None)
            self._message_queue.pop(record["gone"], None)
        elif "obj" in record:
            bucket = (record["a"], record["r"], record["b"])
            objects = self.objects.setdefault(bucket, {})
            if record["obj"] is None:
                objects.pop(record["k"], None)
            else:
                objects[record["k"]] = record["obj"]

    def _apply_call(self, record: dict[str, Any]) -> None:
        service, method = record["c"].split(".")
        resource = (service, record["a"], record["r"], record["n"])
        contents = (record["a"], record["r"], record["n"])
        if method in DELETES:
            self.calls.pop(resource, None)
            contents_of: dict[str, dict[tuple[str, str, str], Any]] = {
                "dynamodb": self.items,
                "sqs": self.messages,
                "s3": self.objects,
            }
            contents_of[service].pop(contents, None)
        elif method in CREATES:
            self.calls.setdefault(resource, [record])  # creating what exists changes nothing
        elif resource in self.calls:
            if method == "purge_queue":
                for message_id in self.messages.pop(contents, {}):
                    self._message_queue.pop(message_id, None)
            else:
                append_call(self.calls[resource], record)

    def counts(self) -> dict[str, int]:
        return {
            "tables": sum(1 for key in self.calls if key[0] == "dynamodb"),
            "items": sum(len(items) for items in self.items.values()),
            "queues": sum(1 for key in self.calls if key[0] == "sqs"),
            "messages": sum(len(messages) for messages in self.messages.values()),
            "objects": sum(len(objects) for objects in self.objects.values()),
        }


def append_call(calls: list[dict[str, Any]], record: dict[str, Any]) -> None:
    """Add a call to a resource's definition; one made again moves to the end, not piling up."""
    # the stack sets its queues' attributes at each start: the same call, start after start
    if record in calls:
        calls.remove(record)
    calls.append(record)


def _key_text(key: dict[str, Any]) -> str:
    return dumps(dict(sorted(key.items()))).decode()


def item_key(table: Any, item_attrs: dict[str, Any]) -> dict[str, Any]:
    """The key attributes of a moto table's item."""
    key = {table.hash_key_attr: item_attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = item_attrs[table.range_key_attr]
    return key


def item_json(item: Any) -> dict[str, Any] | None:
    """A moto item's attributes as DynamoDB JSON; None for no item."""
    return None if item is None else dict(item.to_json()["Attributes"])


def message_record(message: Any) -> dict[str, Any]:
    """A moto SQS message as a record's ``msg``."""
    return {
        "id": message.id,
        "body": message.body,
        "attrs": message.message_attributes,
        "system": message.system_attributes,
        "group": message.group_id,
        "dedup": message.deduplication_id,
        "seq": message.sequence_number,
        "sent": message.sent_timestamp,
        "delayed_until": message.delayed_until,
        "receives": message.approximate_receive_count,
        "first_receive": message.approximate_first_receive_timestamp,
    }
