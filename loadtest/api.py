"""The local stack as a user meets it: request latency, bulk creation, stop time, crash loss.

Starts a fresh ``timer-service dev`` (a subprocess, its own state directory, no request rate
limit) and measures, through :class:`timer_service.client.TimerClient` on one keep-alive
connection unless said otherwise:

- PUT /periodic/{id}: ``--requests`` sequential creates, p50/p95;
- GET /periodic/{id}: as many sequential reads, p50/p95;
- ``--bulk`` creates by ``--clients`` threads at once (one client, its pool): wall time;
- graceful stop: SIGTERM until the process has exited;
- crash: 50 PUTs answered 201, SIGKILL 2 s (and 15 s) later, restart on the same state
  directory: how many of the 50 timers are there;
- idle CPU: the stack's processes over 30 s with nothing to do (a fresh stack, no timers due;
  its ticks included).

    .venv/bin/python -m loadtest api [--requests 300] [--bulk 1000] [--clients 8] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from loadtest.stack import StackProcess, descendants, start_stack
from timer_service.client import NotFoundError, TimerClient

__all__ = ["configure", "measure", "report", "run"]

GOALS = {
    "put_p50_ms": 25.0,
    "get_p50_ms": 10.0,
    "bulk_create_s": 15.0,
    "graceful_stop_s": 2.0,
    "idle_cpu_percent": 2.0,
}
CRASH_TIMERS = 50
BODY = {"schedule": "rate(1 hour)", "timerCallbackData": {"n": 1}}


def measure(
    *,
    requests: int = 300,
    bulk: int = 1000,
    clients: int = 8,
    crash_after_s: tuple[float, ...] = (2.0, 15.0),
    idle_s: float = 30.0,
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        state_dir = Path(scratch) / "state"
        stack = _start(state_dir)
        try:
            figures["idle_cpu_percent"] = _idle_cpu_percent(stack, idle_s)
            with TimerClient(stack.url, timeout=30) as client:
                _put(client, "warm-up")
                put_ms = [_timed(lambda n=n: _put(client, f"seq-{n}")) for n in range(requests)]
                get_ms = [_timed(lambda n=n: _get(client, f"seq-{n}")) for n in range(requests)]
            figures["put_p50_ms"], figures["put_p95_ms"] = _p50_p95(put_ms)
            figures["get_p50_ms"], figures["get_p95_ms"] = _p50_p95(get_ms)
            figures["bulk_create_s"] = _bulk_create(stack.url, bulk, clients)
            figures["bulk_creates"] = bulk
            figures["clients"] = clients
            started = time.perf_counter()
            code = stack.stop()
            figures["graceful_stop_s"] = round(time.perf_counter() - started, 2)
            figures["graceful_stop_exit_code"] = code
        finally:
            stack.kill()
        for after_s in crash_after_s:
            figures[f"crash_{after_s:g}s_timers_back"] = _crash(
                Path(scratch) / f"crash-{after_s:g}", after_s
            )
    figures["crash_timers"] = CRASH_TIMERS
    return figures


def _start(state_dir: Path) -> StackProcess:
    state_dir.mkdir(parents=True, exist_ok=True)
    return start_stack("--quiet", "--rate-limit", "0", "--state-dir", str(state_dir), cwd=state_dir)


def _put(client: TimerClient, timer_id: str) -> None:
    client.put(timer_id, BODY)


def _get(client: TimerClient, timer_id: str) -> None:
    client.get(timer_id)


def _timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return round(statistics.median(ordered), 1), round(p95, 1)


def _bulk_create(url: str, count: int, clients: int) -> float:
    """``count`` creates by ``clients`` threads at once, on one client (its pool)."""
    with TimerClient(url, timeout=60) as client:

        def create(worker: int) -> None:
            for n in range(worker, count, clients):
                _put(client, f"bulk-{n}")

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            for future in [pool.submit(create, worker) for worker in range(clients)]:
                future.result()
        return round(time.perf_counter() - started, 1)


def _cpu_s(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _idle_cpu_percent(stack: StackProcess, seconds: float) -> float:
    time.sleep(2)  # past the start's own work
    pids = [stack.process.pid, *descendants(stack.process.pid)]
    before = _cpu_s(pids)
    time.sleep(seconds)
    return round((_cpu_s(pids) - before) / seconds * 100, 1)


def _crash(state_dir: Path, after_s: float) -> int:
    """Timers of 50 answered PUTs that are back after a SIGKILL ``after_s`` later."""
    stack = _start(state_dir)
    try:
        with TimerClient(stack.url, timeout=30) as client:
            for n in range(CRASH_TIMERS):
                _put(client, f"crash-{n}")
        time.sleep(after_s)
    finally:
        stack.kill()
    stack = _start(state_dir)
    try:
        with TimerClient(stack.url, timeout=30) as client:
            return sum(_exists(client, f"crash-{n}") for n in range(CRASH_TIMERS))
    finally:
        stack.kill()


def _exists(client: TimerClient, timer_id: str) -> bool:
    try:
        client.get(timer_id)
    except NotFoundError:
        return False
    return True


def report(figures: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table("measured", "figure", "goal", "met")
    rows = [
        ("PUT /periodic/{id} p50 (p95)", "put_p50_ms", "ms", "put_p95_ms"),
        ("GET /periodic/{id} p50 (p95)", "get_p50_ms", "ms", "get_p95_ms"),
        (
            f"{figures['bulk_creates']} creates, {figures['clients']} clients",
            "bulk_create_s",
            "s",
            None,
        ),
        ("graceful stop (SIGTERM)", "graceful_stop_s", "s", None),
        ("idle CPU, all its processes (30 s)", "idle_cpu_percent", "%", None),
    ]
    for label, key, unit, extra in rows:
        shown = f"{figures[key]} {unit}" + (f" ({figures[extra]})" if extra else "")
        met = figures[key] <= GOALS[key]
        table.add_row(label, shown, f"<= {GOALS[key]:g} {unit}", "yes" if met else "[red]no[/]")
    for key, value in figures.items():
        if key.startswith("crash_") and key.endswith("_timers_back"):
            after = key.removeprefix("crash_").removesuffix("_timers_back")
            met = value == CRASH_TIMERS
            table.add_row(
                f"SIGKILL {after} after {CRASH_TIMERS} PUTs, restart",
                f"{value} of {CRASH_TIMERS} back",
                f"{CRASH_TIMERS} of {CRASH_TIMERS}",
                "yes" if met else "[red]no[/]",
            )
    console.print(table)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=300, help="sequential PUTs, then GETs")
    parser.add_argument("--bulk", type=int, default=1000, help="creates by --clients at once")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--crash-after", default="2,15", help="seconds between the PUTs and each SIGKILL"
    )
    parser.add_argument("--idle-seconds", type=float, default=30.0)


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    if progress is not None:
        progress(0, None, "measuring a fresh local stack")
    return {
        "scenario": "api",
        **measure(
            requests=args.requests,
            bulk=args.bulk,
            clients=args.clients,
            crash_after_s=tuple(float(s) for s in str(args.crash_after).split(",") if s),
            idle_s=args.idle_seconds,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m loadtest.api``: the same as ``python -m loadtest api``."""
    from loadtest import harness

    scenario = {"api": sys.modules[__name__]}
    return harness.run(scenario, ["api", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
