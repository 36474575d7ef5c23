"""The service's DynamoDB client reads what a plain boto3 client reads, on a real endpoint.

The service's clients (``timer_service.aws.client``) parse read answers with json.loads
(``timer_service.dynamodb_parse``); a boto3 client made here has botocore's parser alone.
Both read the same items of every attribute type from the moto server, binary included.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from timer_service.aws import client

ITEMS = [
    {
        "pk": {"S": "p#1"},
        "sk": {"S": f"s#{n}"},
        "text": {"S": 'quote " backslash \\ "B": é \u2028 😀'},
        "number": {"N": str(Decimal("-12345678901234567890.125") * n)},
        "flag": {"BOOL": n % 2 == 0},
        "nothing": {"NULL": True},
        "strings": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2.5"]},
        "listed": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"deep": {"BOOL": False}}}]},
        "mapped": {"M": {"a": {"L": []}, "b": {"S": ""}}},
    }
    for n in range(1, 4)
] + [{"pk": {"S": "p#2"}, "sk": {"S": "s#binary"}, "blob": {"B": b"\x00\xffbytes"}}]


@pytest.fixture
def clients(embedded_aws: Any) -> tuple[Any, Any]:
    embedded_aws.reset()
    service = client("dynamodb", "us-east-1", embedded_aws.url)
    plain = boto3.session.Session().client(
        "dynamodb", region_name="us-east-1", endpoint_url=embedded_aws.url
    )
    service.create_table(
        TableName="reads",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in ITEMS:
        plain.put_item(TableName="reads", Item=item)
    return service, plain


def _of(partition: str) -> dict[str, Any]:
    return {
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": partition}},
    }


def _without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "ResponseMetadata"}


def test_queries_scans_and_gets_read_the_same_items(clients: tuple[Any, Any]) -> None:
    service, plain = clients
    calls: list[tuple[str, dict[str, Any]]] = [
        ("query", _of("p#1")),
        ("query", _of("p#1") | {"Limit": 2, "ReturnConsumedCapacity": "TOTAL"}),
        ("query", _of("p#2")),
        ("scan", {"ConsistentRead": True}),
        ("get_item", {"Key": {"pk": {"S": "p#1"}, "sk": {"S": "s#2"}}, "ConsistentRead": True}),
        ("get_item", {"Key": {"pk": {"S": "p#2"}, "sk": {"S": "s#binary"}}}),
        ("get_item", {"Key": {"pk": {"S": "p#1"}, "sk": {"S": "none"}}}),
    ]
    for method, arguments in calls:
        ours = getattr(service, method)(TableName="reads", **arguments)
        theirs = getattr(plain, method)(TableName="reads", **arguments)
        assert _without_metadata(ours) == _without_metadata(theirs), method
        assert ours["ResponseMetadata"]["HTTPStatusCode"] == 200
    keys = [{"pk": item["pk"], "sk": item["sk"]} for item in ITEMS]
    ours = service.batch_get_item(RequestItems={"reads": {"Keys": keys}})
    theirs = plain.batch_get_item(RequestItems={"reads": {"Keys": keys}})
    assert _without_metadata(ours) == _without_metadata(theirs)
    binary = service.get_item(TableName="reads", Key=keys[-1])["Item"]["blob"]
    assert binary == {"B": b"\x00\xffbytes"}


def test_a_read_of_a_missing_table_is_still_botocores_error(clients: tuple[Any, Any]) -> None:
    service, _ = clients
    with pytest.raises(ClientError) as raised:
        service.query(
            TableName="no-such-table",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "x"}},
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
