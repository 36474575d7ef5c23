"""The client against a small HTTP server on 127.0.0.1 that answers as scripted: what it
retries (429 and 503 after Retry-After, other 5xx only when idempotent), what it raises, the
headers it sends, and how it finds a deployed stack."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from timer_service.client import (
    ApiConnectionError,
    ApiTimeoutError,
    AsyncTimerClient,
    BadRequestError,
    NotFoundError,
    PreconditionFailedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    ServiceUnavailableError,
    TimerClient,
    UnexpectedResponseError,
)
from timer_service.models import TimerSpec

FAST = RetryPolicy(max_attempts=3, backoff_s=0.01, max_backoff_s=0.05)
TIMER = {
    "id": "a",
    "shardId": 0,
    "timeShardId": "S#0#R#5#2",
    "schedule": "rate(5 minutes)",
    "timezone": "UTC",
    "startAt": None,
    "endAt": None,
    "jobType": "sqs",
    "job": {},
    "timerCallbackData": None,
    "enabled": True,
    "misfirePolicy": "fireOnce",
    "delivery": "atLeastOnce",
    "history": "errors",
    "version": 1,
    "createdAt": "2026-11-22T12:00:37Z",
    "updatedAt": "2026-11-22T12:00:37Z",
    "nextFireTimes": ["2026-11-22T12:05:37Z"],
}
TRIGGERED = {"id": "a", "firingId": "o#a@2026-11-22T12:00:37Z~manual", "scheduledAt": "x"}


def error(code: str, message: str = "no", field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at_s: float


class ScriptedApi:
    """Answers each ``METHOD path`` (the path without its query) with its next scripted
    answer, the last one again when they run out; 404 for anything unscripted."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[Answer]] = {}
        self.requests: list[Seen] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                api.answer(self)

            do_PUT = do_POST = do_DELETE = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stage"

    def script(self, route: str, *answers: Answer) -> None:
        self.scripts[route] = list(answers)

    def seen(self, route: str) -> list[Seen]:
        return [r for r in self.requests if f"{r.method} {r.path.split('?')[0]}" == route]

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        path = request.path.removeprefix("/stage")
        self.requests.append(
            Seen(request.command, path, dict(request.headers.items()), body, time.monotonic())
        )
        queue = self.scripts.get(f"{request.command} {path.split('?')[0]}")
        answer = Answer(404, error("no_route")) if not queue else queue[0]
        if queue and len(queue) > 1:
            queue.pop(0)
        time.sleep(answer.delay_s)
        payload = json.dumps(answer.body).encode() if answer.body is not None else b""
        try:
            request.send_response(answer.status)
            for name, value in {"Content-Type": "application/json", **answer.headers}.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting (a timeout test)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api() -> Iterator[ScriptedApi]:
    server = ScriptedApi()
    yield server
    server.close()


def client(api: ScriptedApi, **options: Any) -> TimerClient:
    return TimerClient(api.url, **({"retry": FAST} | options))


def test_client_on_429_waits_its_retry_after_then_succeeds(api: ScriptedApi) -> None:
    # GIVEN an API that throttles the first GET, saying when to come back
    api.script(
        "GET /periodic/a",
        Answer(429, error("too_many_requests"), {"Retry-After": "1"}),
        Answer(200, TIMER),
    )
    # WHEN the timer is read THEN the client waited that second and got it
    with client(api) as timers:
        assert timers.get("a").schedule == "rate(5 minutes)"
    first, second = api.seen("GET /periodic/a")
    assert second.at_s - first.at_s >= 0.95


def test_client_on_503_then_200_retries_a_read(api: ScriptedApi) -> None:
    api.script("GET /periodic/a", Answer(503, error("store_unavailable")), Answer(200, TIMER))
    with client(api) as timers:
        assert timers.get("a").id == "a"
    assert len(api.seen("GET /periodic/a")) == 2


def test_client_on_503_retries_even_a_trigger_which_did_nothing(api: ScriptedApi) -> None:
    api.script(
        "POST /periodic/a/trigger", Answer(503, error("unavailable")), Answer(202, TRIGGERED)
    )
    with client(api) as timers:
        assert timers.trigger("a").firing_id == TRIGGERED["firingId"]
    assert len(api.seen("POST /periodic/a/trigger")) == 2


def test_client_on_500_to_a_trigger_raises_without_trying_again(api: ScriptedApi) -> None:
    # A trigger that failed may have fired: a second try could fire it twice
    api.script(
        "POST /periodic/a/trigger", Answer(500, error("internal_error")), Answer(202, TRIGGERED)
    )
    with client(api) as timers, pytest.raises(ServerError) as raised:
        timers.trigger("a")
    assert (raised.value.status, raised.value.code) == (500, "internal_error")
    assert len(api.seen("POST /periodic/a/trigger")) == 1


def test_client_on_500_to_an_idempotent_put_retries_up_to_its_attempts(api: ScriptedApi) -> None:
    api.script("PUT /periodic/a", Answer(500, error("internal_error")))
    with client(api) as timers, pytest.raises(ServerError):
        timers.put("a", TimerSpec(schedule="rate(5 minutes)"))
    assert len(api.seen("PUT /periodic/a")) == FAST.max_attempts


def test_client_still_throttled_after_its_attempts_raises_rate_limit(api: ScriptedApi) -> None:
    api.script("GET /periodic", Answer(429, error("too_many_requests"), {"Retry-After": "0"}))
    with client(api, max_attempts=2) as timers, pytest.raises(RateLimitError) as raised:
        timers.list()
    assert raised.value.retry_after_s == 0.0
    assert len(api.seen("GET /periodic")) == 2


