"""Dead letters are kept per owner: every tenant lists and redrives all of its own, whatever
the others have, and a redrive never loses a letter or sends one twice."""

from __future__ import annotations

import json
import time
from typing import Any

from loadtest.stack import WebhookReceiver
from tests.conftest import ALICE, BOB, ApiCall, AwsResources, signer
from tests.functional.conftest import (
    consume,
    dead_letter_box,
    dead_letters_api,
    sqs,
    webhook_timer,
)
from timer_service.dispatch import Firing, firings_in
from timer_service.messages import SIGNATURE_ATTRIBUTE


def received_firings(queue_url: str) -> list[Firing]:
    found: list[Firing] = []
    while (
        messages := sqs()
        .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        .get("Messages", [])
    ):
        for message in messages:
            found += firings_in(message["Body"])
            sqs().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_a_tenant_sees_and_redrives_all_its_letters_beside_many_of_another(
    aws: AwsResources, call_api: ApiCall
) -> None:
    # GIVEN 50 dead letters of bob's, written before alice's 3 (SQS returned the oldest first)
    box = dead_letter_box(aws)
    for n in range(50):
        box.record(Firing(BOB, f"b{n}", 1, 1_900_000_000 + n), error="HTTP 500", attempts=5)
    for n in range(3):
        box.record(Firing(ALICE, f"a{n}", 1, 1_900_000_100 + n), error="HTTP 404", attempts=1)
    # WHEN alice looks, twice, and bob looks
    mine = dead_letters_api(call_api)
    assert dead_letters_api(call_api) == mine  # looking changes nothing
    bob = call_api("GET", "/dlq", user=BOB, query={"limit": "100"}).body["items"]
    # THEN each sees all of their own and nothing of the other's
    assert [item["timerId"] for item in mine] == ["a2", "a1", "a0"]
    assert all(item["receiveCount"] == 1 for item in mine)
    assert len(bob) == 50 and {item["timerId"][0] for item in bob} == {"b"}
    # WHEN alice redrives
    answer = call_api("POST", "/dlq/redrive")
    # THEN her 3 are sent back, once each; bob's 50 stay
    assert answer.status == 200 and answer.body == {"redriven": 3, "more": False}
    sent = received_firings(aws.dispatch_queue_url)
    assert sorted(f.timer_id for f in sent) == ["a0", "a1", "a2"]
    assert dead_letters_api(call_api) == []
    assert len(call_api("GET", "/dlq", user=BOB, query={"limit": "100"}).body["items"]) == 50


def test_pages_of_dead_letters_cover_each_once(aws: AwsResources, call_api: ApiCall) -> None:
    box = dead_letter_box(aws)
    for n in range(23):
        box.record(Firing(ALICE, f"t{n:02d}", 1, 1_900_000_000 + n), error="e", attempts=5)
    seen: list[str] = []
    query = {"limit": "10"}
    while True:
        page = call_api("GET", "/dlq", query=query).body
        seen += [item["timerId"] for item in page["items"]]
        if page["nextToken"] is None:
            break
        query = {"limit": "10", "nextToken": page["nextToken"]}
    assert seen == [f"t{n:02d}" for n in reversed(range(23))]


def test_a_token_of_another_owner_is_a_400(aws: AwsResources, call_api: ApiCall) -> None:
    box = dead_letter_box(aws)
    for n in range(3):
        box.record(Firing(BOB, f"b{n}", 1, 1_900_000_000 + n), error="e", attempts=5)
    token = call_api("GET", "/dlq", user=BOB, query={"limit": "1"}).body["nextToken"]
    answer = call_api("GET", "/dlq", query={"nextToken": token})
    assert answer.status == 400
    assert answer.body["error"]["field"] == "nextToken"


def test_a_redriven_firing_that_fails_again_is_sent_once_per_call(
    pipeline: AwsResources, call_api: ApiCall, receiver: WebhookReceiver
) -> None:
    # GIVEN 21 firings that fail for good (HTTP 404), dead-lettered
    receiver.status = 404
    for n in range(21):
        webhook_timer(call_api, receiver, f"f{n}")
        call_api("POST", f"/periodic/f{n}/trigger")
    while consume(pipeline):
        pass
    assert len(dead_letters_api(call_api)) == 21
    calls = len(receiver.requests)
    # WHEN they are redriven and fail again, while the redrive runs
    started = time.monotonic()
    answer = call_api("POST", "/dlq/redrive")
    while consume(pipeline):
        pass
    # THEN each went back once, and each is a dead letter again
    assert answer.body == {"redriven": 21, "more": False}
    assert time.monotonic() - started < 5
    assert len(receiver.requests) - calls == 21
    assert len(dead_letters_api(call_api)) == 21


def test_what_sqs_dead_letters_becomes_its_owners_dead_letter(
    pipeline: AwsResources, call_api: ApiCall
) -> None:
    """A callback that crashed or timed out maxReceiveCount times: SQS moves the message."""
    from callbacks.handler import dead_letter_handler
    from timer_service_local.queue_worker import QueueWorker

    firing = Firing(ALICE, "crashy", 1, 1_900_000_000)
    body = firing.to_message()
    signature = {"DataType": "String", "StringValue": signer().sign(body)}
    sqs().send_message(
        QueueUrl=pipeline.dlq_url,
        MessageBody=body,
        MessageAttributes={SIGNATURE_ATTRIBUTE: signature},
    )
    forged: dict[str, Any] = {"o": BOB, "i": "x", "v": 1, "s": 1_900_000_000}
    sqs().send_message(QueueUrl=pipeline.dlq_url, MessageBody=json.dumps(forged))
    worker = QueueWorker(sqs(), pipeline.dlq_url, dead_letter_handler, wait_s=0)
    assert worker.poll_once() == 2
    (letter,) = dead_letters_api(call_api)
    assert letter["firingId"] == firing.firing_id
    assert "crashed or timed out" in letter["error"]
    assert call_api("GET", "/dlq", user=BOB).body["items"] == []  # the unsigned one: dropped
    assert sqs().receive_message(QueueUrl=pipeline.dlq_url).get("Messages", []) == []
