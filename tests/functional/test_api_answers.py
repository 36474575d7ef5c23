"""Every error the API answers is one its OpenAPI document declares, and every one declared is
answered: each operation is called through the local stack's front (keyed and keyless) in ways
that make each error happen, and what it answers is compared with what its document says."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema
import pytest
from botocore.awsrequest import AWSResponse
from openapi_spec_validator import validate

from tests.conftest import SIGNING_KEY, AwsResources, set_settings
from tests.functional.test_faults_aws import RawBody
from timer_service.limits import MAX_BODY_BYTES
from timer_service_local.gateway import OPEN_PATHS, GatewayApp
from timer_service_local.limits import RateLimiter

KEY = "probe-key"
BASE_URL = "http://127.0.0.1:8080"
# A request each operation takes (by operationId); the rest take no body.
BODIES: dict[str, Any] = {
    "put_timer": {},
    "preview_schedule": {"schedule": "rate(5 minutes)"},
    "redrive_dead_letters": {},
    "backfill_timer": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T01:00:00Z"},
    "bulk_timers": {"action": "pause", "selector": {"team": "payments"}},
    "open_label_feed": {"label": "team=probe"},
}
QUERIES: dict[str, str] = {  # the required query of an operation
    "revoke_label_feed": "label=team%3Dprobe",
}


class Front:
    """Calls through the local stack's HTTP front, the API handler run in this process."""

    def __init__(self, *, keyed: bool, limiter: RateLimiter | None = None) -> None:
        from api.handler import lambda_handler
        from timer_service_local.lambda_context import LocalContext

        async def invoke(event: dict[str, Any]) -> dict[str, Any]:
            return lambda_handler(event, LocalContext())

        self.keyed = keyed
        self.app = GatewayApp(invoke, api_keys=(KEY,) if keyed else (), limiter=limiter)

    def __call__(
        self, method: str, path: str, *, key: bool = True, **options: Any
    ) -> httpx.Response:
        headers = dict(options.pop("headers", {}))
        if self.keyed and key:
            headers["X-Api-Key"] = KEY
        # In a thread of its own: this one may have an event loop running (a worker whose
        # browser tests hold Playwright's), where asyncio.run refuses to start.
        with ThreadPoolExecutor(max_workers=1) as thread:
            sent = thread.submit(asyncio.run, self._send(method, path, headers=headers, **options))
            return sent.result()

    async def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            return await client.request(method, path, **options)


def local_settings(monkeypatch: pytest.MonkeyPatch, aws: AwsResources, *, keyed: bool) -> None:
    """The settings the local stack gives its API, with or without API keys."""
    set_settings(
        monkeypatch,
        region="us-east-1",
        endpoint_url=aws.endpoint_url,
        table_name=aws.table,
        dispatch_queue_url=aws.dispatch_queue_url,
        dlq_url=aws.dlq_url,
        output_queue_url=aws.output_queue_url,
        message_signing_key=SIGNING_KEY,
        api_auth="API_KEY" if keyed else "NONE",
        open_paths=tuple(sorted(OPEN_PATHS)),
    )


@pytest.fixture(params=["keyed", "keyless"])
def stack(
    request: pytest.FixtureRequest, aws: AwsResources, monkeypatch: pytest.MonkeyPatch
) -> str:
    local_settings(monkeypatch, aws, keyed=request.param == "keyed")
    return str(request.param)


@contextmanager
def aws_down() -> Iterator[None]:
    """Every AWS call answered 500 InternalServerError, retried by botocore without a wait."""
    from botocore.endpoint import Endpoint
    from botocore.retries.standard import ExponentialBackoff

    def fail(self: Endpoint, request: Any) -> AWSResponse:
        body = json.dumps({"__type": "InternalServerError", "message": "down"}).encode()
        headers = {"x-amzn-ErrorType": "InternalServerError", "Content-Type": "application/json"}
        return AWSResponse(request.url, 500, headers, RawBody(body))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
        patch.setattr(Endpoint, "_send", fail)
        yield


@dataclass(frozen=True)
class Operation:
    """One documented operation, and a request it takes."""

    method: str
    path: str
    declared: dict[str, Any]

    @property
    def body(self) -> Any:
        return BODIES.get(self.declared["operationId"])

    def on(self, timer_id: str) -> str:
        """The path with ``timer_id`` for a timer's id, and a well-formed ping token or signing
        secret id made of it (no heartbeat or secret has it: an absent one)."""
        digest = hashlib.sha256(timer_id.encode()).digest()
        token = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        query = QUERIES.get(self.declared["operationId"])
        if self.path.startswith("/signing-secrets/"):
            return self.path.replace("{id}", f"key_{digest.hex()[:16]}")
        path = self.path.replace("{id}", timer_id).replace("{token}", token)
        return f"{path}?{query}" if query else path


