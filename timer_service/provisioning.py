"""Creates the table and queues the service needs: used by the local stack and the tests.

The CDK construct declares the same resources from the same constants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from timer_service.keys import (
    DEAD_LETTER_INDEX,
    DEAD_LETTER_INDEX_PK,
    OWNER_INDEX,
    OWNER_INDEX_PK,
    OWNER_INDEX_SK,
    PK,
    SK,
    TTL_ATTRIBUTE,
)
from timer_service.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

__all__ = [
    "TABLE_INDEXES",
    "QueueUrls",
    "create_bucket",
    "create_idempotency_table",
    "create_queues",
    "create_table",
]

VISIBILITY_TIMEOUT_S = 60


@dataclass(frozen=True)
class QueueUrls:
    dispatch: str
    dlq: str
    output: str


def create_table(client: DynamoDBClient, name: str) -> None:
    """The single on-demand table with its owner and dead-letter indexes and TTL; idempotent
    (a table made by an earlier version gains the indexes it lacks)."""
    _create_table(
        client,
        name,
        ttl_attribute=TTL_ATTRIBUTE,
        AttributeDefinitions=[
            {"AttributeName": attr, "AttributeType": "S"} for attr in (PK, SK, *_INDEX_ATTRIBUTES)
        ],
        KeySchema=[
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=list(TABLE_INDEXES.values()),
    )
    existing = {
        index["IndexName"]
        for index in client.describe_table(TableName=name)["Table"].get(
            "GlobalSecondaryIndexes", []
        )
    }
    for index_name, index in TABLE_INDEXES.items():
        if index_name not in existing:
            client.update_table(
                TableName=name,
                AttributeDefinitions=[
                    {"AttributeName": attr, "AttributeType": "S"} for attr in _INDEX_ATTRIBUTES
                ],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )


_INDEX_ATTRIBUTES = (OWNER_INDEX_PK, OWNER_INDEX_SK, DEAD_LETTER_INDEX_PK)
TABLE_INDEXES: dict[str, Any] = {  # the table's indexes, local and deployed (the construct)
    OWNER_INDEX: {
        "IndexName": OWNER_INDEX,
        "KeySchema": [
            {"AttributeName": OWNER_INDEX_PK, "KeyType": "HASH"},
            {"AttributeName": OWNER_INDEX_SK, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    },
    DEAD_LETTER_INDEX: {
        "IndexName": DEAD_LETTER_INDEX,
        "KeySchema": [{"AttributeName": DEAD_LETTER_INDEX_PK, "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    },
}


def create_idempotency_table(client: DynamoDBClient, name: str) -> None:
    """The table powertools Idempotency keeps firing ids in (key ``id``, TTL ``expiration``)."""
    _create_table(
        client,
        name,
        ttl_attribute="expiration",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


def _create_table(client: DynamoDBClient, name: str, *, ttl_attribute: str, **spec: Any) -> None:
    """Create an on-demand table with TTL unless it exists."""
    try:
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **spec)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return
    client.get_waiter("table_exists").wait(TableName=name)
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
    )


def create_queues(
    client: SQSClient, prefix: str, *, max_receive_count: int | None = None
) -> QueueUrls:
    """Dispatch queue with its DLQ, and the output queue of the ``sqs`` job type; idempotent.

    A firing goes to the DLQ after ``max_receive_count`` deliveries (default: the callbacks'
    ``MAX_ATTEMPTS`` setting, which must agree with it)."""
    if max_receive_count is None:
        max_receive_count = Settings().max_attempts
    dlq = client.create_queue(QueueName=f"{prefix}-dispatch-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes: dict[str, str] = {
        "VisibilityTimeout": str(VISIBILITY_TIMEOUT_S),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
        ),
    }
    dispatch = client.create_queue(QueueName=f"{prefix}-dispatch")["QueueUrl"]
    client.set_queue_attributes(QueueUrl=dispatch, Attributes=attributes)  # type: ignore[arg-type]
    output = client.create_queue(QueueName=f"{prefix}-output")["QueueUrl"]
    return QueueUrls(dispatch=dispatch, dlq=dlq, output=output)


def create_bucket(client: Any, name: str) -> None:
    """The bucket html_monitor keeps snapshots too large for DynamoDB in; idempotent."""
    try:
        client.create_bucket(Bucket=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
