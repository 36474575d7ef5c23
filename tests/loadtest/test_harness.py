"""``python -m loadtest``: a small run of each scenario, and the JSON keys others rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.__main__ import main

pytestmark = pytest.mark.e2e


def run(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "figures.json"
    assert main([*args, "--json", str(out)]) == 0
    figures: dict[str, object] = json.loads(out.read_text())
    assert figures["scenario"] == args[0]
    return figures


def test_e2e_counts_every_firing_through_the_api(tmp_path: Path) -> None:
    # A few seconds ahead: the API hands these over itself (their minute is already claimed).
    # One-shots, rates of seconds (a quarter deleted while firing), jittered and maxFirings
    # timers; the stack's firing limit lowered to what the mix needs, which it must not trip.
    figures = run(
        tmp_path,
        "e2e",
        *("--timers", "24", "--spread-seconds", "12", "--lead-seconds", "8"),
        *("--rate-share", "0", "--cron-share", "0", "--second-rate-share", "0.25"),
        *("--jitter-share", "0.25", "--jitter-seconds", "3", "--max-firings-share", "0.25"),
        *("--sample", "0.25", "--firing-limit", "500"),
        *("--plot", str(tmp_path / "lateness.png")),
    )
    assert figures["timers"] == 24 and figures["firing_limit"] == 500
    assert figures["firing_weight"] == 6 + 3 * 12 + 3 * 60 + 3 * 6 + 3 + 3 * 12 + 3 * 60
    assert figures["firings_received"] == figures["firings_expected"]
    for key in ("lost", "duplicates", "early", "fired_after_delete", "fired_after_completion"):
        assert figures[key] == 0, key
    assert figures["deleted_or_paused"] >= 2  # a quarter of "sec-" (and of the one-shots)
    assert figures["second_rate_firings"] > 60 and figures["jittered_firings"] > 3
    assert figures["max_firings_ran_exactly"] == figures["max_firings_timers"] == 6
    assert figures["on_complete_delete"] == {"timers": 4, "gone": 4}
    assert figures["on_complete_keep"] == {"timers": 2, "completed": 2}
    lateness = figures["lateness_ms"]
    assert isinstance(lateness, dict) and set(lateness) == {"p50", "p95", "p99", "max"}
    by_kind = figures["lateness_ms_by_kind"]
    assert isinstance(by_kind, dict) and set(by_kind) == {"one", "sec", "jit", "max"}
    assert (tmp_path / "lateness.png").stat().st_size > 1000


def test_scale_reports_throughput_cpu_and_a_curve(tmp_path: Path) -> None:
    figures = run(
        tmp_path,
        "scale",
        *("--firings", "3000", "--shards", "1,2", "--parallel", "2"),
        *("--calibrate-seconds", "0.2"),
    )
    assert figures["requests_per_tick"]["SQS.SendMessageBatch"] < 3000 / 10  # type: ignore[index]
    assert figures["firings_per_minute_per_shard"] > 0  # type: ignore[operator]
    assert figures["cpu_us_per_firing"] > 0  # type: ignore[operator]
    curve = figures["curve"]
    assert isinstance(curve, list) and [p["shards"] for p in curve] == [1, 2]
    assert curve[0]["efficiency"] == curve[0]["efficiency_vs_machine"] == 1.0
    machine = figures["machine_parallel_efficiency"]
    assert isinstance(machine, dict) and set(machine) == {"2"} and 0 < machine["2"] < 2
    # each of the three is rounded to 3 places, so the quotient of the other two is as exact as
    # that lets it be: 0.0005 x (1 + (1 + quotient) / share); a low machine share, on a busy
    # machine, magnifies it (2.345 against 2.3429 with a share near 0.42)
    quotient = curve[1]["efficiency"] / machine["2"]
    rounding = 0.0005 * (1 + (1 + quotient) / machine["2"]) + 1e-9
    assert curve[1]["efficiency_vs_machine"] == pytest.approx(quotient, abs=rounding)
    # The same tick with a tenth of its firings from rate(1 second) timers (5 timers, 60 each),
    # in turns with one without
    seconds = figures["second_rate"]
    assert isinstance(seconds, dict) and seconds["share"] == 0.1
    assert (seconds["second_rate_timers"], seconds["firings_per_tick"]) == (5, 3000)
    assert seconds["cpu_us_per_firing"] > 0 and seconds["tick_seconds"] > 0
    assert seconds["without"]["firings_per_tick"] == 3000
    assert seconds["without"]["cpu_us_per_firing"] > 0


def test_cost_prices_each_side_next_to_eventbridge(tmp_path: Path) -> None:
    figures = run(
        tmp_path,
        "cost",
        *("--timers", "60", "--second-timers", "10", "--periods", "12", "--minutes", "2"),
        *("--flow-timers", "20"),
    )
    usd = figures["usd_per_million_firings"]
    assert isinstance(usd, dict) and 0 < usd["ticker"] < usd["all_in"] < usd["all_in_deduplicated"]
    # timers with data of their own: their copies are longer, in the index and the messages
    own = figures["usd_per_million_firings_own_data"]
    assert isinstance(own, dict) and 0 < own["ticker"] < own["all_in"]
    # rate(1 second): 10 timers, 60 firings each in the tick, one item read a minute for 60
    seconds = figures["usd_per_million_firings_rate_1_second"]
    assert isinstance(seconds, dict) and 0 < seconds["ticker"] < usd["ticker"]
    assert figures["firings_rate_1_second"] == 600
    ratio = figures["rate_1_second_vs_1_minute"]
    assert isinstance(ratio, dict)
    assert ratio["all_in"] == pytest.approx(seconds["all_in"] / usd["all_in"], abs=0.001)
    per_1000 = figures["requests_per_1000_firings_rate_1_second"]
    assert isinstance(per_1000, dict)
    # firings due in different seconds reach different callback batches: one a second here,
    # each reading its shard's change log once (a Query) and no timer (issue 22: the firings
    # carry their timers' copies)
    assert per_1000["sqs:ReceiveMessage"] == 100
    assert "dynamodb:BatchGetItem" not in per_1000
    assert per_1000["dynamodb:Query"] >= 100
    assert figures["usd_per_million_eventbridge_scheduler"] == pytest.approx(1.40)
    requests = figures["requests_per_1000_firings"]
    assert isinstance(requests, dict) and requests["sqs:SendMessageBatch"] > 0
    assert figures["idle_usd_per_month_total"] > 0  # type: ignore[operator]
    # Flow control (issue 20): a firing without a concurrencyKey writes nothing in the callback;
    # with one, each limit costs one conditional write a firing (maxConcurrency also gives its
    # slot back, unconditionally), counted on the requests the real code made. The key's very
    # first run also makes its item: one try that finds no map, the map, the try again (so 20
    # firings make 21 conditional tries)
    flow = figures["flow_control"]
    assert isinstance(flow, dict) and flow["timers"] == 20
    assert flow["without_key"]["writes_per_firing"] == 0
    assert flow["without_key"]["conditional_writes_per_firing"] == 0
    for name in ("max_concurrency", "max_per_second"):
        assert flow[name]["firings"] == 20
        assert flow[name]["usd_per_million_all_in"] > flow["without_key"]["usd_per_million_all_in"]
    assert flow["max_per_second"]["conditional_writes_per_firing"] == 1
    assert flow["max_per_second"]["writes_per_firing"] == 1
    assert flow["max_concurrency"]["conditional_writes_per_firing"] == (20 + 1) / 20
    assert flow["max_concurrency"]["writes_per_firing"] == (2 * 20 + 2) / 20


def test_html_extracts_real_pages(tmp_path: Path) -> None:
    pages = Path(__file__).resolve().parents[1] / "data" / "pages"  # from python3.11-doc
    count = len(list(pages.glob("*.html")))
    figures = run(tmp_path, "html", "--pages", str(pages), "--ours-only", "--json-documents", "3")
    assert figures["pages"] == count >= 2
    assert figures["ours_cpu_ms_per_page"] > 0  # type: ignore[operator]
    assert figures["words_extracted"] > 1000  # type: ignore[operator]
    # JSON: botocore's service models, each filter one check, what it selected counted
    json_figures = figures["json"]
    assert isinstance(json_figures, dict)
    assert json_figures["documents"] == 3
    assert json_figures["checks"] == 3 * len(json_figures["filters"])
    assert json_figures["values_selected"] > 3 * len(json_figures["filters"])


def test_e2e_on_a_deployed_stack_signs_its_calls_and_drains_the_output_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import boto3

    from timer_service_local.stack import LocalStack, StackConfig

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    config = StackConfig(
        port=0, state_dir=tmp_path / "state", quiet=True, rate_limit=0, api_instances=1
    )
    with LocalStack(config) as stack:
        assert stack.resources is not None
        # A "deployed" stack: CloudFormation outputs naming the local stack's API and queue.
        outputs = {"ApiUrl": stack.url, "OutputQueueUrl": stack.resources.output_queue_url}
        template = {
            "Resources": {"Marker": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "m"}}},
            "Outputs": {name: {"Value": value} for name, value in outputs.items()},
        }
        cloudformation = boto3.client("cloudformation", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        cloudformation.create_stack(StackName="Timers-Load", TemplateBody=json.dumps(template))
        figures = run(
            tmp_path,
            "e2e",
            "--stack",
            "Timers-Load",
            "--timers",
            "12",
            "--spread-seconds",
            "4",
            "--lead-seconds",
            "20",  # its creates go through the deployed-shape API: seconds on a loaded machine
            "--rate-share",
            "0",
            "--cron-share",
            "0",
            "--sample",
            "0",
        )
    assert figures["firings_expected"] == figures["firings_received"] == 12
    assert (figures["lost"], figures["duplicates"], figures["early"]) == (0, 0, 0)


def test_dlq_lists_and_redrives_one_tenants_letters_among_anothers(tmp_path: Path) -> None:
    figures = run(tmp_path, "dlq", "--others", "300", "--mine", "3")
    assert figures["listed"] == 3 and figures["redriven"] == 3
    assert figures["left_after_redrive"] == 0
    assert figures["looking_changed_nothing"] is True
    assert figures["others_page_items"] == 100
    assert figures["others_redriven_in_one_call"] == 300 and figures["others_more"] is False
    for key in ("list_s", "redrive_s", "others_page_s", "others_redrive_call_s"):
        assert isinstance(figures[key], float)


def test_coldstart_without_an_arm64_sysroot_skips_and_says_how_to_get_one(tmp_path: Path) -> None:
    # A benchmark, not a test: where qemu or the sysroot is missing it exits 0 and says so.
    figures = run(tmp_path, "coldstart", "--cache", str(tmp_path / "empty"), "--runs", "1")
    assert "--setup" in str(figures["skipped"])


def test_client_times_creates_both_ways_and_its_overhead_over_httpx(tmp_path: Path) -> None:
    figures = run(
        tmp_path,
        "client",
        *("--timers", "40", "--concurrency", "8", "--threads", "4"),
        *("--calls", "30", "--mock-calls", "300"),
    )
    for way in ("async", "sync"):
        run_figures = figures[way]
        assert isinstance(run_figures, dict) and run_figures["seconds"] > 0, way
    stack = figures["overhead_on_stack"]
    assert isinstance(stack, dict) and set(stack) >= {"client", "bare_httpx", "overhead_median_ms"}
    in_process = figures["overhead_in_process"]
    assert isinstance(in_process, dict) and in_process["client_us"] > 0
