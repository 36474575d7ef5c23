"""Fixtures shared by every test layer: an embedded AWS endpoint and API Gateway events."""

from __future__ import annotations

import copy
import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from timer_service.settings import Settings

if TYPE_CHECKING:
    from loadtest.stack import WebhookReceiver
    from timer_service.messages import MessageSigner
    from timer_service_local.embedded import EmbeddedAws

pytest_plugins = [
    "tests.aws_call_check",  # the handlers' AWS calls vs their IAM roles
    "tests.scheduling",  # the order of the tests, and how xdist spreads them
]

EVENTS = Path(__file__).parent / "events"
SIGNING_KEY = "test-message-signing-key-0123456789"  # MESSAGE_SIGNING_KEY of the tests
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"
HANDLER_MODULES = ("api.handler", "ticker.handler", "callbacks.handler")

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def signer() -> MessageSigner:
    """The signer the tests' handlers verify with."""
    from timer_service.messages import MessageSigner

    return MessageSigner(SIGNING_KEY)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture(scope="session")
def embedded_aws() -> Iterator[EmbeddedAws]:
    """One moto server per test process, on a free loopback port."""
    from timer_service_local.embedded import EmbeddedAws, fake_credentials

    with fake_credentials(), EmbeddedAws() as aws:
        yield aws


class WorldClock:
    """The functional tests' time: the system clock, moved ahead when a test says time has
    passed, so no test waits for it. The Lambda handlers tell time by it (their wiring's clock;
    :meth:`advance` is their sleep, as they wait for a firing's second) and so does the SQS of
    the in-process emulator (a message's delay, a visibility timeout, a long poll): after
    ``advance(1)`` a message sent with a delay of a second is there to receive."""

    def __init__(self) -> None:
        self._ahead_s = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._ahead_s

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._ahead_s += max(0.0, seconds)

    def next_second(self) -> None:
        """On to the next whole second: a trigger there is a new firing (firing ids are by the
        second, so two triggers of one timer in one second are one firing)."""
        self.advance(1.0 - self.now() % 1.0)


@dataclass
class AwsResources:
    endpoint_url: str
    table: str
    dispatch_queue_url: str
    dlq_url: str
    output_queue_url: str
    clock: WorldClock

    def scan(self) -> list[dict[str, Any]]:
        """Every item in the table, consistent."""
        from timer_service.aws import client

        pages = client("dynamodb", "us-east-1", self.endpoint_url).get_paginator("scan")
        return [item for page in pages.paginate(TableName=self.table) for item in page["Items"]]


@pytest.fixture
def aws(embedded_aws: EmbeddedAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsResources]:
    """A fresh table and queues on the embedded endpoint, named in the environment."""
    from timer_service.aws import client
    from timer_service.provisioning import create_queues, create_table

    moto_url = embedded_aws.url
    embedded_aws.reset()
    create_table(client("dynamodb", "us-east-1", moto_url), "timers-test")
    queues = create_queues(client("sqs", "us-east-1", moto_url), "timers-test")
    set_settings(
        monkeypatch,
        region="us-east-1",
        endpoint_url=moto_url,
        table_name="timers-test",
        dispatch_queue_url=queues.dispatch,
        dlq_url=queues.dlq,
        output_queue_url=queues.output,
        message_signing_key=SIGNING_KEY,
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clock = WorldClock()
    handlers = [importlib.import_module(name) for name in HANDLER_MODULES]
    for handler in handlers:
        handler.wired.use_clock(clock, sleep=clock.advance)
    import moto.sqs.models

    monkeypatch.setattr(moto.sqs.models, "unix_time", clock.now)
    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda: clock.now() * 1000)
    yield AwsResources(
        moto_url, "timers-test", queues.dispatch, queues.dlq, queues.output, clock=clock
    )
    for handler in handlers:
        handler.wired.use_clock(None)


def set_settings(monkeypatch: pytest.MonkeyPatch, **fields: Any) -> None:
    """Put these settings in the environment, as the construct or the local stack would, and
    cold-start the handlers: their next event reads them."""
    for name, value in Settings(**fields).to_env().items():
        monkeypatch.setenv(name, value)
    cold_start_handlers()


def cold_start_handlers() -> None:
    """The Lambda handlers imported so far build their parts from the environment again."""
    from timer_service_local.lambdas import cold_start

    for name in HANDLER_MODULES:
        if name in sys.modules:
            cold_start(sys.modules[name])


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


ApiCall = Callable[..., ApiResponse]


@pytest.fixture
def call_api(aws: AwsResources) -> ApiCall:
    """Invoke the API Lambda with a REST event built from the sample event."""
    from api.handler import lambda_handler
    from timer_service_local.lambda_context import LocalContext

    def call(
        method: str,
        path: str,
        body: Any = None,
        *,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str | list[str]] | None = None,
        user: str | None = ALICE,
    ) -> ApiResponse:
        event = copy.deepcopy(load_event("rest_api_request.json"))
        event["httpMethod"] = event["requestContext"]["httpMethod"] = method
        event["path"] = event["resource"] = path
        event["requestContext"]["path"] = f"/prod{path}"
        event["pathParameters"] = None
        event["requestContext"]["identity"]["userArn"] = user
        event["requestContext"]["identity"]["caller"] = user
        event["headers"].update(headers or {})
        event["multiValueHeaders"].update({k: [v] for k, v in (headers or {}).items()})
        many = (
            None
            if query is None
            else {k: v if isinstance(v, list) else [v] for k, v in query.items()}
        )
        event["queryStringParameters"] = (
            None if many is None else {k: v[-1] for k, v in many.items()}
        )
        event["multiValueQueryStringParameters"] = many
        event["body"] = (
            raw_body if raw_body is not None else (None if body is None else json.dumps(body))
        )
        result = lambda_handler(event, LocalContext())
        headers_out = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers_out[name] = ", ".join(values)
        text = result.get("body") or ""
        is_json = headers_out.get("Content-Type", "").startswith("application/json")
        return ApiResponse(
            int(result["statusCode"]), json.loads(text) if is_json and text else text, headers_out
        )

    return call


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    from loadtest.stack import WebhookReceiver

    server = WebhookReceiver()
    yield server
    server.close()
