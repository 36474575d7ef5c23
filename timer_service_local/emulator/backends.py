"""Moto's backends rebuilt from records (a restore), and their contents as records (a snapshot)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from timer_service_local.emulator.capture import original
from timer_service_local.emulator.records import State, item_json, item_key, message_record

__all__ = ["backends", "dump", "restore"]

logger = logging.getLogger(__name__)


def backends(service: str) -> Any:
    """Moto's backends of ``service`` (dynamodb, sqs or s3), by account and region."""
    if service == "dynamodb":
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        return sqs_backends
    from moto.s3.models import s3_backends

    return s3_backends


def _message(record: dict[str, Any]) -> Any:
    from moto.sqs.models import Message

    message = Message(record["id"], record["body"], record["system"] or None)
    message.message_attributes = record["attrs"] or {}
    message.group_id = record["group"]
    message.deduplication_id = record["dedup"]
    message.sequence_number = record["seq"]
    message.sent_timestamp = record["sent"]
    message.delayed_until = record["delayed_until"]
    message.approximate_receive_count = record["receives"]
    message.approximate_first_receive_timestamp = record["first_receive"]
    return message


def restore(state: State) -> None:
    """Rebuild moto's backends from ``state`` (journaling off)."""
    for (service, account, region, name), calls in state.calls.items():
        backend = backends(service)[account][region]
        for record in calls:
            method = record["c"].split(".")[1]
            try:
                original(type(backend), method)(backend, **record["k"])
            except Exception:
                logger.exception("could not restore %s of %s", record["c"], name)
    for (account, region, table_name), items in state.items.items():
        backend = backends("dynamodb")[account][region]
        for item in items.values():
            backend.put_item(table_name, item)
    for (account, region, queue_name), messages in state.messages.items():
        queue = backends("sqs")[account][region].get_queue(queue_name)
        queue._messages.extend(_message(record) for record in messages.values())
    for (account, region, bucket), objects in state.objects.items():
        backend = backends("s3")[account][region]
        for key, value in objects.items():
            backend.put_object(bucket, key, value)


def dump(calls: dict[tuple[str, str, str, str], list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """The records of moto's current state, for the resources ``calls`` defines."""
    for (service, account, region, name), definition in calls.items():
        yield from definition
        backend = backends(service)[account][region]
        if service == "dynamodb":
            table = backend.get_table(name)
            for item in table.all_items():
                attrs = item_json(item)
                assert attrs is not None
                yield {
                    "a": account,
                    "r": region,
                    "t": name,
                    "k": item_key(table, attrs),
                    "item": attrs,
                }
        elif service == "sqs":
            queue = backend.get_queue(name)
            for message in list(queue._messages):
                yield {"a": account, "r": region, "q": name, "msg": message_record(message)}
        else:
            bucket = backend.get_bucket(name)
            for key in list(bucket.keys.values()):
                yield {
                    "a": account,
                    "r": region,
                    "b": name,
                    "k": key.name,
                    "obj": key.value,
                }
