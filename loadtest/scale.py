"""Throughput per shard: the real tick engine and boto3 clients against a modelled AWS.

One tick of one shard runs the real ``TickEngine``, ``DynamoTimerStore`` and
``SqsDispatchQueue`` with real boto3 clients: every request is serialised, signed and its
answer parsed at their real CPU cost. Only the network send is replaced (botocore's
``before-send`` event) by a canned DynamoDB or SQS answer, returned after a modelled AWS
latency (defaults below, lognormal around the median). The shard holds ``--firings`` rate
timers that all fire in the ticked minute (one base partition, pages of up to 1 MB), and a
Query page is never faster than DynamoDB's per-partition read limit allows. With
``--second-share`` the same tick is timed with that share of its firings from
``rate(1 second)`` timers (one item in the same partition, 60 firings each in the minute),
in turns with ticks without them in the same workers, so both see the same machine.

Each shard is a process of its own, as each shard's tick is its own Lambda invocation; N
shards run in waves of at most ``--parallel`` processes (default: this machine's cores), so no
process has less than a core. Shards share nothing (their own partitions; SQS standard queues
have no throughput limit), so the aggregate for N shards is the sum of the shards' own figures,
and the curve shows how well that holds as more of them run at once. Each point of the curve
runs in fresh worker processes, each warmed by one small untimed tick (a ticker Lambda invoked
every minute is warm), and is compared with one shard alone measured just before it in the same
processes (the median of three ticks).

Processes that share nothing still slow each other on a machine whose cores share caches,
memory bandwidth or a hypervisor's host. The run first measures that on its own (a fixed
pure-Python workload, alone and ``--parallel`` copies at once, ``--calibrate-seconds`` each)
and reports each point's efficiency both against N x one shard alone and against what this
machine gives any N processes running at once (``efficiency_vs_machine``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from loadtest import BENCHMARK_SIGNING_KEY
from loadtest.modelled_aws import LATENCY_MS, T0_MINUTE, ModelledAws

__all__ = ["LATENCY_MS", "configure", "report", "run"]


@dataclass(frozen=True)
class ShardResult:
    shard: int
    firings: int
    tick_s: float
    cpu_s: float
    memory_mb: float
    requests: dict[str, int]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--firings", type=int, default=600_000, help="firings in the ticked minute per shard"
    )
    parser.add_argument(
        "--shards",
        default="1,2,4,8,16,32,64",
        help="comma-separated shard counts for the scaling curve",
    )
    parser.add_argument(
        "--parallel", type=int, default=os.cpu_count() or 1, help="shard processes at once"
    )
    parser.add_argument(
        "--second-share",
        type=float,
        default=0.1,
        help="share of the firings from rate(1 second) timers, timed next to none (0: skip)",
    )
    parser.add_argument(
        "--calibrate-seconds",
        type=float,
        default=2.0,
        help="length of the reference workload that measures how this machine runs processes"
        " at once (0: skip)",
    )


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    counts = [int(n) for n in str(args.shards).split(",")]
    curve: list[dict[str, Any]] = []
    levels = sorted({min(n, args.parallel) for n in counts if n > 1})
    with _pool(args) as pool:
        machine = {
            level: _machine_efficiency(pool, level, args.calibrate_seconds) for level in levels
        }
    seconds = _second_rates(args)
    first_alone: list[ShardResult] = []  # the headline: one shard alone, the first point's
    for shards in counts:
        # Each point in fresh worker processes, against one shard alone measured just before
        # it in the same processes (three ticks, the median): a point compares like with like
        # however long the run has gone on.
        with _pool(args) as pool:
            alone = sorted(
                (pool.submit(_tick_one, 0, args.firings).result() for _ in range(3)),
                key=lambda r: r.tick_s,
            )
            if shards == 1:
                results = [alone[1]]
            else:
                results = list(pool.map(_tick_one, range(shards), [args.firings] * shards))
        first_alone = first_alone or alone
        single = alone[1]
        aggregate = sum(r.firings * 60 / max(r.tick_s, 1e-9) for r in results)
        efficiency = aggregate / (shards * single.firings * 60 / single.tick_s)
        ceiling = machine.get(min(shards, args.parallel), 1.0)
        curve.append(
            {
                "shards": shards,
                "firings_per_minute": round(aggregate),
                "one_shard_alone_per_minute": round(single.firings * 60 / single.tick_s),
                "efficiency": round(efficiency, 3),
                "efficiency_vs_machine": round(efficiency / ceiling, 3),
                "tick_s_max": round(max(r.tick_s for r in results), 2),
            }
        )
        if progress is not None:
            progress(counts.index(shards) + 1, len(counts), f"{shards} shards")
    headline = first_alone[1]  # the median of three
    return {
        "scenario": "scale",
        "firings_per_tick": args.firings,
        "firings_per_minute_per_shard": round(headline.firings * 60 / headline.tick_s),
        "tick_seconds": round(headline.tick_s, 2),
        "cpu_us_per_firing": round(headline.cpu_s / headline.firings * 1e6, 1),
        "tick_memory_mb": round(max(r.memory_mb for r in first_alone), 1),
        "requests_per_tick": headline.requests,
        "curve": curve,
        "linear_efficiency_at_max": curve[-1]["efficiency"],
        "parallel_processes": args.parallel,
        "machine_parallel_efficiency": {str(k): round(v, 3) for k, v in machine.items()},
        "latency_model_ms": LATENCY_MS,
        "second_rate": seconds,
    }


def _second_rates(args: argparse.Namespace) -> dict[str, Any] | None:
    """One shard's tick with ``--second-share`` of its firings from rate(1 second) timers, and
    without, in turns in the same fresh workers (both see the same machine): the median of
    three of each (None when the share is 0)."""
    if args.second_share <= 0:
        return None
    runs: dict[float, list[ShardResult]] = {0.0: [], args.second_share: []}
    with _pool(args) as pool:
        for _ in range(3):
            for share, results in runs.items():
                results.append(pool.submit(_tick_one, 0, args.firings, share).result())

    def figures(results: list[ShardResult]) -> dict[str, Any]:
        median = sorted(results, key=lambda r: r.tick_s)[1]
        return {
            "firings_per_tick": median.firings,
            "firings_per_minute_per_shard": round(median.firings * 60 / median.tick_s),
            "tick_seconds": round(median.tick_s, 2),
            "cpu_us_per_firing": round(median.cpu_s / median.firings * 1e6, 1),
            "requests_per_tick": median.requests,
        }

    # (no memory figure: in turns, a worker's peak is its biggest tick so far)
    return {
        "share": args.second_share,
        "second_rate_timers": ModelledAws.second_rate_timers(args.firings, args.second_share),
        **figures(runs[args.second_share]),
        "without": figures(runs[0.0]),
    }


def _pool(args: argparse.Namespace) -> ProcessPoolExecutor:
    """``--parallel`` worker processes, each warmed by one small untimed tick."""
    return ProcessPoolExecutor(
        max_workers=args.parallel,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_warm,
        initargs=(min(2000, args.firings),),
    )


def _machine_efficiency(pool: ProcessPoolExecutor, processes: int, seconds: float) -> float:
    """How much of N x one process's speed this machine gives N processes sharing nothing.

    The same fixed pure-Python workload (about ``seconds`` long) runs alone, then ``processes``
    copies at once; three rounds, medians. 1.0 when skipped.
    """
    if seconds <= 0 or processes < 2:
        return 1.0
    rounds = _reference_rounds(seconds)
    list(pool.map(_reference_work, [50] * processes))  # every worker started before timing
    alone: list[float] = []
    together: list[float] = []
    for _ in range(3):
        alone.append(pool.submit(_reference_work, rounds).result())
        times = list(pool.map(_reference_work, [rounds] * processes))
        together.append(sum(times) / len(times))
    alone.sort()
    together.sort()
    return alone[1] / together[1]


def _reference_rounds(seconds: float) -> int:
    rounds, started = 0, time.perf_counter()
    while time.perf_counter() - started < 0.2:
        _reference_work(50)
        rounds += 50
    return max(50, int(rounds * seconds / 0.2))


def _reference_work(rounds: int) -> float:
    """Serialise and parse a small document ``rounds`` times: CPU-bound, shares nothing."""
    document = {"id": "timer-0001", "shard": 3, "at": 1_700_000_000, "job": {"type": "sqs"}}
    started = time.perf_counter()
    for n in range(rounds):
        document["shard"] = n
        json.loads(json.dumps(document))
    return time.perf_counter() - started


_CLIENTS: dict[str, Any] = {}
_MODEL: list[ModelledAws] = []  # the model of the tick running in this process


def _answer(request: Any, **kwargs: Any) -> Any:
    return _MODEL[0].answer(request, **kwargs)


def _warm(firings: int) -> None:
    """A pool worker's first, untimed tick: imports, botocore's lazily built models."""
    _tick_one(0, firings)


def _tick_one(shard: int, firings: int, second_share: float = 0.0) -> ShardResult:
    from timer_service.aws import client
    from timer_service.clock import FixedClock
    from timer_service.dispatch import SqsDispatchQueue
    from timer_service.messages import MessageSigner
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service.tick import TickEngine

    aws = ModelledAws(shard, firings, second_share=second_share)
    if not _CLIENTS:
        # Once per process, as a ticker Lambda creates its clients once per container; each
        # tick's requests go to that tick's model.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        for name in ("dynamodb", "sqs"):
            made = client(name, "us-east-1", None)  # the service's own, as a ticker makes it
            made.meta.events.register_first("before-send", _answer)
            _CLIENTS[name] = made
    _MODEL[:] = [aws]
    dynamodb, sqs = _CLIENTS["dynamodb"], _CLIENTS["sqs"]
    clock = FixedClock(T0_MINUTE * 60 + 0.2)
    engine = TickEngine(
        store=DynamoTimerStore(dynamodb, "timers"),
        queue=SqsDispatchQueue(
            sqs,
            "https://sqs.us-east-1.amazonaws.com/1/dispatch",
            clock=clock,
            signer=MessageSigner(BENCHMARK_SIGNING_KEY),
        ),
        clock=clock,
    )
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = time.process_time()
    started = time.perf_counter()
    report = engine.tick(shard)
    tick_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_before
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if report.sent != firings:
        raise RuntimeError(f"shard {shard}: the tick sent {report.sent} of {firings}")
    return ShardResult(
        shard, firings, tick_s, cpu_s, (peak_kb - baseline_kb) / 1024, dict(aws.requests)
    )


def report(figures: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table("measured (one shard's tick)", "figure", "goal")
    table.add_row("firings in the tick", f"{figures['firings_per_tick']:,}", "")
    table.add_row("tick wall time", f"{figures['tick_seconds']} s", "<= 60 s")
    table.add_row(
        "firings per minute per shard",
        f"{figures['firings_per_minute_per_shard']:,}",
        ">= 600,000",
    )
    table.add_row(
        "CPU per firing (boto3 included)", f"{figures['cpu_us_per_firing']} us", "<= 100 us"
    )
    table.add_row("memory of the tick", f"{figures['tick_memory_mb']} MB", "")
    for name, count in sorted(figures["requests_per_tick"].items()):
        table.add_row(f"  {name}", f"{count:,}", "")
    console.print(table)
    seconds = figures.get("second_rate")
    if seconds:
        _report_second_rates(seconds, console)
    curve = Table(
        "shards",
        "firings per minute",
        "vs N x one shard alone",
        "vs this machine's N processes",
        "slowest tick",
    )
    for point in figures["curve"]:
        curve.add_row(
            str(point["shards"]),
            f"{point['firings_per_minute']:,}",
            f"{point['efficiency']:.0%}",
            f"{point['efficiency_vs_machine']:.0%}",
            f"{point['tick_s_max']} s",
        )
    console.print(curve)
    for processes, share in figures["machine_parallel_efficiency"].items():
        console.print(
            f"This machine runs {processes} CPU-bound processes that share nothing at"
            f" {share:.0%} of {processes} x one alone (a pure-Python reference workload)."
        )


def _report_second_rates(seconds: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    without = seconds["without"]
    table = Table(
        "one shard's tick, in turns (median of 3 each)",
        "rate(1 minute) only",
        f"{seconds['share']:.0%} from rate(1 second)",
        "goal",
    )
    for name, key, shape, goal in (
        ("firings in the tick", "firings_per_tick", "{:,}", ""),
        ("tick wall time", "tick_seconds", "{} s", "<= 60 s"),
        ("firings per minute per shard", "firings_per_minute_per_shard", "{:,}", ">= 600,000"),
        ("CPU per firing (boto3 included)", "cpu_us_per_firing", "{} us", "<= 100 us"),
    ):
        table.add_row(name, shape.format(without[key]), shape.format(seconds[key]), goal)
    table.add_row("  rate(1 second) timers (60 each)", "", f"{seconds['second_rate_timers']:,}", "")
    for name in sorted({*without["requests_per_tick"], *seconds["requests_per_tick"]}):
        counts = (without["requests_per_tick"], seconds["requests_per_tick"])
        table.add_row(f"  {name}", *(f"{c.get(name, 0):,}" for c in counts), "")
    console.print(table)


def plot(figures: dict[str, Any], path: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shards = [p["shards"] for p in figures["curve"]]
    rate = [p["firings_per_minute"] for p in figures["curve"]]
    ideal = [p["shards"] * p["one_shard_alone_per_minute"] for p in figures["curve"]]
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(shards, rate, marker="o", label="measured")
    axis.plot(shards, ideal, linestyle="--", label="N x one shard alone")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.set_xlabel("shards")
    axis.set_ylabel("firings per minute")
    axis.set_title("Tick throughput, modelled AWS latency, real boto3")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path)
