"""Dollars per million firings: every AWS request of the real code, counted and priced.

Runs the real API service, tick engine and callback delivery against DynamoDB on the local
emulator and counts every boto3 request by ``service:Operation`` (botocore event hooks), with
the DynamoDB capacity each consumed, computed from the items read and written by DynamoDB's
rules (4 KB read units, halved when eventually consistent; 1 KB write units, doubled in
transactions). SQS sends are counted on a recording client, as SQS bills them (a request per
64 KB chunk of a call's payload), and so are the callbacks' receives. The
callback side adds what Lambda's SQS event source does for each batch of up to 10 messages
(one receive, one delete, one invocation). Lambda compute is the measured CPU time of the
handler code at the function's memory (ticker 1,024 MB, callback 512 MB).

Four workloads: ``--timers`` rate(1 minute) timers (one tick in which all fire), once alike and
once each with data of its own (``own_data``: its copy travels in the index and the messages);
``--second-timers`` rate(1 second) timers (one tick: each fires 60 times in its minute, one
Query item read for 60 firings); and one timer for each of ``--periods`` distinct rate periods
(1 to N minutes) ticked for ``--minutes`` minutes. Callback batches hold messages due in the
same second (as the event source receives them once SQS makes them visible), up to ten.
Flow control: ``--flow-timers`` rate(1 minute) timers sharing a ``concurrencyKey``, once with
``maxConcurrency`` and once with ``maxPerSecond`` (limits none of them reaches), priced next to
timers without a key: the callback's writes and conditional writes per firing.
Prices: ``timer_service.pricing`` (us-east-1, each with its source and date). With
``PACK_DEFLATE=true`` in the environment the ticker deflates packs' members, as a deploy with
that setting does.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from loadtest import BENCHMARK_SIGNING_KEY
from loadtest.cost_callbacks import callback_batches, deduplicated_policy, received
from loadtest.cost_report import report
from loadtest.metering import Meter, RecordingSqs, sqs_requests

__all__ = ["configure", "report", "run"]

T0 = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
TICKER_GB = 1.0
CALLBACK_GB = 0.5
CALLBACK_BATCH = 10  # messages per invocation (the event source's batch size)
FLOW_LIMIT = 1000  # the flow workloads' limit: above what they run at once or in a second
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def own_data(n: int) -> dict[str, Any]:
    """Timer ``n``'s data of its own, as an order's timer carries its order."""
    return {"orderId": 100_000 + n, "customer": f"cus_{n:08d}"}


class CountJob(BaseModel):
    """A job type that only counts its firings: the service's cost without a target's."""

    model_config = ConfigDict(extra="forbid")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timers", type=int, default=1000, help="rate(1 minute) timers")
    parser.add_argument(
        "--second-timers",
        type=int,
        default=1000,
        help="rate(1 second) timers, priced against the rate(1 minute) ones",
    )
    parser.add_argument("--periods", type=int, default=1000, help="distinct rate periods")
    parser.add_argument("--minutes", type=int, default=5, help="ticks of the mixed workload")
    parser.add_argument(
        "--density",
        type=int,
        default=10_000,
        help="firings per shard-minute at which the mixed workload is priced",
    )
    parser.add_argument("--shards", type=int, default=4, help="for the idle month")
    parser.add_argument(
        "--flow-timers", type=int, default=200, help="timers sharing a concurrencyKey"
    )


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    from timer_service.pricing import (
        eventbridge_scheduler_usd_per_million,
        idle_month_usd,
        step_functions_usd_per_million,
    )
    from timer_service_local.embedded import fake_credentials
    from timer_service_local.emulator.process import EmulatorProcess

    # DynamoDB in a process of its own (the local stack's emulator, in memory): the CPU time
    # measured here is the handlers', as Lambda bills it, not the emulator's serving them.
    with fake_credentials(), EmulatorProcess(None) as aws:
        if progress is not None:
            progress(0, 5, "rate(1 minute) timers")
        uniform = _workload(aws.url, "uniform", ["rate(1 minute)"] * args.timers, minutes=1)
        if progress is not None:
            progress(1, 5, "rate(1 minute) timers with data of their own")
        own = _workload(aws.url, "own", ["rate(1 minute)"] * args.timers, minutes=1, data=own_data)
        if progress is not None:
            progress(2, 5, "rate(1 second) timers")
        seconds = _workload(aws.url, "seconds", ["rate(1 second)"] * args.second_timers, minutes=1)
        if progress is not None:
            progress(3, 5, f"{args.periods} distinct periods")
        # One timer per period: a tick's reads.
        periods = [_minutes(1 + n) for n in range(args.periods)]
        mixed = _workload(aws.url, "mixed", periods, minutes=args.minutes)
        if progress is not None:
            progress(4, 5, "flow control")
        flow = {
            name: _workload(
                aws.url,
                f"flow-{name}",
                ["rate(1 minute)"] * args.flow_timers,
                minutes=1,
                spec={"concurrencyKey": "api.example.com", limit: FLOW_LIMIT},
            )
            for name, limit in (
                ("max_concurrency", "maxConcurrency"),
                ("max_per_second", "maxPerSecond"),
            )
        }
    # A tick's cost is a fixed part (its lease, claim and base reads, an invocation) and a part
    # per firing. The mixed workload's fixed part is priced at --density firings a minute, with
    # the per-firing part of the uniform one.
    per_firing = uniform["ticker_variable_usd"]
    mixed_ticker = (mixed["ticker_usd_per_tick"] / args.density + per_firing) * 1e6
    all_in_extra = uniform["usd"]["all_in"] - uniform["usd"]["ticker"]
    dedup_extra = uniform["usd"]["all_in_deduplicated"] - uniform["usd"]["ticker"]
    mixed_usd = {
        "ticker": round(mixed_ticker, 4),
        "all_in": round(mixed_ticker + all_in_extra, 4),
        "all_in_deduplicated": round(mixed_ticker + dedup_extra, 4),
    }
    idle = idle_month_usd(shards=args.shards)
    minute_usd, second_usd = uniform["usd"], seconds["usd"]
    return {
        "scenario": "cost",
        "firings_uniform": uniform["firings"],
        "mixed_requests_per_tick": mixed["requests_per_tick"],
        "mixed_density_firings_per_minute": args.density,
        "requests_per_1000_firings": uniform["per_1000"],
        "read_units_per_1000_firings": uniform["read_units_per_1000"],
        "write_units_per_1000_firings": uniform["write_units_per_1000"],
        "usd_per_million_firings": uniform["usd"],
        "usd_per_million_firings_mixed": mixed_usd,
        # the same timers, each with a timerCallbackData of its own (own_data): its copy
        # travels in the index items and the messages
        "usd_per_million_firings_own_data": own["usd"],
        "requests_per_1000_firings_own_data": own["per_1000"],
        "firings_rate_1_second": seconds["firings"],
        "usd_per_million_firings_rate_1_second": second_usd,
        "requests_per_1000_firings_rate_1_second": seconds["per_1000"],
        "read_units_per_1000_firings_rate_1_second": seconds["read_units_per_1000"],
        "write_units_per_1000_firings_rate_1_second": seconds["write_units_per_1000"],
        # rate(1 second) over rate(1 minute), per firing: 1.0 is the same price
        "rate_1_second_vs_1_minute": {
            side: round(second_usd[side] / minute_usd[side], 3) for side in minute_usd
        },
        "usd_per_million_eventbridge_scheduler": round(eventbridge_scheduler_usd_per_million(), 4),
        "usd_per_million_step_functions": round(step_functions_usd_per_million(), 4),
        "idle_usd_per_month": {k: round(v, 2) for k, v in idle.items()},
        "idle_usd_per_month_total": round(sum(idle.values()), 2),
        "idle_shards": args.shards,
        "distinct_periods": args.periods,
        # A firing's callback writes, per flow-control setting (without_key: the rate(1 minute)
        # workload's timers, which have none)
        "flow_control": {
            "timers": args.flow_timers,
            "without_key": _flow_figures(uniform),
            **{name: _flow_figures(figures) for name, figures in flow.items()},
        },
    }


def _flow_figures(workload: dict[str, Any]) -> dict[str, Any]:
    return {
        "firings": workload["firings"],
        "usd_per_million_all_in": workload["usd"]["all_in"],
        **workload["callback_writes"],
    }


def _minutes(period: int) -> str:
    return "rate(1 minute)" if period == 1 else f"rate({period} minutes)"


def _workload(
    endpoint: str,
    table: str,
    schedules: list[str],
    *,
    minutes: int,
    spec: dict[str, Any] | None = None,
    data: Callable[[int], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    from callbacks.idempotency import firing_config, make_run_once
    from timer_service.aws import client
    from timer_service.clock import FixedClock
    from timer_service.delivery import Delivery
    from timer_service.dispatch import SqsDispatchQueue, firings_in
    from timer_service.job_types import JobType, JobTypeRegistry
    from timer_service.messages import MessageSigner
    from timer_service.models import TimerSpec
    from timer_service.pricing import request_usd
    from timer_service.provisioning import create_idempotency_table, create_table
    from timer_service.service import TimerService
    from timer_service.settings import Settings
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service.tick import RACE_SLACK_S, TickEngine
    from timer_service_local.lambda_context import LocalContext

    dynamodb = client("dynamodb", "us-east-1", endpoint)
    create_table(dynamodb, table)
    create_idempotency_table(dynamodb, f"{table}-idempotency")
    meter = Meter()
    meter.attach(dynamodb)
    sqs = RecordingSqs(meter)
    clock = FixedClock(T0 + 1)
    store = DynamoTimerStore(dynamodb, table)
    queue = SqsDispatchQueue(
        sqs,  # type: ignore[arg-type]
        "https://sqs.local/q",
        clock=clock,
        signer=MessageSigner(BENCHMARK_SIGNING_KEY),
        deflate=Settings.from_env().pack_deflate,  # PACK_DEFLATE=true: as a deploy sets it
    )
    noop = JobType(name="count", config_model=CountJob, handler=lambda config, context: None)
    registry = JobTypeRegistry([noop])
    service = TimerService(store=store, clock=clock, job_types=registry, queue=queue)
    for n, schedule in enumerate(schedules):
        service.put(
            "load",
            f"t{n:05d}",
            TimerSpec.model_validate(
                {
                    "schedule": schedule,
                    "jobType": "count",
                    **(spec or {}),
                    **({} if data is None else {"timerCallbackData": data(n)}),
                }
            ),
        )
    engine = TickEngine(store=store, queue=queue, clock=clock)
    # Steady state: the timers were created well before (a firing of a timer written within
    # the race window of its minute travels alone, see tick.py), and one tick came before.
    first = 1 + (RACE_SLACK_S + 120) // 60
    clock.set(T0 + first * 60 + 1)
    engine.tick(0)
    sqs.bodies.clear()
    ticker_cpu = 0.0
    with meter.window() as ticker:
        for minute in range(first + 1, first + 1 + minutes):
            clock.set(T0 + minute * 60 + 1)
            started, metered = time.process_time(), meter.cpu_s
            engine.tick(0)
            ticker_cpu += time.process_time() - started - (meter.cpu_s - metered)
    ticker["requests"]["scheduler:Invoke"] = minutes
    ticker["requests"]["lambda:Invoke"] = minutes
    messages = list(sqs.bodies)
    firings = [f for body in messages for f in firings_in(body)]
    settings = Settings(table_name=table, endpoint_url=endpoint)
    callback_clock = FixedClock(T0)
    delivery = Delivery(
        store=store,
        job_types=registry,
        clock=callback_clock,
        settings=settings,
        client=lambda name: client(name, "us-east-1", endpoint),
    )
    config = firing_config()
    config.register_lambda_context(LocalContext())
    run_once = make_run_once(f"{table}-idempotency", dynamodb, config)
    # deduplicated: each batch through the callbacks' policy, with every timer read as
    # deduplicated, so a pack pays its ledger item (timer_service.pack_ledger)
    dedupe = deduplicated_policy(delivery, store, callback_clock, run_once)
    sides: dict[str, dict[str, Any]] = {}
    batches = callback_batches(messages, CALLBACK_BATCH)
    for mode in ("atLeastOnce", "deduplicated"):
        callback_cpu = 0.0
        with meter.window() as callback:
            for bodies in batches:
                batch = [f for body in bodies for f in firings_in(body)]
                # at its firings' second, as the event source hands it over
                callback_clock.set(max(f.due_s for f in batch) + 0.2)
                started, metered = time.process_time(), meter.cpu_s
                if mode == "deduplicated":
                    assert not dedupe.handle([received(body, n) for n, body in enumerate(bodies)])
                else:
                    reads = delivery.reads(batch)
                    for firing in batch:
                        delivery.deliver(firing, attempt=1, reads=reads)
                callback_cpu += time.process_time() - started - (meter.cpu_s - metered)
        invocations = len(batches)
        callback["requests"]["sqs:ReceiveMessage"] = sum(map(sqs_requests, batches))
        callback["requests"]["sqs:DeleteMessageBatch"] = invocations
        callback["requests"]["lambda:Invoke"] = invocations
        callback["gb_seconds"] = callback_cpu * CALLBACK_GB
        sides[mode] = callback
    ticker["gb_seconds"] = ticker_cpu * TICKER_GB

    def usd(side: dict[str, Any]) -> float:
        return request_usd(
            {k: v for k, v in side["requests"].items() if not k.startswith("dynamodb:")},
            read_units=side["read_units"],
            write_units=side["write_units"],
            lambda_gb_seconds=side["gb_seconds"],
        )

    count = len(firings)
    per_million = 1e6 / count
    callback = sides["atLeastOnce"]
    writes = sum(callback["requests"].get(f"dynamodb:{name}", 0) for name in WRITES)
    ticker_usd = usd(ticker) * per_million
    per_1000: Counter[str] = Counter()
    for side in (ticker, sides["atLeastOnce"]):
        for name, n in side["requests"].items():
            per_1000[name] += n
    per_tick = usd(ticker) / minutes
    fixed = request_usd({"scheduler:Invoke": 1, "lambda:Invoke": 1}, write_units=2, read_units=1)
    return {
        "firings": count,
        "messages": len(messages),
        "ticker_usd_per_tick": per_tick,
        "ticker_variable_usd": max(0.0, (per_tick - fixed) * minutes / count),
        "requests_per_tick": {
            k: round(v / minutes, 1) for k, v in sorted(ticker["requests"].items())
        },
        "per_1000": {k: round(v * 1000 / count, 2) for k, v in sorted(per_1000.items())},
        "read_units_per_1000": round(
            (ticker["read_units"] + sides["atLeastOnce"]["read_units"]) * 1000 / count, 2
        ),
        "write_units_per_1000": round(
            (ticker["write_units"] + sides["atLeastOnce"]["write_units"]) * 1000 / count, 2
        ),
        "callback_writes": {
            "writes_per_firing": round(writes / count, 3),
            "conditional_writes_per_firing": round(callback["conditional_writes"] / count, 3),
            "write_units_per_firing": round(callback["write_units"] / count, 3),
        },
        "usd": {
            "ticker": round(ticker_usd, 4),
            "all_in": round(ticker_usd + usd(sides["atLeastOnce"]) * per_million, 4),
            "all_in_deduplicated": round(ticker_usd + usd(sides["deduplicated"]) * per_million, 4),
        },
    }
