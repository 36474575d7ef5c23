"""The summary tables of ``python -m loadtest cost`` (figures: :mod:`loadtest.cost`)."""

from __future__ import annotations

from typing import Any

__all__ = ["report"]


def report(figures: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    eventbridge = figures["usd_per_million_eventbridge_scheduler"]
    table = Table(
        "USD per million firings",
        "rate(1 minute)",
        "own data",
        "rate(1 second)",
        f"{figures['distinct_periods']} periods",
        "goal",
    )
    uniform, mixed = figures["usd_per_million_firings"], figures["usd_per_million_firings_mixed"]
    seconds = figures["usd_per_million_firings_rate_1_second"]
    own = figures["usd_per_million_firings_own_data"]
    for name, key, goal in (
        ("ticker side (into SQS)", "ticker", "<= 0.06"),
        ("all-in, atLeastOnce", "all_in", "<= 0.30"),
        ("all-in, deduplicated", "all_in_deduplicated", ""),
    ):
        table.add_row(name, *(f"{usd[key]:.4f}" for usd in (uniform, own, seconds, mixed)), goal)
    table.add_row("EventBridge Scheduler -> SQS", f"{eventbridge:.2f}", "", "", "", "")
    table.add_row(
        "Step Functions wait state",
        f"{figures['usd_per_million_step_functions']:.2f}",
        *[""] * 4,
    )
    table.add_row(
        "ratio to EventBridge (ticker / all-in)",
        *(
            f"{eventbridge / usd['ticker']:.0f}x / {eventbridge / usd['all_in']:.1f}x"
            for usd in (uniform, own, seconds, mixed)
        ),
        ">= 20x / 5x",
    )
    console.print(table)
    ratio = figures["rate_1_second_vs_1_minute"]
    console.print(
        f"a rate(1 second) firing ({figures['firings_rate_1_second']:,} in the tick) costs"
        f" {ratio['all_in']:.3f} x a rate(1 minute) one all-in,"
        f" {ratio['all_in_deduplicated']:.3f} x deduplicated, {ratio['ticker']:.3f} x ticker side"
        " (goal all-in: within 10 %)"
    )
    for title, suffix in (("rate(1 minute)", ""), ("rate(1 second)", "_rate_1_second")):
        requests = Table(f"requests per 1,000 firings ({title})", "count")
        for name, count in figures[f"requests_per_1000_firings{suffix}"].items():
            requests.add_row(name, str(count))
        for unit in ("read", "write"):
            units = figures[f"{unit}_units_per_1000_firings{suffix}"]
            requests.add_row(f"DynamoDB {unit} units", str(units))
        console.print(requests)
    flow = figures["flow_control"]
    writes = Table(
        f"flow control: callback writes per firing ({flow['timers']:,} timers with the key)",
        "writes",
        "conditional",
        "write units",
        "USD per million all-in",
        "goal",
    )
    for name, goal in (
        ("without_key", "0 extra"),
        ("max_concurrency", "<= 1 conditional"),
        ("max_per_second", "<= 1 conditional"),
    ):
        side = flow[name]
        writes.add_row(
            name.replace("_", " "),
            f"{side['writes_per_firing']:.3f}",
            f"{side['conditional_writes_per_firing']:.3f}",
            f"{side['write_units_per_firing']:.3f}",
            f"{side['usd_per_million_all_in']:.4f}",
            goal,
        )
    console.print(writes)
    console.print(
        f"idle stack, {figures['idle_shards']} shards: "
        f"${figures['idle_usd_per_month_total']:.2f} a month {figures['idle_usd_per_month']}"
    )
