"""Flow control against a real destination: 1,000 webhook firings due at one second, to one
local server, through callbacks running at once on the DynamoDB store (moto): with
``maxConcurrency: 5`` the server never has more than 5 requests in flight, and all 1,000 arrive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import AwsResources


class CountingServer:
    """Answers each POST after ``delay_s``, counting the requests in flight and the most at
    once."""

    def __init__(self, delay_s: float = 0.01) -> None:
        self.lock = threading.Lock()
        self.in_flight = self.most = 0
        self.seen: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                with server.lock:
                    server.in_flight += 1
                    server.most = max(server.most, server.in_flight)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(delay_s)
                with server.lock:
                    server.seen.append(self.headers["X-Timer-Firing-Id"])
                    server.in_flight -= 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def destination() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()


@pytest.mark.parametrize(
    ("store_kind", "firings"),
    [("memory", 1000), ("dynamodb", 100)],  # moto takes ~0.2 s a firing: fewer on it
)
def test_a_thousand_firings_at_one_second_never_exceed_five_in_flight_and_all_arrive(
    request: pytest.FixtureRequest, destination: CountingServer, store_kind: str, firings: int
) -> None:
    from timer_service.aws import client
    from timer_service.clock import SystemClock
    from timer_service.delivery import Delivery
    from timer_service.delivery_policy import DeliveryPolicy, Received, RetryRule
    from timer_service.dispatch import Firing, InMemoryDispatchQueue
    from timer_service.job_types import JobTypeRegistry
    from timer_service.messages import MessageSigner, messages_of
    from timer_service.models import TimerSpec
    from timer_service.service import TimerService
    from timer_service.settings import Settings
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service.store.memory import InMemoryTimerStore
    from timer_service.testing import NoAwsClients

    # GIVEN a webhook timer per firing, to one server, sharing a key with maxConcurrency 5
    store: Any = InMemoryTimerStore()
    if store_kind == "dynamodb":
        aws: AwsResources = request.getfixturevalue("aws")
        store = DynamoTimerStore(client("dynamodb", "us-east-1", aws.endpoint_url), aws.table)
    clock = SystemClock()
    registry = JobTypeRegistry.from_entry_points()
    service = TimerService(store=store, clock=clock, job_types=registry)
    spec = TimerSpec.model_validate(
        {
            "jobType": "webhook",
            "job": {"url": f"{destination.url}/hook"},
            "concurrencyKey": "one-server",
            "maxConcurrency": 5,
        }
    )
    for n in range(firings):
        service.put("alice", f"t{n}", spec)
    settings = Settings(allow_private_targets=True)
    queue = InMemoryDispatchQueue(clock)
    signer = MessageSigner("k" * 32)
    delivery = Delivery(
        store=store, job_types=registry, clock=clock, settings=settings, client=NoAwsClients()
    )
    policy = DeliveryPolicy(
        delivery=delivery,
        queue=queue,
        dead_letters=None,  # type: ignore[arg-type]  # nothing fails here
        signer=signer,
        rule=RetryRule(),
    )
    # AND their firings all due at one second, packed as the ticker packs them
    due_s = int(time.time()) - 1
    pending = [Firing("alice", f"t{n}", 1, scheduled_s=due_s) for n in range(firings)]
    # WHEN four callbacks at once run the messages, and what flow control sends back again
    sends = rounds = 0
    while pending and rounds < 50:
        rounds += 1
        messages = messages_of(pending)
        queue.retried.clear()
        with ThreadPoolExecutor(max_workers=4) as callbacks:
            failed = list(
                callbacks.map(
                    lambda m: policy.handle([Received("m", m.body, signer.sign(m.body))]),
                    messages,
                )
            )
        assert all(ids == [] for ids in failed)
        pending = [firing for firing, _, _ in queue.retried]
        sends += len(pending)
    # THEN the server never had more than 5 requests in flight, and got each firing once
    assert destination.most <= 5
    assert len(destination.seen) == firings == len(set(destination.seen))
    print(
        f"\n{firings} firings, maxConcurrency 5 ({store_kind}): {sends} sent back,"
        f" most in flight {destination.most}"
    )
