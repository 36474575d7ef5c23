"""Firing precision on the local stack: N webhook timers spread over one minute.

Starts ``timer-service dev --allow-private-targets`` and a webhook receiver, creates N one-shot
webhook timers whose scheduled seconds cover one minute (a few minutes ahead, so the ticker
sends them), waits, and reports lateness = receipt time - scheduledAt: percentiles, early,
lost and duplicate firings. Usage::

    .venv/bin/python -m loadtest.latency [--timers 1000] [--plot lateness.png] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from loadtest.stack import WebhookReceiver, start_stack

# The first firing this far ahead: creating timers through the local API takes ~0.11 s each,
# and all must exist before the ticker claims their minute (a minute ahead).
LEAD_BASE_S = 90
LEAD_PER_TIMER_S = 0.15


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = max(0, math.ceil(fraction * len(ordered)) - 1)
    return ordered[rank]


def run(timers: int, *, plot: Path | None = None, log: Path | None = None) -> dict[str, Any]:
    receiver = WebhookReceiver()
    with tempfile.TemporaryDirectory() as state_dir:
        stack = start_stack(
            "--allow-private-targets",
            *([] if log else ["--quiet"]),
            "--state-dir",
            state_dir,
            cwd=Path(state_dir),
        )
        try:
            lead_s = LEAD_BASE_S + LEAD_PER_TIMER_S * timers
            base_s = math.ceil((time.time() + lead_s) / 60) * 60
            scheduled = {f"lat-{n:05d}": base_s + (n * 60) // timers for n in range(timers)}
            started = time.perf_counter()
            with httpx.Client(base_url=stack.url, timeout=30) as client:
                for timer_id, fire_s in scheduled.items():
                    at = datetime.fromtimestamp(fire_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
                    response = client.put(
                        f"/periodic/{timer_id}",
                        json={
                            "schedule": f"at({at})",
                            "jobType": "webhook",
                            "job": {"url": f"{receiver.url}/{timer_id}"},
                        },
                    )
                    if response.status_code != 201:
                        raise RuntimeError(
                            f"PUT {timer_id}: {response.status_code} {response.text}"
                        )
            create_s = time.perf_counter() - started
            if time.time() > base_s - 60:
                raise RuntimeError(f"creating {timers} timers took {create_s:.0f}s: too slow")
            time.sleep(max(0.0, base_s + 60 + 5 - time.time()))
        finally:
            stack.stop()
            receiver.close()
            if log is not None:
                log.write_text("\n".join(stack.output) + "\n")
    received: Counter[str] = Counter()
    lateness: list[float] = []
    for request in receiver.requests:
        body = json.loads(request.body)
        timer_id = body["timerId"]
        received[timer_id] += 1
        if received[timer_id] == 1:
            lateness.append(request.at_s - scheduled[timer_id])
    result = {
        "timers": timers,
        "create_seconds": round(create_s, 1),
        "received": sum(received.values()),
        "lost": len(set(scheduled) - set(received)),
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "early": sum(1 for s in lateness if s < 0),
        "lateness_ms": {
            "min": round(min(lateness) * 1000, 1),
            "p50": round(statistics.median(lateness) * 1000, 1),
            "p90": round(percentile(lateness, 0.90) * 1000, 1),
            "p99": round(percentile(lateness, 0.99) * 1000, 1),
            "max": round(max(lateness) * 1000, 1),
        }
        if lateness
        else {},
    }
    if plot is not None and lateness:
        _plot(lateness, plot, timers)
    return result


def _plot(lateness: list[float], path: Path, timers: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.hist([s * 1000 for s in lateness], bins=50)
    axis.set_xlabel("lateness (ms): webhook receipt - scheduledAt")
    axis.set_ylabel("firings")
    axis.set_title(f"{timers} one-shot webhook timers over one minute, local stack")
    figure.tight_layout()
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--plot", type=Path, help="write a histogram of lateness (PNG)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--log", type=Path, help="write the local stack's output here")
    args = parser.parse_args()
    result = run(args.timers, plot=args.plot, log=args.log)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    table = Table("figure", "value", "goal")
    lateness = result["lateness_ms"]
    table.add_row("timers", str(result["timers"]), "")
    table.add_row("created in", f"{result['create_seconds']} s", "")
    table.add_row("lost", str(result["lost"]), "0")
    table.add_row("delivered twice", str(result["duplicates"]), "0")
    table.add_row("early (before scheduledAt)", str(result["early"]), "0")
    for name in ("min", "p50", "p90", "p99", "max"):
        goal = "<= 1000" if name == "p99" else ""
        table.add_row(f"lateness {name}", f"{lateness.get(name, '-')} ms", goal)
    Console().print(table)


if __name__ == "__main__":
    main()
