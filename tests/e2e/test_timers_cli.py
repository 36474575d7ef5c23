"""``timer-service timers`` against ``timer-service dev`` (one stack for the module), found as
a user finds it: through the state directory it runs in; its JSON lines and exit codes."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loadtest.stack import StackProcess, start_stack
from timer_service_cli.main import main

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("timers-cli")


@pytest.fixture(scope="module")
def stack(stack_dir: Path) -> Iterator[StackProcess]:
    started = start_stack("--quiet", "--rate-limit", "0", cwd=stack_dir)
    yield started
    started.kill()


@pytest.fixture
def timers(stack: StackProcess, stack_dir: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """``timers(*args)``: (exit code, JSON lines printed, stderr), on the module's stack as
    ``timer-service timers`` finds it from the directory the stack runs in."""
    state_dir = str(stack_dir / ".timer-service")

    def run(*args: str) -> tuple[int, list[Any], str]:
        code = main(["timers", "--state-dir", state_dir, *args])
        out, err = capsys.readouterr()
        return code, [json.loads(line) for line in out.splitlines() if line.strip()], err

    return run


def test_put_from_flags_get_and_list_print_the_api_s_json(timers: Any) -> None:
    code, (created,), _ = timers(
        "put", "cli-1", "--schedule", "rate(5 minutes)", "--data", '{"orderId": 42}', "--paused"
    )
    assert code == 0
    assert (created["id"], created["version"], created["enabled"]) == ("cli-1", 1, False)
    assert created["timerCallbackData"] == {"orderId": 42}
    code, (read,), _ = timers("get", "cli-1")
    assert code == 0 and read == created
    timers("put", "cli-2", '{"schedule": "rate(1 hour)"}')
    code, listed, _ = timers("list")
    assert code == 0 and [t["id"] for t in listed][:2] == ["cli-1", "cli-2"]
    code, first, _ = timers("list", "--limit", "1")
    assert [t["id"] for t in first] == ["cli-1"]


def test_put_takes_its_body_from_a_file_or_stdin_with_flags_over_it(
    timers: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = tmp_path / "timer.json"
    body.write_text('{"schedule": "rate(2 hours)", "timerCallbackData": {"from": "file"}}')
    code, (from_file,), _ = timers(
        "put", "cli-file", "--file", str(body), "--timezone", "Asia/Tokyo"
    )
    assert code == 0
    assert (from_file["schedule"], from_file["timezone"]) == ("rate(2 hours)", "Asia/Tokyo")
    code, (at_file,), _ = timers("put", "cli-at", f"@{body}")
    assert at_file["timerCallbackData"] == {"from": "file"}
    monkeypatch.setattr("sys.stdin", io.StringIO('{"schedule": "rate(3 hours)"}'))
    code, (from_stdin,), _ = timers("put", "cli-stdin", "-", "--job-type", "sqs", "--job", "{}")
    assert code == 0 and from_stdin["schedule"] == "rate(3 hours)"


def test_pause_resume_trigger_runs_preview_and_delete(timers: Any) -> None:
    timers("put", "cli-life", "--schedule", "rate(1 day)", "--history", "all")
    assert timers("pause", "cli-life")[1][0]["enabled"] is False
    code, (resumed,), _ = timers("resume", "cli-life", "--if-match", "2")
    assert code == 0 and resumed["enabled"] is True
    code, (fired,), _ = timers("trigger", "cli-life")
    assert code == 0 and fired["firingId"].endswith("~manual")
    code, runs, _ = timers("runs", "cli-life")
    assert code == 0 and isinstance(runs, list)  # the run arrives when the callback ran
    code, (preview,), _ = timers(
        "preview", "cron(30 2 * * ? *)", "--timezone", "America/New_York", "--count", "3"
    )
    assert code == 0 and len(preview["nextFireTimes"]) == 3
    code, (deleted,), _ = timers("delete", "cli-life")
    assert code == 0 and deleted == {"id": "cli-life"}


def test_exit_codes_say_not_found_conflict_refused_and_usage(timers: Any) -> None:
    code, out, err = timers("get", "no-such-timer")
    assert (code, out) == (3, [])
    assert "404 not_found (id)" in err
    timers("put", "cli-once", "--schedule", "rate(1 day)")
    assert timers("put", "cli-once", "--if-none-match")[0] == 4
    assert timers("delete", "cli-once", "--if-match", "7")[0] == 4
    code, _, err = timers("put", "cli-bad", "--schedule", "cron(0 25 * * ? *)")
    assert code == 1 and "400 validation_error (schedule)" in err
    code, _, err = timers("put", "cli-bad", "[1, 2]")
    assert code == 2 and "must be a JSON object" in err
    assert timers("put", "cli-bad", "--job", "{not json")[0] == 2
    with pytest.raises(SystemExit) as usage:
        timers("get")  # no id
    assert usage.value.code == 2


def test_options_go_before_or_after_the_command(
    stack: StackProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["timers", "--url", stack.url, "put", "cli-where", "--json"]) == 0
    assert main(["timers", "get", "cli-where", "--url", stack.url]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [t["id"] for t in printed] == ["cli-where", "cli-where"]
