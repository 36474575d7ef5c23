"""Timers created while ticks run, firing inside minutes the ticker has already claimed.

On a local stack (2 shards, webhooks to a local receiver), clients create N one-shot timers
continuously, each due 5-70 s after it is created: many land in a minute a tick claimed (or
read) before the timer existed, which is where the API sends the firing itself and the
hand-off must not double it. A sample is deleted 1 s, 0.5 s or 0.1 s before its second.
Reports lost, doubled, early and fired-after-delete firings.

    .venv/bin/python -m loadtest.race [--timers 1000] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtest.stack import WebhookReceiver, start_stack
from timer_service.client import TimerClient

__all__ = ["run"]

DELETE_BEFORE_S = (1.0, 0.5, 0.1)


def run(timers: int = 1000, *, clients: int = 8, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    receiver = WebhookReceiver()
    scheduled: dict[str, int] = {}
    deleted_at: dict[str, float] = {}  # when DELETE returned
    deleters: list[threading.Thread] = []
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as state_dir:
        stack = start_stack(
            "--allow-private-targets",
            "--shards",
            "2",
            "--rate-limit",
            "0",
            "--state-dir",
            state_dir,
            cwd=Path(state_dir),
        )
        client = TimerClient(stack.url, timeout=30)

        def delete_later(timer_id: str, fire_s: int, before_s: float) -> None:
            time.sleep(max(0.0, fire_s - before_s - time.time()))
            client.delete(timer_id)
            with lock:
                deleted_at[timer_id] = time.time()

        def create(n: int) -> None:
            timer_id = f"race-{n:05d}"
            fire_s = int(time.time()) + rng.randint(5, 70)
            at = datetime.fromtimestamp(fire_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
            body = {
                "schedule": f"at({at})",
                "jobType": "webhook",
                "job": {"url": f"{receiver.url}/{timer_id}"},
            }
            client.put(timer_id, body, if_none_match=True)
            with lock:
                scheduled[timer_id] = fire_s
            if n % 25 == 0:  # a sample is deleted just before its second
                before_s = DELETE_BEFORE_S[(n // 25) % len(DELETE_BEFORE_S)]
                thread = threading.Thread(target=delete_later, args=(timer_id, fire_s, before_s))
                thread.start()
                deleters.append(thread)

        started = time.perf_counter()
        try:
            with ThreadPoolExecutor(max_workers=clients) as pool:
                list(pool.map(create, range(timers)))
            create_s = time.perf_counter() - started
            for thread in deleters:
                thread.join()
            time.sleep(max(0.0, max(scheduled.values()) + 5 - time.time()))
        finally:
            client.close()
            stack.stop()
            receiver.close()
    arrived: dict[str, list[float]] = {}
    for request in receiver.requests:
        arrived.setdefault(json.loads(request.body)["timerId"], []).append(request.at_s)
    counts = Counter({timer_id: len(times) for timer_id, times in arrived.items()})
    live = set(scheduled) - set(deleted_at)
    dropped = sum(1 for line in stack.output if line.startswith("skipped") and "duplicate" in line)
    return {
        "scenario": "race",
        "timers": timers,
        "create_seconds": round(create_s, 1),
        "firings_expected": len(live),
        "firings_received": sum(counts[t] for t in live),
        "lost": sum(1 for t in live if counts[t] == 0),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "raced_copies_dropped": dropped,  # sent by both API and ticker, delivered once
        "early": sum(1 for t, times in arrived.items() if min(times) < scheduled[t]),
        "deleted": len(deleted_at),
        "fired_after_delete": sum(
            1 for t, at_s in deleted_at.items() if any(a > at_s for a in arrived.get(t, []))
        ),
        "fired_before_delete_returned": sum(
            1 for t, at_s in deleted_at.items() if any(a <= at_s for a in arrived.get(t, []))
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.timers, clients=args.clients), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
