"""The IAM evaluator of the AWS-call check (tests/aws_call_check.py), on small templates shaped
like CDK's: a function, its role, a DefaultPolicy, resources named through the environment."""

from __future__ import annotations

from typing import Any

from tests.infra.iam_policy import Template, check, resource_matches
from timer_service.settings import Settings

TABLE = {"Fn::GetAtt": ["TableA1B2C3D4", "Arn"]}
QUEUE = {"Fn::GetAtt": ["QueueA1B2C3D4", "Arn"]}
OTHER_QUEUE = {"Fn::GetAtt": ["OtherQueueA1B2C3D4", "Arn"]}
LOCAL_TABLE = "timers-test"
LOCAL_QUEUE = "http://127.0.0.1:5000/123456789012/timers-test-dispatch"
TABLE_ENV, QUEUE_ENV, OUTPUT_ENV = (
    Settings.env_name(field) for field in ("table_name", "dispatch_queue_url", "output_queue_url")
)
ENVIRONMENT = {TABLE_ENV: LOCAL_TABLE, QUEUE_ENV: LOCAL_QUEUE}


def template(*statements: dict[str, Any], event_source: bool = False) -> Template:
    resources: dict[str, Any] = {
        "TableA1B2C3D4": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "QueueA1B2C3D4": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "OtherQueueA1B2C3D4": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "RoleA1B2C3D4": {"Type": "AWS::IAM::Role", "Properties": {}},
        "RoleDefaultPolicyA1B2C3D4": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyDocument": {"Statement": list(statements), "Version": "2012-10-17"},
                "Roles": [{"Ref": "RoleA1B2C3D4"}],
            },
        },
        "FunctionA1B2C3D4": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Handler": "app.handler",
                "Role": {"Fn::GetAtt": ["RoleA1B2C3D4", "Arn"]},
                "Environment": {
                    "Variables": {
                        TABLE_ENV: {"Ref": "TableA1B2C3D4"},
                        QUEUE_ENV: {"Ref": "QueueA1B2C3D4"},
                        OUTPUT_ENV: {"Ref": "OtherQueueA1B2C3D4"},
                    }
                },
            },
        },
    }
    if event_source:
        resources["EventSourceA1B2C3D4"] = {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"EventSourceArn": QUEUE, "FunctionName": {"Ref": "FunctionA1B2C3D4"}},
        }
    return Template({"Resources": resources})


def allow(actions: str | list[str], *resources: Any, sid: str | None = None) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": actions, "Resource": list(resources)}
    return statement | ({"Sid": sid} if sid else {})


def call(service: str, operation: str, **params: Any) -> dict[str, Any]:
    environment = {n: v for n, v in ENVIRONMENT.items() if v in str(params)}
    return {
        "function": "app.handler",
        "service": service,
        "operation": operation,
        "region": "us-east-1",
        "credentials": "own",
        "params": params,
        "env": environment,
    }


def denied(outcome: Any) -> list[tuple[str, str]]:
    return [(v.permission.action, v.permission.resource) for v in outcome.denied]


def test_check_call_granted_on_its_table_is_allowed() -> None:
    # GIVEN GetItem on the table TIMER_TABLE names
    roles = template(allow("dynamodb:GetItem", TABLE))
    # WHEN the function gets an item of the local table of that name
    outcome = check([call("dynamodb", "GetItem", TableName=LOCAL_TABLE)], roles)
    # THEN it is allowed, on the template's table
    assert denied(outcome) == []
    assert [(v.permission.action, v.permission.resource) for v in outcome.verdicts] == [
        ("dynamodb:GetItem", "${TableA1B2C3D4.Arn}")
    ]
    assert outcome.calls == {"app.handler": 1}


def test_check_action_not_granted_is_denied() -> None:
    roles = template(allow(["dynamodb:GetItem", "dynamodb:Query"], TABLE))
    outcome = check([call("dynamodb", "PutItem", TableName=LOCAL_TABLE)], roles)
    assert denied(outcome) == [("dynamodb:PutItem", "${TableA1B2C3D4.Arn}")]
    assert "DENIED" in outcome.report()
    assert "TableA1B2C3D4" not in outcome.report()  # resources by name, without CDK's hash
    assert "dynamodb:PutItem  Table " in outcome.report()


def test_check_grant_on_another_queue_is_denied() -> None:
    # GIVEN SendMessage on the output queue only (as the callback role on main has it)
    roles = template(allow("sqs:SendMessage", OTHER_QUEUE))
    outcome = check([call("sqs", "SendMessage", QueueUrl=LOCAL_QUEUE)], roles)
    assert denied(outcome) == [("sqs:SendMessage", "${QueueA1B2C3D4.Arn}")]


def test_check_wildcard_action_allows_a_batch_send() -> None:
    # SendMessageBatch is authorised as sqs:SendMessage (SQS Developer Guide, batch actions)
    roles = template(allow("sqs:Send*", QUEUE))
    outcome = check([call("sqs", "SendMessageBatch", QueueUrl=LOCAL_QUEUE)], roles)
    assert denied(outcome) == []
    assert outcome.verdicts[0].permission.action == "sqs:SendMessage"
    assert outcome.unused == {}


