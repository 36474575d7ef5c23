"""client: timers created through AsyncTimerClient and TimerClient; its cost per call over httpx.

Starts a fresh ``timer-service dev`` (a subprocess, no request rate limit, a timer quota that
takes both runs) and measures:

- ``--timers`` creates (``PUT /periodic/{id}``, ``rate(1 day)``) through one
  :class:`~timer_service.client.AsyncTimerClient`, ``--concurrency`` in flight (an
  ``asyncio.Semaphore``, as docs/client.md's recipe does): wall time and rate;
- as many through one :class:`~timer_service.client.TimerClient` shared by ``--threads``
  threads;
- the client's overhead: ``--calls`` reads of one timer, alternately through
  ``TimerClient.get`` (a validated ``TimerView``) and a bare ``httpx.Client.get(...).json()``
  (each on a keep-alive connection of its own), median and p99 of each;
- the same on ``httpx.MockTransport`` (no server, no socket): the client's own CPU per call,
  median of each.

    .venv/bin/python -m loadtest client [--timers 10000] [--concurrency 32] [--threads 32]
        [--calls 2000] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from loadtest.stack import start_stack
from timer_service.client import AsyncTimerClient, TimerClient
from timer_service.models import TimerSpec

__all__ = ["configure", "report", "run"]

GOAL_OVERHEAD_MS = 1.0  # the client adds under 1 ms a call over a bare httpx call
SPEC = TimerSpec(schedule="rate(1 day)")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timers", type=int, default=10_000, help="creates in each run")
    parser.add_argument("--concurrency", type=int, default=32, help="async creates in flight")
    parser.add_argument("--threads", type=int, default=32, help="threads sharing the sync client")
    parser.add_argument("--calls", type=int, default=2000, help="reads for the overhead")
    parser.add_argument("--mock-calls", type=int, default=20_000, help="reads on MockTransport")


async def create_async(url: str, count: int, concurrency: int, prefix: str = "async") -> float:
    """Seconds to create ``count`` timers with one AsyncTimerClient, ``concurrency`` at once."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with AsyncTimerClient(url, limits=limits, timeout=60) as client:
        gate = asyncio.Semaphore(concurrency)

        async def create(n: int) -> None:
            async with gate:
                await client.put(f"{prefix}-{n:05d}", SPEC)

        started = time.perf_counter()
        await asyncio.gather(*(create(n) for n in range(count)))
        return time.perf_counter() - started


def create_sync(url: str, count: int, threads: int, prefix: str = "sync") -> float:
    """Seconds to create ``count`` timers with one TimerClient shared by ``threads`` threads."""
    limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
    with TimerClient(url, limits=limits, timeout=60) as client:

        def create(worker: int) -> None:
            for n in range(worker, count, threads):
                client.put(f"{prefix}-{n:05d}", SPEC)

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(create, w) for w in range(threads)]:
                future.result()
        return time.perf_counter() - started


def _percentiles(values_s: list[float]) -> dict[str, float]:
    ordered = sorted(values_s)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
    }


def overhead_on_stack(url: str, calls: int) -> dict[str, Any]:
    """Reads of one timer, client and bare httpx in turn (the stack's drift hits both)."""
    with TimerClient(url) as client, httpx.Client(base_url=url) as bare:
        client.put("overhead", SPEC)
        for _ in range(50):  # warm: connections, caches, the API's instances
            client.get("overhead")
            bare.get("/periodic/overhead").json()
        ours: list[float] = []
        theirs: list[float] = []
        for n in range(calls):
            # In turn, each first every other time: whatever the stack does between two
            # calls (its other API instance, a tick) falls on both alike.
            first, second = (ours, theirs) if n % 2 == 0 else (theirs, ours)
            for times in (first, second):
                started = time.perf_counter()
                if times is ours:
                    client.get("overhead")
                else:
                    response = bare.get("/periodic/overhead")
                    response.raise_for_status()
                    response.json()
                times.append(time.perf_counter() - started)
    client_figures, bare_figures = _percentiles(ours), _percentiles(theirs)
    return {
        "client": client_figures,
        "bare_httpx": bare_figures,
        "overhead_median_ms": round(client_figures["median_ms"] - bare_figures["median_ms"], 3),
        "overhead_p99_ms": round(client_figures["p99_ms"] - bare_figures["p99_ms"], 3),
    }


