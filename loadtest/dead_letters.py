"""dlq: one tenant's dead letters among many of another's: how long listing and redrive take.

Starts a fresh ``timer-service dev`` with two API keys (two tenants), puts ``--others`` dead
letters of the second tenant and ``--mine`` of the first into it (as the callbacks write
them), then times, through the HTTP API:

- the first tenant's ``GET /dlq`` (all of its own, whatever the other has), twice: looking
  changes nothing;
- its ``POST /dlq/redrive`` (each of its letters sent back once);
- the other tenant's first page, and one redrive call of theirs (up to 1,000 letters);

each tenant through a :class:`timer_service.client.TimerClient` with its key.

    .venv/bin/python -m loadtest dlq [--others 10000] [--mine 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from loadtest.stack import start_stack
from timer_service.client import TimerClient

__all__ = ["configure", "report", "run"]

GOAL_S = 5.0
KEYS = {"mine": "alice-key", "others": "bob-key"}
OWNERS = {"mine": "local", "others": "local-key2"}  # the local stack's owner per key, in order


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--others", type=int, default=10_000, help="the other tenant's letters")
    parser.add_argument("--mine", type=int, default=3, help="the measured tenant's letters")


def _seed(state_dir: Path, owner: str, count: int, first_s: int) -> None:
    from timer_service.aws import client
    from timer_service.clock import SystemClock
    from timer_service.dead_letters import DeadLetters
    from timer_service.dispatch import Firing
    from timer_service.store.dead_letters import DynamoDeadLetterStore

    resources = json.loads((state_dir / "endpoint.json").read_text())
    dynamodb = client("dynamodb", "us-east-1", resources["endpoint_url"])
    letters = DeadLetters(
        store=DynamoDeadLetterStore(dynamodb, resources["table"]), queue=None, clock=SystemClock()
    )

    def put(n: int) -> None:
        firing = Firing(owner, f"t{n:05d}", 1, first_s + n)
        letters.record(firing, error="HTTP 500 from https://example.com/hook", attempts=5)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, range(count)))


def _timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = call()
    return round(time.perf_counter() - started, 3), answer


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    import os

    figures: dict[str, Any] = {"scenario": "dlq", "others": args.others, "mine": args.mine}
    with tempfile.TemporaryDirectory() as scratch:
        cwd = Path(scratch)
        stack = start_stack(
            *("--api-key", KEYS["mine"], "--api-key", KEYS["others"]),
            *("--rate-limit", "0", "--quiet", "--shards", "1"),
            cwd=cwd,
        )
        try:
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                os.environ.setdefault(name, "testing")
            state_dir = cwd / ".timer-service"
            if progress:
                progress(0, 2, "writing dead letters")
            started = time.perf_counter()
            _seed(state_dir, OWNERS["others"], args.others, 1_900_000_000)
            _seed(state_dir, OWNERS["mine"], args.mine, 1_900_000_000)
            figures["seed_s"] = round(time.perf_counter() - started, 1)
            if progress:
                progress(1, 2, "listing and redriving")
            mine = TimerClient(stack.url, api_key=KEYS["mine"], timeout=120)
            others = TimerClient(stack.url, api_key=KEYS["others"], timeout=120)
            figures["list_s"], first = _timed(lambda: mine.dead_letters(limit=100))
            figures["list_again_s"], again = _timed(lambda: mine.dead_letters(limit=100))
            figures["listed"] = len(first.items)
            figures["looking_changed_nothing"] = first == again
            figures["redrive_s"], redrive = _timed(mine.redrive)
            figures["redriven"] = redrive.redriven
            figures["left_after_redrive"] = len(mine.dead_letters().items)
            figures["others_page_s"], page = _timed(lambda: others.dead_letters(limit=100))
            figures["others_page_items"] = len(page.items)
            figures["others_redrive_call_s"], call = _timed(others.redrive)
            figures["others_redriven_in_one_call"] = call.redriven
            figures["others_more"] = call.more
            mine.close()
            others.close()
            if progress:
                progress(2, 2, "done")
        finally:
            stack.stop()
    figures["goal_s"] = GOAL_S
    return figures


def report(figures: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table("measured", "figure", "goal", "met")
    among = f"among {figures['others']:,} of another tenant's"
    rows = [
        (f"list {figures['mine']} letters {among}", figures["list_s"], figures["listed"]),
        (f"redrive them {among}", figures["redrive_s"], figures["redriven"]),
        ("the other tenant's first page (100)", figures["others_page_s"], None),
        (
            "the other tenant's redrive call",
            figures["others_redrive_call_s"],
            figures["others_redriven_in_one_call"],
        ),
    ]
    for label, seconds, count in rows:
        shown = f"{seconds} s" + ("" if count is None else f" ({count} letters)")
        met = seconds <= GOAL_S
        table.add_row(label, shown, f"<= {GOAL_S:g} s", "yes" if met else "[red]no[/]")
    console.print(table)
    console.print(
        f"looking changed nothing: {figures['looking_changed_nothing']};"
        f" left after the redrive: {figures['left_after_redrive']};"
        f" seeding took {figures['seed_s']} s"
    )
