"""``shards``, ``dlq`` and ``job-types``: a stack's shards and dead letters, on a running local
stack (its ``endpoint.json``), a deployed stack (``--stack``: its outputs) or the environment."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timer_service_cli.output import print_table

if TYPE_CHECKING:
    from timer_service_local.endpoint import Resources

__all__ = ["dlq_list", "dlq_redrive", "job_types", "shards_list", "shards_rebalance", "shards_set"]


def _connect(state_dir: Path, stack: str | None = None) -> tuple[Resources, Any]:
    """The resources of a deployed stack (``--stack``), of the running local stack (its
    endpoint file), else of the environment."""
    from timer_service.settings import DEFAULT_REGION, Settings
    from timer_service_local.endpoint import ENDPOINT_FILE, SIGNING_KEY_FILE, Resources

    endpoint_file = state_dir / ENDPOINT_FILE
    update: dict[str, Any] = {}
    if stack is not None:
        from timer_service_cli.deployment import Deployment

        endpoint_url = Settings.from_env().endpoint_url
        deployment = Deployment.load(stack, endpoint_url=endpoint_url)
        if Settings.region_from_env() is None:
            update["region"] = deployment.region
        resources = Resources(
            endpoint_url=endpoint_url,
            table=deployment.output("TableName"),
            idempotency_table="",
            dispatch_queue_url=deployment.output("QueueUrl"),
            dlq_url=deployment.output("DlqUrl"),
            output_queue_url=deployment.output("OutputQueueUrl"),
        )
        if (key_arn := deployment.outputs.get("MessageSigningKeyArn")) is not None:
            update["message_signing_key_arn"] = key_arn
    elif endpoint_file.exists():
        resources = Resources(**json.loads(endpoint_file.read_text()))
        if (key_file := state_dir / SIGNING_KEY_FILE).exists():
            update["message_signing_key"] = key_file.read_text().strip()
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.setdefault(Settings.env_name("region"), DEFAULT_REGION)
    else:
        settings = Settings.from_env()
        resources = Resources(
            endpoint_url=settings.endpoint_url,
            table=settings.table_name,
            idempotency_table=settings.idempotency_table or "",
            dispatch_queue_url=settings.dispatch_queue_url or "",
            dlq_url=settings.dlq_url or "",
            output_queue_url=settings.output_queue_url or "",
        )
    update |= {"endpoint_url": resources.endpoint_url, "table_name": resources.table}
    return resources, Settings.from_env().model_copy(update=update)


def _store(args: argparse.Namespace) -> Any:
    from timer_service.aws import dynamodb_client
    from timer_service.store.dynamodb import DynamoTimerStore

    resources, settings = _connect(args.state_dir, args.stack)
    return DynamoTimerStore(dynamodb_client(settings), resources.table)


def shards_list(args: argparse.Namespace) -> int:
    from timer_service.clock import format_utc

    store = _store(args)
    registry = store.get_registry()
    counts = store.count_timers_by_shard()
    rows = []
    for shard in sorted({*registry.all, *counts}):
        state = store.get_shard_state(shard)
        status = (
            "active"
            if shard in registry.active
            else "draining"
            if shard in registry.draining
            else "retired"
        )
        rows.append(
            (
                str(shard),
                status,
                str(counts.get(shard, 0)),
                "-" if state.done is None else format_utc(state.done * 60 + 59),
                "-" if state.claimed is None else format_utc(state.claimed * 60),
                ", ".join(
                    f"{b} min" + (" (retiring)" if b in state.retiring else "")
                    for b in sorted(state.bases)
                )
                or "-",
            )
        )
    print_table(("shard", "status", "timers", "done through", "claimed", "rate bases"), rows)
    return 0


def shards_set(args: argparse.Namespace) -> int:
    from timer_service.sharding import set_shard_count

    store = _store(args)
    draining = set_shard_count(store, args.count)
    message = f"{args.count} active shards"
    if draining:
        message += f"; draining {_ranges(draining)}: run `timer-service shards rebalance`"
    print(message)
    return 0


def shards_rebalance(args: argparse.Namespace) -> int:
    from timer_service.clock import SystemClock
    from timer_service.rebalance import Rebalancer

    store = _store(args)
    report = Rebalancer(store=store, clock=SystemClock()).rebalance()
    print(
        f"moved {report.moved} timers; {report.waiting} could not move yet"
        + (f"; {report.pinned} heartbeat timers stay on their shard" if report.pinned else "")
        + (f"; retired shards {_ranges(report.retired)}" if report.retired else "")
    )
    return 0 if report.waiting == 0 else 1


def _ranges(numbers: Sequence[int]) -> str:
    """``2, 3`` as it is, ``4, 5, 6, 9`` as ``4-6, 9``: a run of three or more as a range."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(
        f"{a}-{b}" if b - a >= 2 else ", ".join(map(str, range(a, b + 1))) for a, b in runs
    )


def job_types(args: argparse.Namespace) -> int:
    from timer_service.job_types import ENTRY_POINT_GROUP, JobTypeRegistry

    described = JobTypeRegistry.from_entry_points().describe()
    if args.json:
        print(json.dumps(described, indent=2))
        return 0
    print(f"{len(described)} job types installed (entry points {ENTRY_POINT_GROUP!r}):")
    for job_type in described:
        print(
            f"\n{job_type['name']}: {job_type['summary']}"
            f" (history by default: {job_type['defaultHistory']})"
        )
        print(json.dumps(job_type["schema"], indent=2))
    return 0


def _dead_letters(args: argparse.Namespace, *, redrive: bool = True) -> Any:
    """The one redrive path (timer_service.dead_letters), on the stack's table and queue."""
    from timer_service import wiring
    from timer_service.clock import SystemClock

    resources, settings = _connect(args.state_dir, args.stack)
    settings = wiring.resolved(
        settings.model_copy(update={"dispatch_queue_url": resources.dispatch_queue_url})
    )
    return wiring.dead_letters(settings, SystemClock(), redrive=redrive)


def dlq_list(args: argparse.Namespace) -> int:
    dead_letters = _dead_letters(args, redrive=False)
    items: list[Any] = []
    token = None
    # One owner's come newest first; every owner's in no order: read them all, then sort.
    while args.owner is None or len(items) < args.limit:
        limit = 1000 if args.owner is None else args.limit - len(items)
        page = dead_letters.look(args.owner, limit=limit, token=token)
        items += page.items
        token = page.next_token
        if token is None:
            break
    items.sort(key=lambda item: (item.scheduled_at, item.firing_id), reverse=True)
    if len(items) > args.limit:
        items, token = items[: args.limit], "more"
    rows = [
        (item.firing_id, str(item.version), str(item.receive_count), item.error) for item in items
    ]
    print_table(("firing", "version", "deliveries", "error"), rows)
    more = " (more: raise --limit)" if token is not None else ""
    print(f"{len(items)} firings in the dead-letter queue{more}")
    return 0


def dlq_redrive(args: argparse.Namespace) -> int:
    dead_letters = _dead_letters(args)
    ids = None if args.firing_ids is None else set(args.firing_ids)
    moved = 0
    while True:
        result = dead_letters.redrive(args.owner, firing_ids=ids)
        moved += result.redriven
        if not result.more or result.redriven == 0:
            break
    print(f"redrove {moved} firings to the dispatch queue")
    return 0