def overhead_on_mock(calls: int, body: bytes) -> dict[str, Any]:
    """The same reads answered in process: what the client itself costs a call."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    url = "http://127.0.0.1:9"
    with (
        TimerClient(url, transport=httpx.MockTransport(answer)) as client,
        httpx.Client(base_url=url, transport=httpx.MockTransport(answer)) as bare,
    ):
        for _ in range(200):
            client.get("overhead")
            bare.get("/periodic/overhead").json()
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(calls):
            started = time.perf_counter()
            client.get("overhead")
            middle = time.perf_counter()
            bare.get("/periodic/overhead").json()
            ours.append(middle - started)
            theirs.append(time.perf_counter() - middle)
        ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    return {
        "client_us": round(ours_s * 1e6, 1),
        "bare_httpx_us": round(theirs_s * 1e6, 1),
        "overhead_us": round((ours_s - theirs_s) * 1e6, 1),
    }


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    figures: dict[str, Any] = {"scenario": "client", "timers": args.timers}
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch)
        stack = start_stack(
            *("--quiet", "--rate-limit", "0", "--timer-quota", str(2 * args.timers + 100)),
            *("--state-dir", str(state)),
            cwd=state,
        )
        try:
            if progress is not None:
                progress(0, 4, f"{args.timers} timers through AsyncTimerClient")
            async_s = asyncio.run(create_async(stack.url, args.timers, args.concurrency))
            figures["async"] = {
                "concurrency": args.concurrency,
                "seconds": round(async_s, 2),
                "per_second": round(args.timers / async_s),
            }
            if progress is not None:
                progress(1, 4, f"{args.timers} timers through TimerClient")
            sync_s = create_sync(stack.url, args.timers, args.threads)
            figures["sync"] = {
                "threads": args.threads,
                "seconds": round(sync_s, 2),
                "per_second": round(args.timers / sync_s),
            }
            if progress is not None:
                progress(2, 4, "client vs bare httpx, on the stack")
            figures["overhead_on_stack"] = overhead_on_stack(stack.url, args.calls)
            body = httpx.get(f"{stack.url}/periodic/overhead").content
        finally:
            stack.stop()
    if progress is not None:
        progress(3, 4, "client vs bare httpx, in process")
    figures["overhead_in_process"] = overhead_on_mock(args.mock_calls, body)
    figures["calls"] = args.calls
    figures["goal_overhead_ms"] = GOAL_OVERHEAD_MS
    return figures


def report(figures: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table("measured", "figure", "goal", "met")
    count = figures["timers"]
    for name, label in (("async", "AsyncTimerClient"), ("sync", "TimerClient")):
        run = figures[name]
        width = run.get("concurrency") or run.get("threads")
        table.add_row(
            f"{count} creates, {label} ({width} at once)",
            f"{run['seconds']} s ({run['per_second']}/s)",
            "",
            "",
        )
    stack = figures["overhead_on_stack"]
    for key, label in (("client", "TimerClient.get"), ("bare_httpx", "bare httpx get + json")):
        table.add_row(
            f"{label}, median (p99), {figures['calls']} calls",
            f"{stack[key]['median_ms']} ms ({stack[key]['p99_ms']} ms)",
            "",
            "",
        )
    met = stack["overhead_median_ms"] < figures["goal_overhead_ms"]
    table.add_row(
        "client overhead a call, median (p99)",
        f"{stack['overhead_median_ms']} ms ({stack['overhead_p99_ms']} ms)",
        f"< {figures['goal_overhead_ms']:g} ms",
        "yes" if met else "[red]no[/]",
    )
    mock = figures["overhead_in_process"]
    table.add_row(
        "in process (MockTransport): client vs bare",
        f"{mock['client_us']} vs {mock['bare_httpx_us']} us (+{mock['overhead_us']} us)",
        f"< {figures['goal_overhead_ms'] * 1000:g} us",
        "yes" if mock["overhead_us"] < figures["goal_overhead_ms"] * 1000 else "[red]no[/]",
    )
    console.print(table)
