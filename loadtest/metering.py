"""What a workload asks of AWS, counted as AWS bills it: requests by operation, and the read and
write units DynamoDB charges for each (item sizes rounded up to 4 KB reads, 1 KB writes)."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Meter", "RecordingSqs", "item_size"]


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return math.ceil(len(str(inner).lstrip("-").replace(".", "")) / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in inner.items())
    if kind in ("SS", "NS"):
        return sum(len(str(v).encode()) for v in inner)
    return sum(len(v) for v in inner)  # BS


class Meter:
    """Counts requests (``"dynamodb:Query"``) and DynamoDB capacity of boto3 clients."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.read_units = 0.0
        self.write_units = 0.0
        self.items_read = 0  # items a Query, GetItem or BatchGetItem answered with
        self.conditional_writes = 0  # writes (or transaction actions) with a condition
        # CPU seconds the metering itself spent (item sizes): not the handlers', as a
        # workload's CPU is billed, so the harness takes it out of the windows it times
        self.cpu_s = 0.0

    def attach(self, *clients: Any) -> None:
        for each in clients:
            each.meta.events.register("before-parameter-build.*.*", self._params)
            each.meta.events.register("before-call.*.*", self._before)
            each.meta.events.register("after-call.*.*", self._after)

    @staticmethod
    def _params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["metered_params"] = params  # the API's parameters, before serialisation

    def _before(self, model: Any, **_: Any) -> None:
        self.requests[f"{model.service_model.service_name}:{model.name}"] += 1

    def _after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name != "dynamodb":
            return
        started = time.thread_time()
        self._count(model, parsed, context)
        self.cpu_s += time.thread_time() - started

    def _count(self, model: Any, parsed: dict[str, Any], context: dict[str, Any]) -> None:
        reads, writes = _units(model.name, context.get("metered_params", {}), parsed)
        self.items_read += len(parsed.get("Items", [])) + ("Item" in parsed)
        batches = parsed.get("Responses")
        if isinstance(batches, dict):  # BatchGetItem's, by table
            self.items_read += sum(len(found) for found in batches.values())
        self.read_units += reads
        self.write_units += writes
        self.conditional_writes += _conditions(model.name, context.get("metered_params", {}))

    def snapshot(self) -> tuple[Counter[str], float, float]:
        return Counter(self.requests), self.read_units, self.write_units

    @contextmanager
    def window(self) -> Iterator[dict[str, Any]]:
        requests, reads, writes = self.snapshot()
        conditional = self.conditional_writes
        result: dict[str, Any] = {}
        yield result
        delta = Counter(self.requests)
        delta.subtract(requests)
        result["requests"] = {k: v for k, v in delta.items() if v}
        result["read_units"] = self.read_units - reads
        result["write_units"] = self.write_units - writes
        result["conditional_writes"] = self.conditional_writes - conditional


def _conditions(operation: str, params: dict[str, Any]) -> int:
    """How many conditional writes a request is: a write with a ``ConditionExpression``, or
    each such action (and each ``ConditionCheck``) of a transaction."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return int("ConditionExpression" in params)
    if operation == "TransactWriteItems":
        actions = [next(iter(a.values())) for a in params.get("TransactItems", [])]
        return sum(1 for a in actions if "ConditionExpression" in a)
    return 0


def _units(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
    factor = 1.0 if params.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        item = parsed.get("Item")
        return factor * (math.ceil(item_size(item) / 4096) if item else 1), 0.0
    if operation == "Query":
        total = sum(item_size(i) for i in parsed.get("Items", []))
        return factor * max(1, math.ceil(total / 4096)), 0.0
    if operation == "BatchGetItem":
        units = 0.0
        for table, request in params.get("RequestItems", {}).items():
            found = parsed.get("Responses", {}).get(table, [])
            each = 1.0 if request.get("ConsistentRead") else 0.5
            units += each * sum(math.ceil(item_size(i) / 4096) for i in found)
            units += each * (len(request.get("Keys", [])) - len(found))
        return units, 0.0
    if operation == "PutItem":
        return 0.0, max(1, math.ceil(item_size(params.get("Item", {})) / 1024))
    if operation in ("UpdateItem", "DeleteItem"):
        attributes = parsed.get("Attributes")
        return 0.0, max(1, math.ceil(item_size(attributes) / 1024)) if attributes else 1
    if operation == "TransactWriteItems":
        units = 0
        for action in params.get("TransactItems", []):
            put = action.get("Put")
            units += 2 * (max(1, math.ceil(item_size(put["Item"]) / 1024)) if put else 1)
        return 0.0, units
    if operation == "BatchWriteItem":
        units = 0
        for requests in params.get("RequestItems", {}).values():
            for request in requests:
                put = request.get("PutRequest")
                units += max(1, math.ceil(item_size(put["Item"]) / 1024)) if put else 1
        return 0.0, units
    return 0.0, 0.0


SQS_CHUNK_BYTES = 64 * 1024  # SQS bills each 64 KB chunk of a request's payload as a request


def sqs_requests(bodies: list[str]) -> int:
    """The requests SQS bills for one call carrying ``bodies``: one per 64 KB chunk."""
    return max(1, math.ceil(sum(len(body.encode()) for body in bodies) / SQS_CHUNK_BYTES))


class RecordingSqs:
    """An SQS client that accepts every batch and keeps the bodies (counted as the requests
    SQS bills: one per 64 KB chunk of a batch's payload)."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter
        self.bodies: list[str] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        bodies = [entry["MessageBody"] for entry in Entries]
        self._meter.requests["sqs:SendMessageBatch"] += sqs_requests(bodies)
        self.bodies.extend(bodies)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}
