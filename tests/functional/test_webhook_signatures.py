"""Webhooks signed per Standard Webhooks, checked by the ``standardwebhooks`` package (written
by others), against the API, callback and ticker Lambdas on moto; and their W3C traceparent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from loadtest.stack import Received, WebhookReceiver
from tests.conftest import ApiCall, AwsResources
from tests.functional.conftest import consume_until, runs, trigger, webhook_timer
from tests.unit.test_tracing import assert_w3c_traceparent
from timer_service.signing_service import CACHE_S


def header(request: Received, name: str) -> str | None:
    return next((v for k, v in request.headers.items() if k.lower() == name), None)


def new_secret(call_api: ApiCall) -> dict[str, Any]:
    answer = call_api("POST", "/signing-secrets")
    assert answer.status == 201, answer.body
    return dict(answer.body)


def verifies(secret: str, request: Received) -> bool:
    try:
        Webhook(secret).verify(request.body, request.headers)
    except WebhookVerificationError:
        return False
    return True


def test_a_delivery_verifies_with_the_standard_webhooks_library(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    # GIVEN a signing secret and a webhook timer
    secret = new_secret(call_api)["secret"]
    webhook_timer(call_api, receiver, "signed")
    # WHEN it fires
    triggered = trigger(call_api, pipeline, "signed")
    # THEN standardwebhooks verifies the delivery, and its webhook-id is the firing id
    (request,) = receiver.requests
    assert Webhook(secret).verify(request.body, request.headers)["timerId"] == "signed"
    assert header(request, "webhook-id") == triggered["firingId"]
    # AND a body changed on the way, or a signature by another secret, does not verify
    tampered = Received(request.path, request.headers, request.body + b" ", request.at_s)
    assert not verifies(secret, tampered)
    assert not verifies(new_secret_value(), request)
    # AND the deprecated X-Timer-Signature is still sent, for one release
    assert header(request, "x-timer-signature") is not None


def new_secret_value() -> str:
    from timer_service.signing_secrets import new_secret as made

    return made()


def test_a_retry_has_the_same_webhook_id_and_trace(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    # GIVEN a webhook whose target fails the first delivery (its in-process tries too)
    secret = new_secret(call_api)["secret"]
    receiver.status = 503
    webhook_timer(call_api, receiver, "retried", history="all")
    triggered = trigger(call_api, pipeline, "retried")
    receiver.status = 200
    # WHEN the queue delivers it again
    consume_until(pipeline, lambda: any(r["outcome"] == "ok" for r in runs(call_api, "retried")))
    # THEN every request verifies, with one webhook-id: the firing's
    assert len(receiver.requests) > 3
    assert all(verifies(secret, r) for r in receiver.requests)
    assert {header(r, "webhook-id") for r in receiver.requests} == {triggered["firingId"]}
    # AND every request carries a W3C traceparent of one trace, a span per delivery
    parents = [assert_w3c_traceparent(header(r, "traceparent") or "") for r in receiver.requests]
    assert len({p["trace_id"] for p in parents}) == 1
    assert parents[0]["parent_id"] != parents[-1]["parent_id"]
    # AND each run keeps that trace id
    trace_id = parents[0]["trace_id"]
    assert {run["traceId"] for run in runs(call_api, "retried")} == {trace_id}


def test_during_a_rotation_both_secrets_verify_then_only_the_new_one(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    # GIVEN a secret, rotated
    old = new_secret(call_api)
    rotated = call_api("POST", f"/signing-secrets/{old['id']}/rotate")
    assert rotated.status == 201, rotated.body
    new = rotated.body
    webhook_timer(call_api, receiver, "rotating")
    # WHEN a webhook fires during the grace period
    trigger(call_api, pipeline, "rotating")
    # THEN it carries two signatures, and either secret verifies it
    during = receiver.requests[-1]
    assert len((header(during, "webhook-signature") or "").split(" ")) == 2
    assert verifies(old["secret"], during) and verifies(new["secret"], during)
    # WHEN the old secret is retired, and the callbacks' minute of cache has passed
    assert call_api("DELETE", f"/signing-secrets/{old['id']}").status == 200
    pipeline.clock.advance(CACHE_S + 1)
    trigger(call_api, pipeline, "rotating")
    # THEN the rotated-out secret no longer verifies a delivery; the new one does
    after = receiver.requests[-1]
    assert verifies(new["secret"], after)
    assert not verifies(old["secret"], after)


def test_without_a_secret_a_delivery_has_an_id_and_timestamp_but_no_signature(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    webhook_timer(call_api, receiver, "unsigned")
    triggered = trigger(call_api, pipeline, "unsigned")
    (request,) = receiver.requests
    assert header(request, "webhook-id") == triggered["firingId"]
    assert header(request, "webhook-timestamp") is not None
    assert header(request, "webhook-signature") is None


def test_firings_the_ticker_packs_each_have_a_trace_of_their_own(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    import api.handler
    import ticker.handler
    from tests.conftest import signer
    from tests.functional.conftest import consume, sqs
    from timer_service.aws import client
    from timer_service.clock import FixedClock
    from timer_service.dispatch import SqsDispatchQueue
    from timer_service.job_types import JobTypeRegistry
    from timer_service.service import TimerService
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service.tick import TickEngine
    from timer_service_local.lambda_context import LocalContext

    # GIVEN three webhook timers due in one second (2030-01-01T00:00:30 UTC), made long
    # enough before it that no tick's claim can have raced their writes (they are packed)
    fire_s = int(datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC).timestamp())
    clock = FixedClock(fire_s - 600)
    store = DynamoTimerStore(client("dynamodb", "us-east-1", pipeline.endpoint_url), pipeline.table)
    queue = SqsDispatchQueue(sqs(), pipeline.dispatch_queue_url, clock=clock, signer=signer())
    api.handler.use_service(
        TimerService(
            store=store, clock=clock, job_types=JobTypeRegistry.from_entry_points(), queue=queue
        )
    )
    try:
        for n in range(3):
            webhook_timer(
                call_api, receiver, f"packed-{n}", schedule="at(2030-01-01T00:00:30)", history="all"
            )
    finally:
        api.handler.use_service(None)
    # WHEN the tick sends them, one pack, and the callbacks deliver it
    clock.set(fire_s + 1)
    ticker.handler.use_engine(TickEngine(store=store, queue=queue, clock=clock))
    assert ticker.handler.lambda_handler({"shard": 0}, LocalContext())["sent"] == 3
    assert consume(pipeline) == 1
    # THEN each webhook has a traceparent of a trace of its own, the one its run keeps
    assert len(receiver.requests) == 3
    traces = {}
    for request in receiver.requests:
        parts = assert_w3c_traceparent(header(request, "traceparent") or "")
        traces[json.loads(request.body)["timerId"]] = parts["trace_id"]
    assert len(set(traces.values())) == 3
    for timer_id, trace_id in traces.items():
        assert [run["traceId"] for run in runs(call_api, timer_id)] == [trace_id]


def test_a_delivery_signed_over_five_minutes_ago_does_not_verify(
    receiver: WebhookReceiver,
) -> None:
    import time

    from timer_service.testing import OWNER, JobHarness

    # GIVEN a webhook delivered by a service whose clock is ten minutes behind (a replay)
    harness = JobHarness(start_s=time.time() - 600)
    secret = harness.signing_secrets.create(OWNER).secret
    harness.put("late", jobType="webhook", job={"url": f"{receiver.url}/late"})
    harness.fire("late")
    # WHEN the receiver verifies it THEN its timestamp is refused
    (late,) = receiver.requests
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(late.body, late.headers)
    # AND the same webhook signed now verifies
    harness.clock.set(time.time())
    harness.fire("late")
    assert verifies(secret, receiver.requests[-1])


class FakeSubsegment:
    def __init__(self, name: str) -> None:
        self.name = name
        self.annotations: dict[str, Any] = {}

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value

    def put_metadata(self, key: str, value: Any) -> None:
        pass


class FakeTracer:
    """powertools' Tracer as the handlers use it, recording what X-Ray would get."""

    def __init__(self) -> None:
        self.subsegments: list[FakeSubsegment] = []
        self.annotations: dict[str, Any] = {}
        self.provider = self

    def in_subsegment(self, name: str) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def opened() -> Any:
            self.subsegments.append(FakeSubsegment(name))
            yield self.subsegments[-1]

        return opened()

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value


def test_in_aws_each_job_is_an_x_ray_subsegment_found_by_its_trace_id(
    pipeline: AwsResources,
    call_api: ApiCall,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import callbacks.handler

    # GIVEN the callbacks' tracer (powertools, X-Ray in AWS) WHEN a webhook fires
    fake = FakeTracer()
    monkeypatch.setattr(callbacks.handler, "tracer", fake)
    webhook_timer(call_api, receiver, "xray", history="all")
    trigger(call_api, pipeline, "xray")
    # THEN its job ran in a subsegment annotated with the trace id its run keeps
    (subsegment,) = fake.subsegments
    (run,) = runs(call_api, "xray")
    assert subsegment.annotations == {"traceId": run["traceId"], "timerId": "xray"}
    (request,) = receiver.requests
    assert (header(request, "traceparent") or "").split("-")[1] == run["traceId"]
