"""``timer-service timers`` where no stack answers as it should: a scripted server (503, a
broken connection), no local stack, a deployed stack on moto; and its tables on a terminal."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import AwsResources
from tests.functional.test_client_errors import TIMER, Answer, ScriptedApi, error
from tests.functional.test_deployment_cli import SignedApi, deployed, signed_api
from timer_service_cli.main import main

__all__ = ["deployed", "signed_api"]  # fixtures used here


@pytest.fixture
def api() -> Iterator[ScriptedApi]:
    server = ScriptedApi()
    yield server
    server.close()


def test_a_service_still_unavailable_after_the_retries_exits_5(
    api: ScriptedApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.script(
        "GET /periodic/a",
        Answer(503, error("store_unavailable", "try later"), {"Retry-After": "0"}),
    )
    assert main(["timers", "get", "a", "--url", api.url]) == 5
    assert "503 store_unavailable: try later" in capsys.readouterr().err
    assert len(api.seen("GET /periodic/a")) == 4  # the client's default attempts


def test_a_stack_that_does_not_answer_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{free.getsockname()[1]}"
    assert main(["timers", "list", "--url", url]) == 5
    assert "cannot reach the API" in capsys.readouterr().err


def test_without_a_local_stack_it_says_how_to_name_one_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["timers", "list", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"no local stack in {tmp_path}" in err and "--url URL or --stack NAME" in err


def test_url_and_stack_together_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timers", "list", "--url", "http://127.0.0.1:1", "--stack", "S"]) == 2
    assert "not both" in capsys.readouterr().err


def test_on_a_terminal_it_prints_tables(
    api: ScriptedApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api.script("GET /periodic", Answer(200, {"items": [TIMER], "nextToken": None}))
    api.script("GET /periodic/a", Answer(200, TIMER))
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert main(["timers", "list", "--url", api.url]) == 0
    listed = capsys.readouterr().out
    assert "next firing" in listed and "rate(5 minutes)" in listed and "1 timers" in listed
    assert main(["timers", "get", "a", "--url", api.url]) == 0
    shown = capsys.readouterr().out
    assert "misfire policy" in shown and "2026-11-22T12:05:37Z" in shown
    assert main(["timers", "get", "a", "--url", api.url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == TIMER


def test_stack_option_reads_the_url_from_the_stack_and_signs(
    aws: AwsResources, deployed: str, signed_api: SignedApi, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_api.bodies["/v1/periodic"] = {"items": [TIMER], "nextToken": None}
    assert main(["timers", "list", "--stack", deployed]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == ["a"]
    (request,) = signed_api.requests
    assert request["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")


def test_every_exit_code_is_in_the_guide_s_table() -> None:
    import re

    from timer_service_cli.timers import EXIT_CODES

    guide = (Path(__file__).resolve().parents[2] / "docs" / "client.md").read_text()
    table = guide.split("Exit codes, for scripts:", 1)[1].split("\n\n", 2)[1]
    documented = {int(code) for code in re.findall(r"^\| (\d) \|", table, re.M)}
    assert documented == set(EXIT_CODES)


def _endpoint(tmp_path: Path, content: str) -> Path:
    (tmp_path / "endpoint.json").write_text(content)
    return tmp_path


def test_an_endpoint_file_naming_a_remote_host_is_refused_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a checked-out repo whose .timer-service/endpoint.json points off the machine
    import httpx

    sent: list[httpx.Request] = []
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", lambda _, r: sent.append(r))
    state = _endpoint(tmp_path, json.dumps({"api_url": "http://192.0.2.2:9/"}))
    # WHEN the key would go with the call THEN nothing is sent and it says which file
    assert main(["timers", "list", "--state-dir", str(state), "--api-key", "secret"]) == 1
    err = capsys.readouterr().err
    assert str(state / "endpoint.json") in err and "192.0.2.2" in err and "loopback" in err
    assert sent == []


def test_an_endpoint_file_naming_a_loopback_address_is_called(
    api: ScriptedApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.script("GET /periodic", Answer(200, {"items": [TIMER], "nextToken": None}))
    state = _endpoint(tmp_path, json.dumps({"api_url": api.url}))
    assert main(["timers", "list", "--state-dir", str(state), "--api-key", "k"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "a"
    assert api.seen("GET /periodic")[0].headers["X-Api-Key"] == "k"


@pytest.mark.parametrize("content", ['{"api_url":"ftp://x"}', '["x"]', "not json", '{"api_url":3}'])
def test_a_malformed_endpoint_file_exits_1_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    state = _endpoint(tmp_path, content)
    assert main(["timers", "list", "--state-dir", str(state)]) == 1
    err = capsys.readouterr().err
    assert str(state / "endpoint.json") in err and "Traceback" not in err


def test_a_url_that_has_no_such_route_exits_1_not_3(
    api: ScriptedApi, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the console's URL, where the API answers 404 no_route (api/handler.py _no_route)
    assert main(["timers", "get", "a", "--url", api.url + "/console"]) == 1
    assert "no_route" in capsys.readouterr().err
    api.script("GET /periodic/gone", Answer(404, error("not_found", "timer 'gone'", "id")))
    assert main(["timers", "get", "gone", "--url", api.url]) == 3


@pytest.mark.parametrize("timer_id", [".", "..", ""])
def test_an_id_the_api_refuses_exits_1_with_the_api_s_wording(
    api: ScriptedApi, capsys: pytest.CaptureFixture[str], timer_id: str
) -> None:
    assert main(["timers", "get", timer_id, "--url", api.url]) == 1
    assert "400 invalid_request (id): id: must be 1-128 characters" in capsys.readouterr().err
    assert api.requests == []


def test_the_api_key_can_come_from_the_environment(
    api: ScriptedApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api.script("GET /periodic/a", Answer(200, TIMER))
    monkeypatch.setenv("TIMER_SERVICE_API_KEY", "from-env")
    assert main(["timers", "get", "a", "--url", api.url]) == 0
    assert main(["timers", "get", "a", "--url", api.url, "--api-key", "flag"]) == 0
    keys = [seen.headers["X-Api-Key"] for seen in api.seen("GET /periodic/a")]
    assert keys == ["from-env", "flag"]


def test_a_closed_pipe_ends_it_quietly(api: ScriptedApi) -> None:
    # GIVEN `timer-service timers list | head -0`: the reader is gone before the first line
    import subprocess
    import sys

    api.script("GET /periodic", Answer(200, {"items": [TIMER] * 50, "nextToken": None}))
    code = "import sys; from timer_service_cli.main import main; sys.exit(main(sys.argv[1:]))"
    child = subprocess.Popen(
        [sys.executable, "-c", code, "timers", "list", "--url", api.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_put_flags_set_jitter_run_limit_and_completion(api: ScriptedApi) -> None:
    api.script("PUT /periodic/a", Answer(201, TIMER))
    argv = ["timers", "put", "a", "--schedule", "rate(10 seconds)", "--url", api.url]
    argv += ["--jitter-seconds", "30", "--max-firings", "6", "--on-complete", "delete"]
    assert main(argv) == 0
    [seen] = api.seen("PUT /periodic/a")
    body = json.loads(seen.body)
    assert body == {
        "schedule": "rate(10 seconds)",
        "jitterSeconds": 30,
        "maxFirings": 6,
        "onComplete": "delete",
    }


def test_a_max_firings_that_is_not_positive_is_a_usage_error(
    api: ScriptedApi, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["timers", "put", "a", "--max-firings", "0", "--url", api.url])
    assert usage.value.code == 2 and "--max-firings" in capsys.readouterr().err
    assert api.requests == []
