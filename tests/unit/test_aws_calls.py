"""The AWS-call recorder of the local stack (``TIMER_SERVICE_AWS_CALL_LOG``): what a handler's
calls are recorded as, and that nothing else is recorded."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from timer_service.settings import Settings
from timer_service_local import aws_calls

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/timers-dispatch"
QUEUE_ENV = Settings.env_name("dispatch_queue_url")


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Record into a file of this test; the session's recording is restored after."""
    path = tmp_path / "calls.jsonl"
    session_log = os.environ.get(aws_calls.CALL_LOG_ENV)
    monkeypatch.setenv(aws_calls.CALL_LOG_ENV, str(path))
    monkeypatch.setenv(aws_calls.CALL_TAG_ENV, "tests/x.py::test_y")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(QUEUE_ENV, QUEUE_URL)
    yield path
    if session_log:
        aws_calls.install(session_log)


def stubbed_sqs(**credentials: str) -> tuple[Any, Stubber]:
    sqs = boto3.session.Session(**credentials).client("sqs", region_name="us-east-1")
    stubber = Stubber(sqs)
    stubber.activate()
    return sqs, stubber


def send(sqs: Any, stubber: Stubber) -> None:
    stubber.add_response("send_message", {"MessageId": "m1", "MD5OfMessageBody": "x"})
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody='{"secret": "payload"}', DelaySeconds=3)


def recorded_calls(path: Path) -> list[dict[str, Any]]:
    calls, broken = aws_calls.read_calls(path)
    assert broken == 0
    return calls


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    sqs, stubber = event["client"]
    send(sqs, stubber)
    return {}


def test_recorded_handler_call_names_function_resource_and_its_env_var(log: Path) -> None:
    sqs, stubber = stubbed_sqs()
    aws_calls.recorded(handler)({"client": (sqs, stubber)}, None)
    assert recorded_calls(log) == [
        {
            "function": f"{__name__}.handler",
            "service": "sqs",
            "operation": "SendMessage",
            "region": "us-east-1",
            "credentials": "own",
            "params": {"QueueUrl": QUEUE_URL},  # no body: names, not payloads
            "env": {QUEUE_ENV: QUEUE_URL},
            "tag": "tests/x.py::test_y",  # the test that ran it
        }
    ]


def test_recorded_handler_calls_on_its_thread_pool_are_its_own(log: Path) -> None:
    sqs, stubber = stubbed_sqs()

    def fan_out(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda _: send(sqs, stubber), range(2)))
        return {}

    aws_calls.recorded(fan_out, "callbacks.handler.lambda_handler")({}, None)
    assert [c["function"] for c in recorded_calls(log)] == ["callbacks.handler.lambda_handler"] * 2


def test_calls_outside_a_handler_are_not_recorded(log: Path) -> None:
    sqs, stubber = stubbed_sqs()
    wrapped = aws_calls.recorded(handler)
    send(sqs, stubber)  # the test's own call, before and after the handler's
    wrapped({"client": (sqs, stubber)}, None)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(send, sqs, stubber).result()
    assert len(recorded_calls(log)) == 1


def test_calls_with_explicit_credentials_are_marked_other(log: Path) -> None:
    # a job type's client with an assumed role's credentials: not the function's role
    sqs, stubber = stubbed_sqs(
        aws_access_key_id="ASIA", aws_secret_access_key="s", aws_session_token="t"
    )
    aws_calls.recorded(handler)({"client": (sqs, stubber)}, None)
    assert [c["credentials"] for c in recorded_calls(log)] == ["other"]


def test_recorded_is_the_handler_itself_without_the_env_var(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(aws_calls.CALL_LOG_ENV, raising=False)
    assert aws_calls.recorded(handler) is handler


def test_resource_params_keep_names_of_batches_and_transactions() -> None:
    assert aws_calls.resource_params(
        "BatchGetItem", {"RequestItems": {"b": {"Keys": []}, "a": {"Keys": []}}}
    ) == {"RequestItems": ["a", "b"]}
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "x"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {}, "ConditionExpression": "x"}},
        ]
    }
    assert aws_calls.resource_params("TransactWriteItems", transaction) == {
        "TransactItems": [{"Put": "t"}, {"ConditionCheck": "t"}]
    }
    events = {"Entries": [{"EventBusName": "bus", "Detail": "{}"}, {"Detail": "{}"}]}
    assert aws_calls.resource_params("PutEvents", events) == {"EventBusNames": ["bus", "default"]}
    assume = {"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "s", "ExternalId": "secret"}
    assert aws_calls.resource_params("AssumeRole", assume) == {
        "RoleArn": "arn:aws:iam::1:role/r",
        "RoleSessionName": "s",
    }