def test_client_does_not_wait_a_retry_after_longer_than_its_policy(api: ScriptedApi) -> None:
    api.script("GET /periodic", Answer(503, error("store_unavailable"), {"Retry-After": "3600"}))
    started = time.monotonic()
    with client(api) as timers, pytest.raises(ServiceUnavailableError) as raised:
        timers.list()
    assert time.monotonic() - started < 1
    assert raised.value.retry_after_s == 3600.0
    assert len(api.seen("GET /periodic")) == 1


def test_client_timeout_on_a_trigger_raises_at_once_and_a_read_is_tried_again(
    api: ScriptedApi,
) -> None:
    api.script("POST /periodic/a/trigger", Answer(202, TRIGGERED, delay_s=1.0))
    api.script("GET /periodic/a", Answer(200, TIMER, delay_s=1.0), Answer(200, TIMER))
    with client(api, timeout=0.3) as timers:
        with pytest.raises(ApiTimeoutError):
            timers.trigger("a")
        assert timers.get("a").id == "a"
    assert len(api.seen("POST /periodic/a/trigger")) == 1
    assert len(api.seen("GET /periodic/a")) == 2


def test_client_with_nothing_listening_raises_a_connection_error() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with (
        TimerClient(f"http://127.0.0.1:{port}", retry=FAST) as timers,
        pytest.raises(ApiConnectionError, match="cannot reach the API"),
    ):
        timers.trigger("a")  # nothing was sent: safe to try again, even for a trigger


def test_client_sends_conditions_as_the_api_reads_them_and_raises_412(api: ScriptedApi) -> None:
    api.script("PUT /periodic/a", Answer(412, error("version_conflict", field="If-Match")))
    api.script("DELETE /periodic/a", Answer(200, {"id": "a"}))
    with client(api) as timers:
        with pytest.raises(PreconditionFailedError) as raised:
            timers.put("a", {"schedule": "rate(1 hour)"}, if_match=3)
        timers.delete("a", if_match="*")
        with pytest.raises(PreconditionFailedError):
            timers.put("a", TimerSpec(), if_none_match=True)
    assert raised.value.field == "If-Match"
    first, second = api.seen("PUT /periodic/a")
    assert first.headers["If-Match"] == '"3"' and "If-None-Match" not in first.headers
    assert json.loads(first.body) == {"schedule": "rate(1 hour)"}
    assert second.headers["If-None-Match"] == "*" and json.loads(second.body) == {}
    assert api.seen("DELETE /periodic/a")[0].headers["If-Match"] == "*"


def test_client_on_404_raises_not_found_naming_the_field(api: ScriptedApi) -> None:
    api.script("GET /periodic/gone", Answer(404, error("not_found", "timer 'gone'", "id")))
    with client(api) as timers, pytest.raises(NotFoundError) as raised:
        timers.get("gone")
    assert (raised.value.code, raised.value.field) == ("not_found", "id")


def test_a_success_that_is_not_the_api_s_answer_is_an_unexpected_response(
    api: ScriptedApi,
) -> None:
    api.script("GET /periodic/a", Answer(200, {"hello": "world"}))
    with (
        client(api) as timers,
        pytest.raises(UnexpectedResponseError, match="not with a TimerView"),
    ):
        timers.get("a")


def test_client_quotes_an_id_so_it_never_reaches_another_route(api: ScriptedApi) -> None:
    # Refused before sending now (the API's own 400 wording), so never another route.
    with client(api) as timers, pytest.raises(BadRequestError):
        timers.get("a/trigger")
    assert api.requests == []


def test_iter_timers_follows_next_token_through_every_page(api: ScriptedApi) -> None:
    pages = [
        Answer(200, {"items": [TIMER | {"id": "a"}], "nextToken": "a"}),
        Answer(200, {"items": [TIMER | {"id": "b"}], "nextToken": "b"}),
        Answer(200, {"items": [TIMER | {"id": "c"}], "nextToken": None}),
    ]
    api.script("GET /periodic", *pages)
    with client(api) as timers:
        assert [t.id for t in timers.iter_timers(page_size=1)] == ["a", "b", "c"]
    paths = [seen.path for seen in api.seen("GET /periodic")]
    assert paths == [
        "/periodic?limit=1",
        "/periodic?limit=1&nextToken=a",
        "/periodic?limit=1&nextToken=b",
    ]


def test_async_client_retries_as_the_sync_one(api: ScriptedApi) -> None:
    api.script(
        "GET /periodic/a",
        Answer(429, error("too_many_requests"), {"Retry-After": "0"}),
        Answer(503, error("store_unavailable")),
        Answer(200, TIMER),
    )
    api.script("POST /periodic/a/trigger", Answer(500, error("internal_error")))

    async def calls() -> None:
        async with AsyncTimerClient(api.url, retry=FAST) as timers:
            assert (await timers.get("a")).id == "a"
            with pytest.raises(ServerError):
                await timers.trigger("a")
            ids = [t.id async for t in timers.iter_timers()]
            assert ids == []

    api.script("GET /periodic", Answer(200, {"items": [], "nextToken": None}))
    asyncio.run(calls())
    assert len(api.seen("GET /periodic/a")) == 3
    assert len(api.seen("POST /periodic/a/trigger")) == 1
