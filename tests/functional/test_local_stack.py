"""The local stack started in-process with one call, as a test or the load harness would."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from loadtest.stack import WebhookReceiver
from timer_service_local.endpoint import ENDPOINT_FILE
from timer_service_local.stack import LocalStack, StackConfig


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)


def config(state_dir: Path, **overrides: object) -> StackConfig:
    values: dict[str, object] = {
        "port": 0,
        "state_dir": state_dir,
        "quiet": True,
        "rate_limit": 0,
        "shards": 2,
        "api_instances": 1,
        "allow_private_targets": True,
    }
    return StackConfig(**(values | overrides))  # type: ignore[arg-type]


def test_one_call_starts_the_whole_stack_and_stop_is_quick(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    with LocalStack(config(tmp_path)) as stack:
        endpoint = json.loads((tmp_path / ENDPOINT_FILE).read_text())
        assert endpoint["dispatch_queue_url"].startswith(endpoint["endpoint_url"])
        created = httpx.put(
            f"{stack.url}/periodic/hook",
            json={"schedule": "rate(1 hour)", "jobType": "webhook", "job": {"url": receiver.url}},
        )
        assert created.status_code == 201, created.text
        # the whole pipeline runs: a manual trigger reaches the webhook
        assert httpx.post(f"{stack.url}/periodic/hook/trigger").status_code == 202
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert json.loads(receiver.requests[0].body)["timerId"] == "hook"
        started = time.monotonic()
    assert time.monotonic() - started < 2  # the context manager stopped it
    assert not (tmp_path / ENDPOINT_FILE).exists()
    assert "AWS_ENDPOINT_URL" not in os.environ  # its environment is undone


def test_a_second_start_finds_the_first_ones_timers(tmp_path: Path) -> None:
    with LocalStack(config(tmp_path)) as stack:
        for n in range(5):
            assert httpx.put(f"{stack.url}/periodic/t{n}", json={}).status_code == 201
    with LocalStack(config(tmp_path, shards=3)) as stack:
        assert stack.recovery.restored["items"] > 0
        listed = httpx.get(f"{stack.url}/periodic").json()["items"]
        assert [t["id"] for t in listed] == [f"t{n}" for n in range(5)]


def test_a_port_in_use_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from timer_service_cli.main import main

    with LocalStack(config(tmp_path / "a")) as stack:
        port = stack.url.rsplit(":", 1)[1]
        code = main(["dev", "--port", port, "--state-dir", str(tmp_path / "b"), "--quiet"])
    assert code == 1
    assert f"{port} is in use" in capsys.readouterr().err
