"""``timer-service dev`` as a user runs it: README session, restarts, API key."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadtest.stack import StackProcess, start_stack

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8080"
README_PAGE_URL = "http://127.0.0.1:8000"

pytestmark = pytest.mark.e2e


def readme_curl_session(heading: str = "## A session with curl") -> list[str]:
    """The shell commands of the first ``sh`` block under ``heading``, one string each."""
    text = README.read_text()
    section = text.split(heading, 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    commands, current = [], ""
    for line in block.group(1).splitlines():
        if line.startswith("#") or not line.strip():
            continue
        current += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            commands.append(current)
            current = ""
    return commands


def test_readme_curl_session_works_as_written(local_stack: Callable[..., StackProcess]) -> None:
    stack = local_stack()
    outputs = []
    commands = readme_curl_session()
    assert len(commands) >= 6
    for command in commands:
        assert README_URL in command
        run = subprocess.run(
            ["bash", "-c", command.replace(README_URL, stack.url) + " -w '\\n%{http_code}'"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        body, _, status = run.stdout.rpartition("\n")
        assert status.startswith("2"), (command, run.stdout)
        outputs.append(json.loads(body))
    created, cron = outputs[0], outputs[1]
    assert created["id"] == "order-42" and created["version"] == 1
    assert cron["timezone"] == "Europe/Paris"
    assert {t["id"] for t in outputs[3]["items"]} == {"order-42", "daily-report"}
    assert outputs[-1] == {"id": "order-42"}
    assert httpx.get(f"{stack.url}/periodic/order-42").status_code == 404


def run_readme_command(command: str, stack: StackProcess, page_url: str = "") -> tuple[int, Any]:
    """One README command against ``stack`` (and a local page server): (status, JSON body)."""
    line = command.replace(README_URL, stack.url)
    if page_url:
        line = line.replace(README_PAGE_URL, page_url)
    run = subprocess.run(
        ["bash", "-c", line + " -w '\\n%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = run.stdout.rpartition("\n")
    return int(status), json.loads(body)


def test_readme_html_monitor_session_works_as_written(
    local_stack: Callable[..., StackProcess],
) -> None:
    from tests.pages import PageServer

    pages = PageServer()
    pages.set("/shop.html", '<html><body><h1>Shop</h1><p id="price">10 EUR</p></body></html>')
    stack = local_stack("--allow-private-targets")
    put, trigger, trigger_again, list_runs = readme_curl_session("### Watching a web page")

    def runs_when(count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 20
        while True:
            status, body = run_readme_command(list_runs, stack, pages.url)
            assert status == 200
            if len(body["items"]) >= count or time.monotonic() > deadline:
                return list(body["items"])
            time.sleep(0.2)

    try:
        assert run_readme_command(put, stack, pages.url)[0] == 201
        assert run_readme_command(trigger, stack, pages.url)[0] == 202
        (baseline,) = runs_when(1)
        assert baseline["outcome"] == "ok" and baseline["summary"].startswith("baseline")
        pages.set("/shop.html", '<html><body><h1>Shop</h1><p id="price">12 EUR</p></body></html>')
        time.sleep(1.0 - time.time() % 1.0 + 0.01)  # a trigger in a new second: a new firing
        assert run_readme_command(trigger_again, stack, pages.url)[0] == 202
        changed, first = runs_when(2)
    finally:
        pages.close()
    assert changed["outcome"] == "changed"
    assert "-10 EUR\n+12 EUR" in changed["diff"]
    assert first == baseline
    printed = [line for line in stack.output if line.startswith("fired price-watch")]
    assert printed[-1].endswith("changed: 1 line added, 1 removed"), printed


def test_timers_survive_a_restart(local_stack: Callable[..., StackProcess], tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = local_stack("--state-dir", str(state_dir))
    for n in range(3):
        response = httpx.put(
            f"{first.url}/periodic/keep-{n}",
            json={"schedule": "rate(10 minutes)", "timerCallbackData": {"n": n}},
        )
        assert response.status_code == 201
    before = httpx.get(f"{first.url}/periodic").json()["items"]
    assert first.stop() == 0
    assert any(line.startswith("Stopped in") for line in first.output)

    second = local_stack("--state-dir", str(state_dir))
    after = httpx.get(f"{second.url}/periodic").json()["items"]
    assert [t["id"] for t in after] == ["keep-0", "keep-1", "keep-2"]
    for old, new in zip(before, after, strict=True):
        assert new["timerCallbackData"] == old["timerCallbackData"]
        assert new["version"] == old["version"]
        assert new["nextFireTimes"][0] == old["nextFireTimes"][0]
    assert httpx.delete(f"{second.url}/periodic/keep-0").status_code == 200


@pytest.fixture(scope="module")
def keyed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """One stack with three API keys, shared by tests that each use keys of their own (each key
    is a tenant: they see nothing of each other's)."""
    stack = start_stack(
        *("--api-key", "alpha", "--api-key", "beta", "--api-key", "s3cret", "--quiet"),
        cwd=tmp_path_factory.mktemp("keyed"),
    )
    yield stack
    stack.kill()


@pytest.fixture(scope="module")
def quiet_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """One keyless stack shared by tests of the API's edges (each its own timer ids)."""
    stack = start_stack("--quiet", cwd=tmp_path_factory.mktemp("quiet"))
    yield stack
    stack.kill()


def test_api_key_is_required_when_set(keyed_stack: StackProcess) -> None:
    stack = keyed_stack
    denied = httpx.get(f"{stack.url}/periodic")
    assert denied.status_code == 401
    assert denied.json()["error"]["field"] == "X-Api-Key"
    assert httpx.get(f"{stack.url}/periodic", headers={"X-Api-Key": "wrong"}).status_code == 401
    allowed = httpx.put(f"{stack.url}/periodic/k", json={}, headers={"X-Api-Key": "s3cret"})
    assert allowed.status_code == 201


def test_keyed_stack_document_asks_a_key_of_exactly_the_operations_that_need_one(
    keyed_stack: StackProcess,
) -> None:
    # GIVEN the keyed stack's own document (fetched without a key: it is public)
    stack = keyed_stack
    document = httpx.get(f"{stack.url}/openapi.json").json()
    assert document["security"] == [{"api_key": []}]
    # WHEN each documented operation is called without a key
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            url = stack.url + path.replace("{id}", "no-key")
            answered = httpx.request(method, url, json={} if method in ("put", "post") else None)
            # THEN it is refused (401) exactly when the document says it needs a key
            needs_key = operation.get("security", document["security"]) != []
            assert (answered.status_code == 401) == needs_key, (method, path, answered.text)


def test_banner_shows_urls_and_a_curl_example(local_stack: Callable[..., StackProcess]) -> None:
    stack = local_stack("--shards", "2")
    banner = "\n".join(stack.output)
    assert f"{stack.url}/docs" in banner
    assert f"{stack.url}/console/" in banner
    console = httpx.get(f"{stack.url}/console/")
    assert console.status_code == 200
    assert '<script src="app.js"' in console.text
    assert "curl -X PUT" in banner
    assert "2 shards" in banner
    assert re.search(r"AWS endpoint\s+http://127\.0\.0\.1:\d+", banner)
    assert stack.stop() == 0


def test_shards_resize_and_rebalance_on_a_running_stack(
    local_stack: Callable[..., StackProcess], tmp_path: Path
) -> None:
    from loadtest.stack import CLI

    state_dir = tmp_path / "state"
    stack = local_stack("--shards", "4", "--state-dir", str(state_dir), "--quiet")
    for n in range(24):
        assert httpx.put(f"{stack.url}/periodic/s{n}", json={}).status_code == 201
    shards_before = {t["shardId"] for t in httpx.get(f"{stack.url}/periodic").json()["items"]}
    assert shards_before - {0, 1}  # some timers live on shards 2 and 3

    def shards(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(CLI), "shards", "--state-dir", str(state_dir), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    resized = shards("set", "2")
    assert resized.returncode == 0, resized.stderr
    assert "draining 2, 3" in resized.stdout
    # As the README says: run it until nothing waits (a timer moves only between two ticks of
    # its shard; each run retries a busy shard for 20 s, a tick on a loaded machine can outlast it).
    runs = [shards("rebalance")]
    while runs[-1].returncode != 0 and len(runs) < 4:
        assert "could not move yet" in runs[-1].stdout, runs[-1].stdout + runs[-1].stderr
        runs.append(shards("rebalance"))
    assert runs[-1].returncode == 0, runs[-1].stdout + runs[-1].stderr
    retired = {n for run in runs for n in re.findall(r"retired shards ([\d, ]+)", run.stdout)}
    assert {int(n) for line in retired for n in line.split(", ")} == {2, 3}
    items = httpx.get(f"{stack.url}/periodic").json()["items"]
    assert {t["shardId"] for t in items} <= {0, 1}
    assert len(items) == 24
    listing = shards("list")
    assert listing.returncode == 0
    assert "active" in listing.stdout and "draining" not in listing.stdout


def test_each_tenant_is_rate_limited_with_retry_after(
    local_stack: Callable[..., StackProcess],
) -> None:
    stack = local_stack(
        "--api-key", "alpha", "--api-key", "beta", "--rate-limit", "0.1", "--burst", "2", "--quiet"
    )  # a token each 10 s: a slow first answer on a loaded machine does not refill the bucket
    alpha, beta = {"X-Api-Key": "alpha"}, {"X-Api-Key": "beta"}
    statuses = [httpx.get(f"{stack.url}/periodic", headers=alpha).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = httpx.get(f"{stack.url}/periodic", headers=alpha)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 10
    assert limited.json()["error"]["code"] == "too_many_requests"
    assert httpx.get(f"{stack.url}/periodic", headers=beta).status_code == 200  # its own bucket
    assert httpx.get(f"{stack.url}/health").status_code == 200  # open paths are not limited


def test_tenants_by_api_key_see_only_their_own_timers(keyed_stack: StackProcess) -> None:
    stack = keyed_stack
    alpha, beta = {"X-Api-Key": "alpha"}, {"X-Api-Key": "beta"}
    assert httpx.put(f"{stack.url}/periodic/x", json={}, headers=alpha).status_code == 201
    assert httpx.get(f"{stack.url}/periodic/x", headers=beta).status_code == 404
    assert httpx.put(f"{stack.url}/periodic/x", json={}, headers=beta).status_code == 201
    assert len(httpx.get(f"{stack.url}/periodic", headers=alpha).json()["items"]) == 1


def test_unknown_methods_head_and_options_on_the_local_stack(quiet_stack: StackProcess) -> None:
    stack = quiet_stack
    traced = httpx.request("TRACE", f"{stack.url}/periodic/x")
    assert traced.status_code == 405
    assert traced.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, PUT"
    assert traced.json()["error"]["code"] == "method_not_allowed"
    options = httpx.options(f"{stack.url}/periodic")
    assert (options.status_code, options.headers["Allow"]) == (204, "GET, HEAD, OPTIONS")
    head = httpx.head(f"{stack.url}/health")
    assert (head.status_code, head.content) == (200, b"")
    binary = httpx.put(f"{stack.url}/periodic/x", content=b"\x80\x81")
    assert binary.status_code == 400 and binary.json()["error"]["field"] == "body"


def test_ids_and_bodies_that_fuzzing_and_probing_found_on_the_local_stack(
    quiet_stack: StackProcess,
) -> None:
    stack = quiet_stack
    assert httpx.put(f"{stack.url}/periodic/a", json={}).status_code == 201
    # schemathesis: GET /periodic/%0A answered 200 with the list
    for segment in ("%0A", "%20", "%2F", "%00", "a%0A", "%2E", "%2E%2E"):
        for method, suffix in (("GET", ""), ("PUT", ""), ("POST", "/trigger")):
            answer = httpx.request(method, f"{stack.url}/periodic/{segment}{suffix}", json={})
            assert answer.status_code == 400, (method, segment, answer.text)
            assert answer.json()["error"]["field"] == "id"
    # an encoded slash stays inside its segment: this is not "pause the timer a"
    slashed = httpx.post(f"{stack.url}/periodic/a%2Fpause")
    assert (slashed.status_code, slashed.json()["error"]["field"]) == (400, "id")
    assert httpx.get(f"{stack.url}/periodic/a").json()["enabled"] is True
    # a body that is not a JSON object, on routes that read none
    for path, body in (("/periodic/a/trigger", b"junk"), ("/periodic/a/resume", b"[1]")):
        answer = httpx.post(f"{stack.url}{path}", content=body)
        assert (answer.status_code, answer.json()["error"]["field"]) == (400, "body"), path
