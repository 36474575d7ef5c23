"""The emulator's changes to moto: all-or-nothing transactions at any table size, SQS visibility."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import AwsResources


@pytest.fixture
def table(aws: AwsResources) -> Any:
    from timer_service.aws import client

    return client("dynamodb", "us-east-1", aws.endpoint_url), aws.table


def item(pk: str, value: str = "1") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "x"}, "v": {"N": value}}


def get(db: Any, name: str, pk: str) -> Any:
    return db.get_item(TableName=name, Key={"pk": {"S": pk}, "sk": {"S": "x"}}).get("Item")


def test_a_failed_condition_cancels_the_whole_transaction(table: Any) -> None:
    db, name = table
    db.put_item(TableName=name, Item=item("a", "1"))
    with pytest.raises(ClientError) as cancelled:
        db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": item("b")}},
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "x"}},
                        "UpdateExpression": "SET v = :two",
                        "ConditionExpression": "v = :zero",
                        "ExpressionAttributeValues": {":two": {"N": "2"}, ":zero": {"N": "0"}},
                    }
                },
            ]
        )
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert get(db, name, "b") is None
    assert get(db, name, "a")["v"] == {"N": "1"}


def test_an_action_that_fails_while_applied_is_rolled_back_with_the_others(table: Any) -> None:
    db, name = table
    db.put_item(TableName=name, Item=item("a", "1"))
    with pytest.raises(ClientError):
        db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": item("b")}},
                {"Delete": {"TableName": name, "Key": {"pk": {"S": "a"}, "sk": {"S": "x"}}}},
                {
                    "Update": {  # adding a number to a string fails only when applied
                        "TableName": name,
                        "Key": {"pk": {"S": "c"}, "sk": {"S": "x"}},
                        "UpdateExpression": "SET v = :s + :n",
                        "ExpressionAttributeValues": {":s": {"S": "x"}, ":n": {"N": "1"}},
                    }
                },
            ]
        )
    assert get(db, name, "b") is None
    assert get(db, name, "a")["v"] == {"N": "1"}
    assert get(db, name, "c") is None


def test_two_actions_on_one_item_are_refused(table: Any) -> None:
    db, name = table
    with pytest.raises(ClientError, match="ValidationException"):
        db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": item("a")}},
                {"Delete": {"TableName": name, "Key": {"pk": {"S": "a"}, "sk": {"S": "x"}}}},
            ]
        )


def test_a_message_whose_visibility_is_set_to_zero_is_received_again_at_once(
    aws: AwsResources,
) -> None:
    from timer_service.aws import client

    sqs = client("sqs", "us-east-1", aws.endpoint_url)
    sqs.send_message(QueueUrl=aws.output_queue_url, MessageBody="held")
    (first,) = sqs.receive_message(QueueUrl=aws.output_queue_url, VisibilityTimeout=30)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=aws.output_queue_url)
    sqs.change_message_visibility(
        QueueUrl=aws.output_queue_url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )
    (again,) = sqs.receive_message(QueueUrl=aws.output_queue_url)["Messages"]
    assert again["MessageId"] == first["MessageId"]
