"""AWS requests per 1,000 rate-timer firings, ticker side and callback side.

Runs the real core against DynamoDB on an embedded moto server and counts every boto3 call by
operation. SQS is a recording client behind the same ``send_message_batch`` seam (moto's SQS
slows down sharply with a thousand delayed messages; the count of calls is what matters here).
Usage: ``.venv/bin/python -m loadtest.requests [--timers 1000]``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from rich.console import Console
from rich.table import Table

from callbacks.idempotency import firing_config, make_run_once
from timer_service.aws import client
from timer_service.clock import FixedClock
from timer_service.delivery import Delivery
from timer_service.dispatch import Firing, SqsDispatchQueue
from timer_service.job_types import JobType, JobTypeRegistry
from timer_service.local.embedded import EmbeddedAws, fake_credentials
from timer_service.local.lambda_context import LocalContext
from timer_service.models import TimerSpec
from timer_service.provisioning import create_idempotency_table, create_table
from timer_service.service import TimerService
from timer_service.settings import Settings
from timer_service.store.dynamodb import DynamoTimerStore
from timer_service.tick import TickEngine


class CountJob(BaseModel):
    """A job type that only records its firings: the callback cost without a target's."""

    model_config = ConfigDict(extra="forbid")


WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
T0 = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())


class CallCounter:
    """Counts the API calls of boto3 clients by ``Service.Operation``."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def attach(self, *clients: Any) -> None:
        for each in clients:
            each.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    @contextmanager
    def window(self) -> Iterator[Counter[str]]:
        before = Counter(self.calls)
        result: Counter[str] = Counter()
        yield result
        result.update(self.calls)
        result.subtract(before)
        for name in [name for name, n in result.items() if n == 0]:
            del result[name]


class RecordingSqs:
    """An SQS client that accepts every batch and keeps the bodies."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.bodies: list[str] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        self.calls["sqs.SendMessageBatch"] += 1
        self.bodies.extend(entry["MessageBody"] for entry in Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def dynamodb_writes(calls: Counter[str]) -> int:
    return sum(n for op, n in calls.items() if op.split(".")[1] in WRITES)


def run(timers: int) -> dict[str, Any]:
    with fake_credentials(), EmbeddedAws() as aws:
        dynamodb = client("dynamodb", "us-east-1", aws.url)
        create_table(dynamodb, "bench")
        counter = CallCounter()
        counter.attach(dynamodb)
        sqs = RecordingSqs()
        clock = FixedClock(T0 + 1)
        store = DynamoTimerStore(dynamodb, "bench")
        queue = SqsDispatchQueue(sqs, "https://sqs.local/bench", clock=clock)  # type: ignore[arg-type]
        delivered: list[Firing] = []
        noop = JobType(
            name="count",
            config_model=CountJob,
            handler=lambda config, context: delivered.append(context.firing),
        )
        registry = JobTypeRegistry([noop])
        service = TimerService(store=store, clock=clock, job_types=registry, queue=queue)
        for n in range(timers):
            service.put(
                "bench",
                f"t{n:05d}",
                TimerSpec.model_validate({"schedule": "rate(1 minute)", "jobType": "count"}),
            )
        engine = TickEngine(store=store, queue=queue, clock=clock)
        clock.set(T0 + 61)
        engine.tick(0)  # first tick: minutes 12:01 and 12:02
        clock.set(T0 + 121)
        with counter.window() as empty_tick:
            engine.tick(1)  # a shard without timers: the fixed cost of a tick
        sqs_before = sqs.calls["sqs.SendMessageBatch"]
        sqs.bodies.clear()
        with counter.window() as tick:
            started = time.perf_counter()
            engine.tick(0)  # minute 12:03: every timer fires once
            tick_s = time.perf_counter() - started
        tick["sqs.SendMessageBatch"] = sqs.calls["sqs.SendMessageBatch"] - sqs_before
        firings = [Firing.from_message(body) for body in sqs.bodies]
        settings = Settings(table_name="bench", endpoint_url=aws.url)
        delivery = Delivery(
            store=store,
            job_types=registry,
            clock=FixedClock(T0 + 10**6),
            settings=settings,
            client=lambda name: client(name, "us-east-1", aws.url),
        )
        with counter.window() as callbacks:
            for start in range(0, len(firings), 10):
                batch = firings[start : start + 10]
                timers_by_key = delivery.load(batch)
                for firing in batch:
                    delivery.deliver(firing, attempt=1, timers=timers_by_key)
        delivered_once = len(delivered)
        # The same firings again, as `delivery: deduplicated` timers: the idempotency price.
        create_idempotency_table(dynamodb, "bench-idempotency")
        config = firing_config()
        config.register_lambda_context(LocalContext())
        run_once = make_run_once("bench-idempotency", dynamodb, config)
        with counter.window() as deduplicated:
            for start in range(0, len(firings), 10):
                batch = firings[start : start + 10]
                timers_by_key = {
                    key: timer.model_copy(update={"delivery": "deduplicated"})
                    for key, timer in delivery.load(batch).items()
                }
                for firing in batch:
                    delivery.deliver(firing, attempt=1, timers=timers_by_key, run_once=run_once)
    fired = sum(1 for f in firings if f.scheduled_s // 60 == (T0 + 180) // 60)
    return {
        "timers": timers,
        "firings_sent_by_tick": fired,
        "firings_delivered": delivered_once,
        "tick_seconds_on_moto": round(tick_s, 2),
        "empty_tick_calls": dict(empty_tick),
        "tick_calls": dict(tick),
        "callback_calls": dict(callbacks),
        "deduplicated_callback_calls": dict(deduplicated),
        "per_1000": {
            "ticker_sqs_calls": 1000
            * sum(n for op, n in tick.items() if op.startswith("sqs"))
            / fired,
            "ticker_dynamodb_writes": 1000 * dynamodb_writes(tick) / fired,
            "ticker_dynamodb_writes_above_empty_tick": 1000
            * (dynamodb_writes(tick) - dynamodb_writes(empty_tick))
            / fired,
            "callback_dynamodb_writes": 1000 * dynamodb_writes(callbacks) / delivered_once,
            "callback_dynamodb_reads": 1000
            * sum(n for op, n in callbacks.items() if op.startswith("dynamodb"))
            / delivered_once,
            "deduplicated_callback_dynamodb_writes": 1000 * dynamodb_writes(deduplicated) / fired,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = run(args.timers)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    console = Console()
    table = Table("per 1,000 rate-timer firings", "requests", "goal")
    per = result["per_1000"]
    table.add_row("ticker: SQS calls", f"{per['ticker_sqs_calls']:.1f}", "<= 105")
    table.add_row("ticker: DynamoDB writes", f"{per['ticker_dynamodb_writes']:.1f}", "")
    table.add_row(
        "ticker: DynamoDB writes beyond an empty tick",
        f"{per['ticker_dynamodb_writes_above_empty_tick']:.1f}",
        "0",
    )
    table.add_row(
        "callbacks: DynamoDB writes (atLeastOnce)", f"{per['callback_dynamodb_writes']:.1f}", "0"
    )
    table.add_row("callbacks: DynamoDB reads", f"{per['callback_dynamodb_reads']:.1f}", "")
    table.add_row(
        "callbacks: DynamoDB writes (deduplicated)",
        f"{per['deduplicated_callback_dynamodb_writes']:.1f}",
        "",
    )
    console.print(table)
    console.print(f"tick calls: {result['tick_calls']}")
    console.print(f"empty tick calls: {result['empty_tick_calls']}")
    console.print(f"callback calls: {result['callback_calls']}")
    console.print(f"deduplicated callback calls: {result['deduplicated_callback_calls']}")
    console.print(
        f"{result['firings_sent_by_tick']} firings sent by one tick, "
        f"{result['firings_delivered']} delivered"
    )


if __name__ == "__main__":
    main()
