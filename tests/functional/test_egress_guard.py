"""The SSRF guard holds for every connection a job makes, whatever thread or library makes it.

The guard is on (ALLOW_PRIVATE_TARGETS=false, `make dev`'s default); a server on 127.0.0.1
stands for the loopback, VPC-internal and metadata addresses a tenant must never reach. Each
test proves that no request arrives there and that the run history says what was refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from loadtest.stack import WebhookReceiver
from tests.conftest import ApiCall, AwsResources, set_settings
from tests.functional.conftest import runs, trigger
from timer_service.connection_guard import BlockedConnectionError, guarded
from timer_service.job_types import JobContext, JobResult, JobType
from timer_service.testing import JobHarness


@pytest.fixture
def guard_on(pipeline: AwsResources, monkeypatch: pytest.MonkeyPatch) -> AwsResources:
    set_settings(monkeypatch, allow_private_targets=False)
    return pipeline


def failing_monitor(call_api: ApiCall, timer_id: str, notify: dict[str, Any]) -> None:
    """A monitor whose page is refused (a loopback address), alerting at the first failure."""
    body = {
        "schedule": "rate(1 hour)",
        "jobType": "html_monitor",
        "history": "all",
        "job": {
            "url": "http://127.0.0.1:9/page",
            "alertAfterFailures": 1,
            "notify": notify,
        },
    }
    assert call_api("PUT", f"/periodic/{timer_id}", body).status == 201


def apprise_url(receiver: WebhookReceiver, path: str) -> str:
    return "json://" + receiver.url.removeprefix("http://") + path


def test_apprise_failing_notice_to_loopback_never_arrives(
    guard_on: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    # GIVEN a failing monitor whose failure notice goes through Apprise to 127.0.0.1
    failing_monitor(call_api, "leak", {"apprise": [apprise_url(receiver, "/x")]})
    # WHEN it fires
    trigger(call_api, guard_on, "leak")
    # THEN nothing reaches the loopback server, and the run names what was refused
    assert receiver.requests == []
    (run,) = runs(call_api, "leak")
    assert run["outcome"] == "error"
    assert "blocked" in run["summary"]
    assert "127.0.0.1" in run["summary"]


def test_apprise_to_several_targets_at_once_reaches_none_of_the_private_ones(
    guard_on: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    # Several Apprise URLs are sent in parallel from Apprise's shared worker threads.
    targets = [apprise_url(receiver, f"/{n}") for n in range(4)]
    failing_monitor(call_api, "fanout", {"apprise": targets})
    trigger(call_api, guard_on, "fanout")
    assert receiver.requests == []
    (run,) = runs(call_api, "fanout")
    assert "blocked" in run["summary"]


def test_webhook_notice_to_loopback_never_arrives(
    guard_on: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    failing_monitor(call_api, "hook", {"webhookUrl": receiver.url + "/notify"})
    trigger(call_api, guard_on, "hook")
    assert receiver.requests == []
    (run,) = runs(call_api, "hook")
    assert "127.0.0.1" in run["summary"]


def test_the_services_own_aws_calls_pass_the_guard(
    guard_on: AwsResources, call_api: ApiCall
) -> None:
    # The emulator listens on 127.0.0.1 too: the sqs job's boto3 call must still reach it.
    body = {"schedule": "rate(1 hour)", "timerCallbackData": {"n": 1}, "history": "all"}
    assert call_api("PUT", "/periodic/out", body).status == 201
    trigger(call_api, guard_on, "out")
    (run,) = runs(call_api, "out")
    assert run["outcome"] == "ok", run
    from timer_service.aws import client

    sqs = client("sqs", "us-east-1", guard_on.endpoint_url)
    (message,) = sqs.receive_message(QueueUrl=guard_on.output_queue_url)["Messages"]
    assert json.loads(message["Body"]) == {"n": 1}


# --- plugin code that opens its own connections --------------------------------------------


class Target(BaseModel):
    url: str


@pytest.fixture
def server() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def _httpx_in_a_thread(url: str) -> None:
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.post(url, content=b"x", timeout=2)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


_POOL = ThreadPoolExecutor(max_workers=2)  # made before any job ran, as Apprise's shared pool


def _urllib_on_a_shared_pool(url: str) -> None:
    _POOL.submit(urllib.request.urlopen, url, b"x", 2).result()


def _asyncio_streams(url: str) -> None:
    host, port = url.removeprefix("http://").split("/")[0].split(":")

    async def send() -> None:
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    asyncio.run(send())


def _raw_socket_by_name(url: str) -> None:
    port = int(url.removeprefix("http://").split("/")[0].split(":")[1])
    with socket.create_connection(("localhost", port), timeout=2) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize(
    "connect",
    [_httpx_in_a_thread, _urllib_on_a_shared_pool, _asyncio_streams, _raw_socket_by_name],
    ids=["httpx-thread", "urllib-shared-pool", "asyncio", "socket-by-name"],
)
def test_plugin_connections_to_loopback_are_refused_and_recorded(
    connect: Any, server: WebhookReceiver
) -> None:
    def handler(config: Target, context: JobContext) -> JobResult:
        connect(config.url)
        return JobResult(summary="sent")

    plugin = JobType(name="leaky", config_model=Target, handler=handler)
    harness = JobHarness([plugin], allow_private_targets=False)
    harness.put("t", jobType="leaky", job={"url": server.url + "/x"})
    run = harness.fire("t")
    assert server.requests == []
    assert run is not None
    assert run.outcome == "error"
    assert "blocked" in run.summary
    assert "to the dead-letter queue" in run.summary  # refused again on every retry


def test_a_job_that_swallows_the_refusal_still_has_it_in_its_run(server: WebhookReceiver) -> None:
    def handler(config: Target, context: JobContext) -> JobResult:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(config.url, timeout=2)
        return JobResult(summary="done anyway")

    harness = JobHarness(
        [JobType(name="quiet", config_model=Target, handler=handler)], allow_private_targets=False
    )
    harness.put("t", jobType="quiet", job={"url": server.url + "/x"})
    run = harness.fire("t")
    assert server.requests == []
    assert run is not None
    assert run.summary.startswith("done anyway (blocked: 127.0.0.1:")
    assert run.details["blocked"]


def test_udp_to_a_private_address_is_refused() -> None:
    with (
        guarded() as guard,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        pytest.raises(BlockedConnectionError),
    ):
        sock.sendto(b"x", ("169.254.169.254", 53))
    assert guard.blocked == ["169.254.169.254:53: address 169.254.169.254 is not a public address"]


def test_a_public_address_is_not_refused() -> None:
    refused: list[OSError] = []
    with guarded() as guard, socket.socket() as sock:
        sock.settimeout(0.2)
        try:
            sock.connect(("93.184.215.14", 80))
        except BlockedConnectionError as exc:
            refused.append(exc)
        except OSError:
            pass  # no route from this machine: not the guard's doing
    assert refused == []
    assert guard.blocked == []


def test_outside_a_job_nothing_is_checked(server: WebhookReceiver) -> None:
    with guarded():
        pass
    assert httpx.post(server.url + "/after", content=b"x").status_code < 500
    assert [r.path for r in server.requests] == ["/after"]


RACE = """
import threading
from concurrent.futures import ThreadPoolExecutor

from timer_service.connection_guard import guarded

barrier = threading.Barrier(8)


def job():
    barrier.wait()  # a pack's first members enter the guard together, in a fresh process
    with guarded():
        pass


threads = [threading.Thread(target=job) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with ThreadPoolExecutor(1) as pool:
    print(pool.submit(lambda: "submit ok").result())
"""


def test_the_guard_installs_once_when_threads_enter_it_together() -> None:
    import subprocess
    import sys

    for _ in range(3):  # the race is not won every time
        done = subprocess.run(
            [sys.executable, "-c", RACE], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.stdout.strip() == "submit ok", done.stderr[-2000:]
