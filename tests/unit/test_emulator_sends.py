"""The emulator's SQS sends and receives cost the same whatever the queue holds
(moto_patches.no_queue_scans).

moto computes a queue's every attribute on each message sent, and several times for each one
received, three of them by scanning every message (``ApproximateNumberOfMessages*``), only to
read ``ContentBasedDeduplication`` (a FIFO queue's) or ``MessageRetentionPeriod``. Under the
emulator's one-change-at-a-time lock, a dispatch queue of a few thousand messages made every
send and receive, and every request queued behind them, slow: the local stack's ``loadtest e2e
--timers 1000`` lost two thirds of its firings on a slow machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from timer_service_local.moto_patches import no_queue_scans


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        no_queue_scans()
        yield boto3.client("sqs", region_name="us-east-1")


def fill(sqs: Any, url: str, count: int) -> None:
    entries = [{"Id": str(n), "MessageBody": "x", "DelaySeconds": 900} for n in range(10)]
    for _ in range(count // 10):
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def looks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A counter of the times moto looks at whether a message is visible: [count]."""
    from moto.sqs.models import Message

    looked = [0]
    visible = Message.visible

    def counted(message: Any) -> Any:
        looked[0] += 1
        return visible.fget(message)  # type: ignore[attr-defined]

    monkeypatch.setattr(Message, "visible", property(counted))
    return looked


def test_a_send_does_not_look_at_the_messages_already_queued(
    sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqs.create_queue(QueueName="dispatch")["QueueUrl"]
    fill(sqs, url, 500)
    looked = looks(monkeypatch)
    entries = [{"Id": str(n), "MessageBody": "y", "DelaySeconds": 5} for n in range(10)]
    assert len(sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == 10
    assert looked == [0]


def test_a_receive_looks_at_each_waiting_message_about_once(
    sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqs.create_queue(QueueName="dispatch")["QueueUrl"]
    entries = [{"Id": str(n), "MessageBody": str(n)} for n in range(10)]
    for _ in range(50):
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    looked = looks(monkeypatch)
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert len(received["Messages"]) == 10
    assert looked[0] <= 2 * 500 + 20  # moto's own scan for the visible ones, then its loop


def test_a_message_past_its_retention_period_is_not_received(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    from moto.sqs.models import sqs_backends

    queue = sqs_backends["123456789012"]["us-east-1"].get_queue("short")
    for message in queue._messages:
        message.sent_timestamp -= 61_000
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def test_the_queue_attributes_still_count_every_message(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="dispatch")["QueueUrl"]
    fill(sqs, url, 30)
    sqs.send_message(QueueUrl=url, MessageBody="now")
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    assert attributes == {
        "ApproximateNumberOfMessages": "1",
        "ApproximateNumberOfMessagesDelayed": "30",
    }


def test_a_fifo_queue_still_deduplicates_by_content(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName="jobs.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for _ in range(3):
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in received] == ["same"]
