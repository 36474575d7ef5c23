"""The AWS the ``scale`` scenario ticks against: DynamoDB and SQS answers as AWS gives them, after
a modelled latency, for requests that real boto3 clients serialise and sign."""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import random
import threading
import time
import uuid
from typing import Any

__all__ = ["LATENCY_MS", "T0_MINUTE", "ModelledAws"]

T0_MINUTE = 29_000_000  # an epoch minute in 2025: the tick's; it reads the next (lookahead)

# Median latencies (ms) of the modelled AWS; each call draws lognormal(median, sigma 0.35).
LATENCY_MS = {
    "DynamoDB.Query": 6.0,  # plus the page's share of the partition's read limit
    "DynamoDB.UpdateItem": 5.0,
    "DynamoDB.PutItem": 5.0,
    "DynamoDB.GetItem": 3.0,
    "SQS.SendMessageBatch": 12.0,
}
PARTITION_READ_UNITS_PER_S = 3000  # DynamoDB's per-partition limit (strongly consistent)
QUERY_PAGE_BYTES = 1024 * 1024


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        return self._body


class ModelledAws:
    """Answers the tick's DynamoDB and SQS requests as AWS would, after a modelled latency.

    The shard's base-1 partition holds timers whose firings in the ticked minute add up to
    ``firings``: ``rate(1 minute)`` timers, and with ``second_share`` that share of the firings
    from ``rate(1 second)`` timers (60 each), their items spread evenly among the others."""

    @staticmethod
    def second_rate_timers(firings: int, second_share: float) -> int:
        """How many rate(1 second) timers give ``second_share`` of ``firings``."""
        return round(firings * second_share / 60)

    def __init__(self, shard: int, firings: int, *, second_share: float = 0.0) -> None:
        from timer_service.keys import IndexKey, index_sort_key, rate_partition
        from timer_service.store.dynamodb import index_item
        from timer_service.time_index import IndexEntry

        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()
        self._random = random.Random(shard)
        self._partition = rate_partition(shard, 1, 0)
        self._shard = shard
        pages: list[bytes] = []
        self._after: dict[str, int] = {}  # a page's LastEvaluatedKey sort key -> the next page
        page: list[str] = []
        size = 0
        seconds = self.second_rate_timers(firings, second_share)
        minutes = firings - 60 * seconds
        if minutes < 0:
            raise ValueError(f"{firings} firings cannot hold {seconds} rate(1 second) timers")
        # (place, id, second, period): the second rates evenly among the others, as their
        # sort keys would put them
        items = heapq.merge(
            ((n, f"t{n:07d}", n % 60, 60) for n in range(minutes)),
            ((n * minutes / seconds - 0.5, f"s{n:07d}", n % 60, 1) for n in range(seconds)),
        )
        for _, timer_id, second, period_s in items:
            entry = IndexEntry(
                key=IndexKey(self._partition, index_sort_key(second, "load", timer_id)),
                shard=shard,
                owner="load",
                timer_id=timer_id,
                version=1,
                kind="rate",
                second=second,
                misfire_policy="fireOnce",
                first_fire_s=(T0_MINUTE - 60) * 60 + second,
                period_s=period_s,
            )
            text = json.dumps(index_item(entry), separators=(",", ":"))
            if size + len(text) > QUERY_PAGE_BYTES:
                pages.append(self._page(page, last=False))
                self._after[json.loads(page[-1])["sk"]["S"]] = len(pages)
                page, size = [], 0
            page.append(text)
            size += len(text)
        pages.append(self._page(page, last=True))
        self._pages = pages

    def _page(self, items: list[str], *, last: bool) -> bytes:
        body = f'{{"Count":{len(items)},"ScannedCount":{len(items)},"Items":[{",".join(items)}]'
        if not last:
            cursor = json.loads(items[-1])
            key = json.dumps({"pk": cursor["pk"], "sk": cursor["sk"]})
            body += f',"LastEvaluatedKey":{key}'
        return (body + "}").encode()

    def _wait(self, operation: str, extra_s: float = 0.0) -> None:
        median = LATENCY_MS[operation] / 1000
        with self._lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1
            latency = self._random.lognormvariate(math.log(median), 0.35)
        time.sleep(max(latency, extra_s))

    def answer(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        service, _, operation = target.partition(".")
        body = json.loads(request.body or b"{}")
        if service.startswith("DynamoDB"):
            answer = self._dynamodb(operation, body)
        elif service.startswith("AmazonSQS"):
            answer = self._sqs(operation, body)
        else:
            raise RuntimeError(f"no model for {target!r}")
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "model"}
        return AWSResponse(request.url, 200, headers, _Raw(answer))

    def _dynamodb(self, operation: str, body: dict[str, Any]) -> bytes:
        if operation == "Query":
            partition = body["ExpressionAttributeValues"][":p"]["S"]
            if partition != self._partition:
                self._wait("DynamoDB.Query")
                return b'{"Count":0,"ScannedCount":0,"Items":[]}'
            start = body.get("ExclusiveStartKey")
            index = 0 if start is None else self._after[start["sk"]["S"]]
            page = self._pages[index]
            units = math.ceil(len(page) / 4096)
            self._wait("DynamoDB.Query", units / PARTITION_READ_UNITS_PER_S)
            return page
        if operation == "UpdateItem":
            self._wait("DynamoDB.UpdateItem")
            if body.get("ReturnValues") == "ALL_OLD":  # begin_tick: the shard's state before
                state = {
                    "pk": {"S": f"S#{self._shard}"},
                    "sk": {"S": "STATE"},
                    "done": {"N": str(T0_MINUTE)},  # steady state: one new minute a tick,
                    "claimed": {"N": str(T0_MINUTE)},  # the last one claimed and done
                    "bases": {"NS": ["1"]},
                }
                return json.dumps({"Attributes": state}).encode()
            return b"{}"
        self._wait(f"DynamoDB.{operation}")
        return b"{}"

    def _sqs(self, operation: str, body: dict[str, Any]) -> bytes:
        if operation != "SendMessageBatch":
            raise RuntimeError(f"no model for SQS {operation}")
        self._wait("SQS.SendMessageBatch")
        successful = [
            {
                "Id": entry["Id"],
                "MessageId": str(uuid.uuid4()),
                "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest(),
            }
            for entry in body["Entries"]
        ]
        return json.dumps({"Successful": successful, "Failed": []}).encode()