def test_check_index_query_needs_the_index_arn() -> None:
    index = {"Fn::Join": ["", [TABLE, "/index/byOwner"]]}
    query = call("dynamodb", "Query", TableName=LOCAL_TABLE, IndexName="byOwner")
    table_only = check([query], template(allow("dynamodb:Query", TABLE)))
    assert denied(table_only) == [("dynamodb:Query", "${TableA1B2C3D4.Arn}/index/byOwner")]
    assert denied(check([query], template(allow("dynamodb:Query", TABLE, index)))) == []
    every_index = {"Fn::Join": ["", [TABLE, "/index/*"]]}
    assert denied(check([query], template(allow("dynamodb:Query", every_index)))) == []


def test_check_transaction_needs_each_items_action() -> None:
    # TransactWriteItems: the per-item actions (DynamoDB guide, "Using IAM with transactions")
    roles = template(allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], TABLE))
    transaction = call(
        "dynamodb",
        "TransactWriteItems",
        TransactItems=[{"Put": LOCAL_TABLE}, {"ConditionCheck": LOCAL_TABLE}],
    )
    outcome = check([transaction], roles)
    assert denied(outcome) == [("dynamodb:ConditionCheckItem", "${TableA1B2C3D4.Arn}")]
    assert outcome.unused == {"app.handler": [("dynamodb:UpdateItem", "${TableA1B2C3D4.Arn}")]}
    read = call("dynamodb", "TransactGetItems", TransactItems=[{"Get": LOCAL_TABLE}])
    assert denied(check([read], template(allow("dynamodb:GetItem", TABLE)))) == []


def test_check_explicit_deny_wins_over_allow() -> None:
    roles = template(
        allow("dynamodb:*", TABLE),
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"},
    )
    calls = [
        call("dynamodb", "GetItem", TableName=LOCAL_TABLE),
        call("dynamodb", "DeleteItem", TableName=LOCAL_TABLE),
    ]
    assert denied(check(calls, roles)) == [("dynamodb:DeleteItem", "${TableA1B2C3D4.Arn}")]


def test_check_event_source_mapping_needs_receive_and_delete_on_its_queue() -> None:
    # Lambda polls an SQS event source with the function's role: ReceiveMessage, DeleteMessage,
    # GetQueueAttributes (SQS Developer Guide, configuring a queue to trigger a function)
    roles = template(
        allow("dynamodb:GetItem", TABLE),
        allow(["sqs:ReceiveMessage", "sqs:GetQueueAttributes"], QUEUE),
        event_source=True,
    )
    outcome = check([call("dynamodb", "GetItem", TableName=LOCAL_TABLE)], roles)
    assert denied(outcome) == [("sqs:DeleteMessage", "${QueueA1B2C3D4.Arn}")]
    assert "event source mapping" in outcome.report()


def test_check_grants_no_call_used_are_listed_as_unused() -> None:
    roles = template(
        allow(["dynamodb:GetItem", "dynamodb:DeleteItem"], TABLE), allow("sqs:SendMessage", QUEUE)
    )
    outcome = check([call("dynamodb", "GetItem", TableName=LOCAL_TABLE)], roles)
    assert outcome.unused == {
        "app.handler": [
            ("dynamodb:DeleteItem", "${TableA1B2C3D4.Arn}"),
            ("sqs:SendMessage", "${QueueA1B2C3D4.Arn}"),
        ]
    }
    assert "app.handler  dynamodb:DeleteItem  Table" in outcome.report()


def test_check_job_type_grants_cover_other_resources_not_the_services_own() -> None:
    # GIVEN a user's job-type grant of SendMessage on every queue, and nothing else
    roles = template(allow("sqs:SendMessage", "*", sid="JobTypeSqs"))
    calls = [
        call("sqs", "SendMessage", QueueUrl="http://127.0.0.1:5000/123456789012/their-queue"),
        call("sqs", "SendMessage", QueueUrl=LOCAL_QUEUE),
    ]
    outcome = check(calls, roles)
    # THEN the user's queue is allowed by it, the service's own dispatch queue is not
    assert denied(outcome) == [("sqs:SendMessage", "${QueueA1B2C3D4.Arn}")]
    (external,) = [v for v in outcome.verdicts if not v.permission.own]
    assert external.permission.resource == "arn:aws:sqs:us-east-1:123456789012:their-queue"
    assert external.allowed


def test_check_calls_with_assumed_role_credentials_are_not_the_roles() -> None:
    assumed = call("ec2", "StartInstances", InstanceIds=["i-0123"]) | {"credentials": "other"}
    outcome = check([assumed], template())
    assert denied(outcome) == []
    assert outcome.other_credentials == {("app.handler", "ec2:StartInstances"): 1}


def test_resource_matches_iam_wildcards_within_and_across_segments() -> None:
    # Examples of "IAM JSON policy elements: Resource" (IAM User Guide)
    assert resource_matches(
        "arn:aws:s3:::amzn-s3-demo-bucket/*", "arn:aws:s3:::amzn-s3-demo-bucket/a/b"
    )
    assert resource_matches(
        "arn:aws:iam::123456789012:user/accounting/*",
        "arn:aws:iam::123456789012:user/accounting/bob",
    )
    assert not resource_matches(
        "arn:aws:iam::123456789012:user/accounting/*", "arn:aws:iam::123456789012:user/bob"
    )
    # a * that ends a segment may span colons (a qualified function ARN); one inside may not
    assert resource_matches(
        "arn:aws:lambda:*:*:function:*", "arn:aws:lambda:us-east-1:123456789012:function:f:prod"
    )
    assert not resource_matches("arn:aws:sqs:us-*-1:*:q", "arn:aws:sqs:us-x:y-1:123456789012:q")
    assert resource_matches("arn:aws:sqs:us-?ast-1:*:q", "arn:aws:sqs:us-east-1:123456789012:q")
