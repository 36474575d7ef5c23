"""labels: a listing by label and a bulk action over 10,000 timers, on DynamoDB, as AWS bills it.

Seeds ``--timers`` timers of one owner into a table on moto (in this process, with the local
emulator's patches) as the service writes
them (each timer with its rate index item and one item per label; BatchWriteItem), all labelled
``env=load`` and ``--percent`` of them (spread over the ids) ``team=payments`` and webhooks too.
Then, through the real service on the DynamoDB store, with every request counted and its read
units computed by DynamoDB's rules (:mod:`loadtest.metering`):

- the first ``--page`` timers of ``team=payments`` (``GET /periodic?label=team:payments``);
- the same timers found without a label (``?jobType=webhook``: the owner's timers read in id
  order, kept when they match), pages followed until as many are found;
- ``pause`` of every ``env=load`` timer (``POST /periodic/bulk``), ``--bulk-limit`` a call, each
  call from the last one's token, to the end, timed; then every timer is read back: each paused
  by exactly one write, none left in the time index.

    .venv/bin/python -m loadtest labels [--timers 10000] [--percent 1] [--json PATH]

Seconds are moto's on this machine, not DynamoDB's (whose requests take a few milliseconds);
the counts of requests, items and read units are what DynamoDB would bill.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from loadtest.metering import Meter

__all__ = ["configure", "report", "run"]

T0 = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
OWNER = "load"
TABLE = "labels"
GOAL_PAGES = 5  # "at most a few pages": requests of the label listing
API_GATEWAY_S = 29.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timers", type=int, default=10_000, help="timers of the owner")
    parser.add_argument("--percent", type=float, default=1.0, help="of them team=payments")
    parser.add_argument("--page", type=int, default=50, help="timers the listing shows")
    parser.add_argument("--bulk-limit", type=int, default=100, help="timers a bulk call")


def _seed(dynamodb: Any, count: int, every: int) -> list[str]:
    """The timers as the service writes them, in batches of 25 items; the payments ids."""
    from timer_service.keys import label_key, owner_count_key
    from timer_service.models import Timer
    from timer_service.store.codecs import index_item, key_item, number, timer_item
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service.time_index import index_entry

    items: list[dict[str, Any]] = []
    payments = []
    bases: set[int] = set()
    for n in range(count):
        labels = {"env": "load"}
        job: dict[str, Any] = {"job_type": "sqs"}
        if n % every == 0:
            labels["team"] = "payments"
            job = {"job_type": "webhook", "job": {"url": "https://example.com/hook"}}
            payments.append(f"t{n:05d}")
        timer = Timer(
            owner=OWNER,
            id=f"t{n:05d}",
            shard=0,
            schedule="rate(1 hour)",
            first_fire_s=T0 + 3600,
            labels=labels,
            firing_weight=1,
            created_s=T0,
            updated_s=T0,
            **job,
        )
        entry = index_entry(timer, after_s=T0)
        assert entry is not None and entry.base_min is not None
        bases.add(entry.base_min)
        items += [timer_item(timer), index_item(entry)]
        items += [key_item(label_key(OWNER, k, v, timer.id)) for k, v in labels.items()]
    counts = {**key_item(owner_count_key(OWNER)), "timers": number(count), "firings": number(count)}
    items.append(counts)
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={TABLE: batch})
    for base in bases:  # as a put makes sure the ticker reads it
        DynamoTimerStore(dynamodb, TABLE).ensure_base(0, base)
    return payments


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    from moto import mock_aws

    from timer_service.aws import client
    from timer_service.bulk import BulkRequest, BulkResult, run_bulk
    from timer_service.clock import FixedClock
    from timer_service.job_types import JobTypeRegistry
    from timer_service.listing import TimerFilter
    from timer_service.provisioning import create_table
    from timer_service.service import TimerService
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service_local.embedded import fake_credentials
    from timer_service_local.moto_patches import fast_transactions

    every = max(1, round(100 / args.percent))
    figures: dict[str, Any] = {"scenario": "labels", "timers": args.timers, "page": args.page}
    fast_transactions()  # the emulator's: a transaction's cost independent of the table's size
    with fake_credentials(), mock_aws():
        dynamodb = client("dynamodb", "us-east-1", None)
        create_table(dynamodb, TABLE)
        if progress:
            progress(0, 4, f"seeding {args.timers:,} timers")
        started = time.perf_counter()
        payments = _seed(dynamodb, args.timers, every)
        figures["seed_s"] = round(time.perf_counter() - started, 1)
        figures["labelled"] = len(payments)
        meter = Meter()
        meter.attach(dynamodb)
        clock = FixedClock(T0 + 60)
        service = TimerService(
            store=DynamoTimerStore(dynamodb, TABLE),
            clock=clock,
            job_types=JobTypeRegistry.from_entry_points(),
        )
        if progress:
            progress(1, 4, "listing by label")
        by_label = TimerFilter(labels={"team": "payments"})
        figures["by_label"] = _listing(meter, service, by_label, args.page)
        figures["by_label"]["ids_ok"] = figures["by_label"].pop("ids") == payments[: args.page]
        if progress:
            progress(2, 4, "listing without a label")
        without = _listing(meter, service, TimerFilter(job_type="webhook"), args.page)
        figures["without_label"] = without
        figures["without_label"]["ids_ok"] = without.pop("ids") == payments[: args.page]
        if progress:
            progress(3, 4, f"bulk pause of {args.timers:,} timers")
        results: list[BulkResult] = []
        seconds: list[float] = []
        token = None
        with meter.window() as bulk:
            started = time.perf_counter()
            while True:
                request = BulkRequest.model_validate(
                    {
                        "action": "pause",
                        "selector": {"env": "load"},
                        "limit": args.bulk_limit,
                        "nextToken": token,
                    }
                )
                call_started = time.perf_counter()
                results.append(run_bulk(service, OWNER, request))
                seconds.append(time.perf_counter() - call_started)
                token = results[-1].next_token
                if progress:
                    progress(3, 4, f"bulk pause: {sum(r.matched for r in results):,} timers")
                if token is None:
                    break
            total_s = time.perf_counter() - started
        total = BulkResult.total(results)
        figures["bulk"] = {
            "calls": len(results),
            "seconds": round(total_s, 1),
            "slowest_call_s": round(max(seconds), 2),
            "matched": total.matched,
            "changed": total.changed,
            "failed": total.failed,
            "requests": sum(bulk["requests"].values()),
            "requests_per_timer": round(sum(bulk["requests"].values()) / max(1, total.matched), 2),
            "write_units": bulk["write_units"],
        }
        figures["bulk"]["every_timer_paused_once"] = _all_paused_once(dynamodb, args.timers)
        if progress:
            progress(4, 4, "done")
    figures["goal_pages"] = GOAL_PAGES
    return figures


def _listing(meter: Meter, service: Any, where: Any, wanted: int) -> dict[str, Any]:
    """Pages of ``where`` followed until ``wanted`` timers are found: what they read."""
    ids: list[str] = []
    token = None
    items_before = meter.items_read
    with meter.window() as window:
        started = time.perf_counter()
        pages = 0
        while len(ids) < wanted:
            page = service.list(OWNER, limit=wanted - len(ids), next_token=token, where=where)
            pages += 1
            ids += [t.id for t in page.items]
            token = page.next_token
            if token is None:
                break
        seconds = time.perf_counter() - started
    return {
        "ids": ids,
        "found": len(ids),
        "pages": pages,
        "requests": sum(window["requests"].values()),
        "requests_by_operation": window["requests"],
        "items_read": meter.items_read - items_before,
        "read_units": window["read_units"],
        "seconds": round(seconds, 3),
    }


def _all_paused_once(dynamodb: Any, count: int) -> bool:
    """Every timer paused at version 2 (one write each), and none left in the time index."""
    from timer_service.store.codecs import timer_from_item

    paginator = dynamodb.get_paginator("scan")
    timers, indexed = [], 0
    for page in paginator.paginate(TableName=TABLE):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("T#"):
                timers.append(timer_from_item(item))
            elif item["pk"]["S"].startswith("S#"):
                indexed += 1
    return (
        len(timers) == count
        and all(not t.enabled and t.version == 2 for t in timers)
        and indexed == 0
    )


def report(figures: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    label, without, bulk = figures["by_label"], figures["without_label"], figures["bulk"]
    table = Table(
        f"{figures['page']} of {figures['labelled']:,} timers among {figures['timers']:,}",
        "requests",
        "items read",
        "read units",
        "seconds",
        "goal",
    )
    table.add_row(
        "?label=team:payments",
        str(label["requests"]),
        f"{label['items_read']:,}",
        f"{label['read_units']:g}",
        f"{label['seconds']:.3f}",
        f"<= {figures['goal_pages']} requests, not {figures['timers']:,} items",
    )
    table.add_row(
        "?jobType=webhook (no label: the owner's timers)",
        str(without["requests"]),
        f"{without['items_read']:,}",
        f"{without['read_units']:g}",
        f"{without['seconds']:.3f}",
        "",
    )
    console.print(table)
    bulk_table = Table("bulk pause by label", "figure")
    bulk_table.add_row("timers paused / failed", f"{bulk['changed']:,} / {bulk['failed']}")
    bulk_table.add_row("calls (each from the last one's token)", str(bulk["calls"]))
    bulk_table.add_row("seconds, all calls (emulator)", f"{bulk['seconds']}")
    bulk_table.add_row(
        "slowest call, seconds (API Gateway cuts at 29)", f"{bulk['slowest_call_s']}"
    )
    bulk_table.add_row("DynamoDB requests a timer", f"{bulk['requests_per_timer']}")
    bulk_table.add_row("every timer paused by one write", str(bulk["every_timer_paused_once"]))
    console.print(bulk_table)