def operations(document: dict[str, Any]) -> list[Operation]:
    return [
        Operation(method.upper(), path, operation)
        for path, entries in document["paths"].items()
        for method, operation in entries.items()
    ]


# How to make an operation answer each error (it may answer something else: not every operation
# can answer every error).
def _malformed(call: Front, op: Operation) -> httpx.Response:
    return call(op.method, op.on("bad-json"), content=b"{")


def _malformed_token(call: Front, op: Operation) -> httpx.Response:
    return call(op.method, op.path.replace("{token}", "not-a-token"), json=op.body)


def _no_key(call: Front, op: Operation) -> httpx.Response:
    return call(op.method, op.on("no-key"), json=op.body, key=False)


def _foreign_host(call: Front, op: Operation) -> httpx.Response:  # what DNS rebinding sends
    return call(op.method, op.on("host"), json=op.body, headers={"Host": "evil.example:8080"})


def _absent(call: Front, op: Operation) -> httpx.Response:
    return call(op.method, op.on(f"absent-{op.declared['operationId']}"), json=op.body)


def _other_version(call: Front, op: Operation) -> httpx.Response:
    assert call("PUT", "/periodic/versioned", json={}).status_code in (200, 201)
    return call(op.method, op.on("versioned"), json=op.body, headers={"If-Match": '"999"'})


def _too_large(call: Front, op: Operation) -> httpx.Response:
    return call(op.method, op.on("large"), content=b" " * (MAX_BODY_BYTES + 1))


def _too_many(call: Front, op: Operation) -> httpx.Response:
    limited = Front(keyed=call.keyed, limiter=RateLimiter(rate=0.001, burst=1))
    limited(op.method, op.on("limited"), json=op.body)
    return limited(op.method, op.on("limited"), json=op.body)


def _aws_failing(call: Front, op: Operation) -> httpx.Response:
    with aws_down():
        return call(op.method, op.on("down"), json=op.body)


def _conflicting(call: Front, op: Operation) -> httpx.Response:
    """A second active signing secret, or a second rotation while one is under way."""
    if not op.path.startswith("/signing-secrets") or op.method not in ("POST",):
        return _absent(call, op)
    call("POST", "/signing-secrets")  # made, or there already
    active = [i for i in call("GET", "/signing-secrets").json()["items"] if i["state"] == "active"]
    if op.path == "/signing-secrets":
        return call("POST", "/signing-secrets")
    call("POST", f"/signing-secrets/{active[0]['id']}/rotate")  # a rotation under way
    active = [i for i in call("GET", "/signing-secrets").json()["items"] if i["state"] == "active"]
    return call("POST", op.path.replace("{id}", active[0]["id"]))


PROBES = (
    _malformed,
    _malformed_token,
    _no_key,
    _foreign_host,
    _absent,
    _other_version,
    _too_large,
    _too_many,
    _aws_failing,
    _conflicting,
)


def test_each_operation_answers_exactly_the_errors_its_document_declares(stack: str) -> None:
    # GIVEN the local stack's front, keyed or keyless, and the document it serves
    call = Front(keyed=stack == "keyed")
    document = call("GET", "/openapi.json").json()
    validate(document)
    schemas = {"components": document["components"]}
    problems = []
    for op in operations(document):
        # WHEN each error is made to happen
        answered: dict[int, httpx.Response] = {}
        for probe in PROBES:
            answer = probe(call, op)
            if answer.status_code >= 400:
                answered.setdefault(answer.status_code, answer)
        # THEN the operation answers each error it declares, and no other
        declared = {int(status) for status in op.declared["responses"] if int(status) >= 400}
        if set(answered) != declared:
            problems.append(
                f"{op.method} {op.path}: answers {sorted(answered)}, declares {sorted(declared)}"
            )
        for status, answer in answered.items():  # each in the declared shape
            declared_answer = op.declared["responses"].get(str(status))
            if declared_answer is None:
                continue
            schema = declared_answer["content"]["application/json"]["schema"]
            jsonschema.validate(answer.json(), {**schema, **schemas})
    assert not problems, "\n".join(problems)
