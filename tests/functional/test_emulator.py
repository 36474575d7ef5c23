"""The local AWS emulator in its own process: every answered change survives a SIGKILL."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from timer_service.provisioning import create_idempotency_table, create_table
from timer_service_local.emulator import EmulatorProcess

TABLE = "timers"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def emulators(credentials: None) -> Iterator[list[EmulatorProcess]]:
    started: list[EmulatorProcess] = []
    yield started
    for emulator in started:
        emulator.stop()


def start(emulators: list[EmulatorProcess], state_dir: Path) -> EmulatorProcess:
    emulator = EmulatorProcess(state_dir).start()
    emulators.append(emulator)
    return emulator


def crash(emulator: EmulatorProcess) -> None:
    assert emulator.pid is not None
    os.kill(emulator.pid, signal.SIGKILL)
    while emulator.alive():
        time.sleep(0.01)


def clients(emulator: EmulatorProcess) -> tuple[Any, Any, Any]:
    return tuple(boto3.client(s, endpoint_url=emulator.url) for s in ("dynamodb", "sqs", "s3"))  # type: ignore[return-value]


def item(pk: str, **attrs: Any) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "T"}, **attrs}


def test_items_written_every_way_are_back_after_a_sigkill(
    emulators: list[EmulatorProcess], tmp_path: Path
) -> None:
    first = start(emulators, tmp_path)
    dynamodb, _, _ = clients(first)
    create_table(dynamodb, TABLE)
    dynamodb.put_item(TableName=TABLE, Item=item("put", blob={"B": b"\x00\xffbin"}))
    dynamodb.put_item(TableName=TABLE, Item=item("updated", n={"N": "1"}))
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "updated"}, "sk": {"S": "T"}},
        UpdateExpression="SET n = n + :one, m = :m",
        ExpressionAttributeValues={":one": {"N": "1"}, ":m": {"M": {"l": {"L": [{"S": "x"}]}}}},
    )
    dynamodb.put_item(TableName=TABLE, Item=item("deleted"))
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "deleted"}, "sk": {"S": "T"}})
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item("tx-a")}},
            {"Put": {"TableName": TABLE, "Item": item("tx-b")}},
        ]
    )
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(  # refused: neither item may appear
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("refused")}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": item("tx-a"),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    before = sorted(dynamodb.scan(TableName=TABLE)["Items"], key=lambda i: i["pk"]["S"])
    crash(first)

    second = start(emulators, tmp_path)
    dynamodb, _, _ = clients(second)
    after = sorted(dynamodb.scan(TableName=TABLE)["Items"], key=lambda i: i["pk"]["S"])
    assert after == before
    assert [i["pk"]["S"] for i in after] == ["put", "tx-a", "tx-b", "updated"]
    assert after[0]["blob"]["B"] == b"\x00\xffbin"
    assert second.restored["items"] == 4
    # the table's definition came back whole: its index answers
    assert dynamodb.describe_table(TableName=TABLE)["Table"]["GlobalSecondaryIndexes"]


def test_messages_and_objects_are_back_and_in_flight_ones_visible_again(
    emulators: list[EmulatorProcess], tmp_path: Path
) -> None:
    first = start(emulators, tmp_path)
    _, sqs, s3 = clients(first)
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=600)
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=600)
    done = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=600)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=done["Messages"][0]["ReceiptHandle"])
    s3.create_bucket(Bucket="snapshots")
    s3.put_object(Bucket="snapshots", Key="page.html.gz", Body=b"\x1f\x8b compressed")
    s3.put_object(Bucket="snapshots", Key="gone", Body=b"x")
    s3.delete_object(Bucket="snapshots", Key="gone")
    crash(first)

    second = start(emulators, tmp_path)
    _, sqs, s3 = clients(second)
    bodies = sorted(
        m["Body"]
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)[
            "Messages"
        ]
    )
    # the one received (in flight at the crash) is delivered again; the deleted one is not;
    # the delayed one is still waiting
    assert received["Messages"][0]["Body"] in bodies
    assert len(bodies) == 2 and "delayed" not in bodies
    waiting = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert waiting["ApproximateNumberOfMessagesDelayed"] == "1"
    page = s3.get_object(Bucket="snapshots", Key="page.html.gz")["Body"].read()
    assert page == b"\x1f\x8b compressed"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="snapshots")["Contents"]] == [
        "page.html.gz"
    ]


def test_a_move_to_the_dead_letter_queue_survives(
    emulators: list[EmulatorProcess], tmp_path: Path
) -> None:
    first = start(emulators, tmp_path)
    _, sqs, _ = clients(first)
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="work",
        Attributes={
            "RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": 1}}'
        },
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # moved now
    crash(first)

    second = start(emulators, tmp_path)
    _, sqs, _ = clients(second)
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", []) == []
    (dead,) = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert dead["Body"] == "poison"


def test_expired_items_are_swept_and_ttl_settings_kept(
    emulators: list[EmulatorProcess], tmp_path: Path
) -> None:
    first = start(emulators, tmp_path)
    dynamodb, _, _ = clients(first)
    create_idempotency_table(dynamodb, "idem")  # TTL on `expiration`
    now = int(time.time())
    for name, expires in (("old", now - 10), ("fresh", now + 3600)):
        dynamodb.put_item(
            TableName="idem", Item={"id": {"S": name}, "expiration": {"N": str(expires)}}
        )
    crash(first)

    second = start(emulators, tmp_path)
    dynamodb, _, _ = clients(second)
    ids = [i["id"]["S"] for i in dynamodb.scan(TableName="idem")["Items"]]
    assert ids == ["fresh"]
    ttl = dynamodb.describe_time_to_live(TableName="idem")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_a_state_directory_serves_one_emulator_at_a_time(
    emulators: list[EmulatorProcess], tmp_path: Path
) -> None:
    start(emulators, tmp_path)
    with pytest.raises(RuntimeError, match="in use by another local stack"):
        start(emulators, tmp_path)


def test_a_clean_stop_compacts_and_a_deleted_table_stays_deleted(
    emulators: list[EmulatorProcess], tmp_path: Path
) -> None:
    first = start(emulators, tmp_path)
    dynamodb, _, _ = clients(first)
    create_table(dynamodb, TABLE)
    create_table(dynamodb, "scratch")
    dynamodb.delete_table(TableName="scratch")
    first.stop()
    second = start(emulators, tmp_path)
    dynamodb, _, _ = clients(second)
    assert dynamodb.list_tables()["TableNames"] == [TABLE]


def test_the_emulator_answers_its_sdk_clients_and_no_web_page(
    emulators: list[EmulatorProcess], tmp_path: Path
) -> None:
    """A page on this machine could read every tenant's items from the emulator (it checks no
    credentials), or post SQS messages with a plain form: it must refuse what browsers send."""
    import httpx

    emulator = start(emulators, tmp_path)
    dynamodb, sqs, _ = clients(emulator)
    create_table(dynamodb, TABLE)
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    port = emulator.url.rsplit(":", 1)[1]
    scan = {"X-Amz-Target": "DynamoDB_20120810.Scan", "Content-Type": "application/x-amz-json-1.0"}
    body = '{"TableName": "timers"}'
    scope = "testing/20260101/us-east-1/dynamodb/aws4_request"
    signed = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"
    }
    # a preflight, a page's fetch and form post, a rebound host name: all refused
    preflight = httpx.options(
        emulator.url,
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    fetched = httpx.post(emulator.url, content=body, headers={**scan, **signed, "Origin": "null"})
    assert fetched.status_code == 403
    form = httpx.post(
        queue,
        data={"Action": "SendMessage", "MessageBody": "planted"},
        headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert form.status_code == 403
    rebound = httpx.post(
        emulator.url, content=body, headers={**scan, **signed, "Host": f"rebind.example:{port}"}
    )
    assert rebound.status_code == 403
    assert sqs.receive_message(QueueUrl=queue).get("Messages", []) == []
    # the SDK's own requests carry none of that
    assert dynamodb.scan(TableName=TABLE)["Items"] == []
