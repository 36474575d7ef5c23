"""The TimerService construct, synthesised: the resources, properties and permissions that
matter, cdk-nag's verdict and cfn-lint's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from callbacks.html_monitor.job import HtmlMonitorJob
from callbacks.job_types.webhook import WebhookJob
from tests.infra.conftest import Synthesized, synthesize
from timer_service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def statements(stack: Synthesized, role_fragment: str) -> list[dict[str, Any]]:
    """Every policy statement attached to the roles whose logical id holds ``role_fragment``."""
    found = []
    for policy in stack.resources("AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"].get("Roles", []))
        if role_fragment in roles:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_table_is_on_demand_recoverable_expiring_and_protected(default_stack: Synthesized) -> None:
    table = default_stack.one(
        "AWS::DynamoDB::Table",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["DeletionProtectionEnabled"] is True
    # the indexes the local stack's table has (timer_service.provisioning): the dead letters'
    # was missing from the deployed table once, and the operator's `dlq list` failed there
    from timer_service.provisioning import TABLE_INDEXES

    deployed = {i["IndexName"]: i["KeySchema"] for i in table["GlobalSecondaryIndexes"]}
    assert deployed == {name: index["KeySchema"] for name, index in TABLE_INDEXES.items()}
    assert set(deployed) == {"byOwner", "deadLetters"}
    idempotency = default_stack.one(
        "AWS::DynamoDB::Table", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}]
    )
    assert idempotency["TimeToLiveSpecification"]["AttributeName"] == "expiration"
    retained = [
        r
        for r in default_stack.resources("AWS::DynamoDB::Table").values()
        if r.get("DeletionPolicy") == "Retain"
    ]
    assert len(retained) == 2


def test_destroy_policy_turns_off_deletion_protection(api_key_stack: Synthesized) -> None:
    for table in api_key_stack.resources("AWS::DynamoDB::Table").values():
        assert table["Properties"]["DeletionProtectionEnabled"] is False
        assert table["DeletionPolicy"] == "Delete"


def test_queues_are_encrypted_and_the_dispatch_queue_dead_letters(
    default_stack: Synthesized, api_key_stack: Synthesized
) -> None:
    queues = default_stack.resources("AWS::SQS::Queue")
    assert len(queues) == 3
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    (dispatch,) = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert dispatch["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    (callback,) = [
        f
        for f in default_stack.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "callbacks.handler.lambda_handler"
    ]
    # A batch lasts as long as its slowest job (its messages run at once): the function
    # outlasts the longest deadline a job config may set, and the queue hides a message for
    # six times the function's timeout, as AWS advises for an SQS event source.
    longest_job_s = max(
        WebhookJob.model_json_schema()["properties"]["totalTimeoutSeconds"]["maximum"],
        HtmlMonitorJob.model_json_schema()["properties"]["timeoutSeconds"]["maximum"],
    )
    assert callback["Properties"]["Timeout"] >= longest_job_s + 30
    assert dispatch["Properties"]["VisibilityTimeout"] >= 6 * callback["Properties"]["Timeout"]
    (with_dlq,) = [
        q
        for q in api_key_stack.resources("AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    ]
    assert with_dlq["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3
    for policy in default_stack.resources("AWS::SQS::QueuePolicy").values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_functions_are_arm64_on_python_3_13_with_their_resources(
    default_stack: Synthesized,
) -> None:
    functions = {
        f["Properties"]["Handler"]: f["Properties"]
        for f in default_stack.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Runtime", "").startswith("python")
    }
    assert set(functions) == {
        "api.handler.lambda_handler",
        "ticker.handler.lambda_handler",
        "callbacks.handler.lambda_handler",
        "callbacks.handler.dead_letter_handler",
    }
    for function in functions.values():
        assert function["Architectures"] == ["arm64"]
        assert function["Runtime"] == "python3.13"
        assert "TracingConfig" not in function  # X-Ray is opt-in (billed per trace)
        env = function["Environment"]["Variables"]
        for field in ("table_name", "dispatch_queue_url", "dlq_url", "output_queue_url"):
            assert Settings.env_name(field) in env
        assert env[Settings.env_name("max_attempts")] == "5"


def test_one_schedule_per_ticking_shard_every_minute(default_stack: Synthesized) -> None:
    schedules = default_stack.resources("AWS::Scheduler::Schedule")
    inputs = []
    for schedule in schedules.values():
        properties = schedule["Properties"]
        assert properties["ScheduleExpression"] == "rate(1 minute)"
        assert properties["FlexibleTimeWindow"] == {"Mode": "OFF"}
        inputs.append(json.loads(properties["Target"]["Input"]))
    assert sorted(i["shard"] for i in inputs) == [0, 1, 2, 3]  # 3 active, 1 draining


def test_changing_shards_changes_the_schedules_and_the_registry() -> None:
    two = synthesize(shards=2)
    assert len(two.resources("AWS::Scheduler::Schedule")) == 2
    (registry,) = two.resources("Custom::AWS").values()
    create = json.dumps(registry["Properties"]["Create"])
    assert '\\"active\\":{\\"L\\":[{\\"N\\":\\"0\\"},{\\"N\\":\\"1\\"}]}' in create
    assert '\\"draining\\":{\\"L\\":[]}' in create


def test_callbacks_read_the_queue_reporting_partial_failures(
    default_stack: Synthesized, api_key_stack: Synthesized
) -> None:
    mapping = mapping_of(default_stack, "TimersCallbackFunction")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 50}
    dispatch = next(iter(default_stack.resources("AWS::SQS::Queue")))
    assert "DispatchQueue" in json.dumps(mapping["EventSourceArn"]), dispatch
    limited = mapping_of(api_key_stack, "TimersCallbackFunction")
    assert limited["ScalingConfig"] == {"MaximumConcurrency": 7}
    # what SQS dead-letters (a callback that never finished) becomes its owner's dead letter
    intake = mapping_of(default_stack, "TimersDeadLetterFunction")
    assert "DeadLetterQueue" in json.dumps(intake["EventSourceArn"])
    assert intake["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def mapping_of(stack: Synthesized, function_prefix: str) -> dict[str, Any]:
    (mapping,) = [
        m["Properties"]
        for m in stack.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"]["Ref"].startswith(function_prefix)
        and not m["Properties"]["FunctionName"]["Ref"].startswith(function_prefix + "Role")
    ]
    return mapping


def test_permissions_name_each_data_action_and_resource(default_stack: Synthesized) -> None:
    for policy in default_stack.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in actions_of(statement):
                service, _, verb = action.partition(":")
                if service in ("dynamodb", "sqs", "s3"):
                    assert "*" not in verb, action
    api = statements(default_stack, "TimersApiFunctionRole")
    ticker = statements(default_stack, "TimersTickerFunctionRole")
    callbacks = statements(default_stack, "TimersCallbackFunctionRole")
    api_table = next(s for s in api if "dynamodb:PutItem" in actions_of(s))
    api_index = next(s for s in api if "/index/byOwner" in json.dumps(s["Resource"]))
    assert actions_of(api_index) == ["dynamodb:Query"]  # listing reads the index, nothing else
    ticker_table = next(s for s in ticker if "dynamodb:Query" in actions_of(s))
    assert "index" not in json.dumps(ticker_table["Resource"])
    assert not any("dynamodb:Scan" in actions_of(s) for s in api + ticker + callbacks)
    assert not any(a.startswith("s3:") for s in api + ticker for a in actions_of(s))
    snapshot = next(s for s in callbacks if "s3:PutObject" in actions_of(s))
    assert json.dumps(snapshot["Resource"]).endswith('"/html-monitor/*"]]}')
    # dead letters live in the table: the API reads, redrives and deletes them there
    assert "dynamodb:BatchWriteItem" in actions_of(api_table)
    dlq_ref = {"Fn::GetAtt": ["TimersDeadLetterQueue712EA9B9", "Arn"]}
    assert not any(s["Resource"] == dlq_ref for s in api + ticker)
    # a failed firing of a pack is retried alone: the callback sends to the dispatch queue
    (dispatch_id,) = [k for k in default_stack.resources("AWS::SQS::Queue") if "Dispatch" in k]
    dispatch_ref = {"Fn::GetAtt": [dispatch_id, "Arn"]}
    assert any(
        s["Resource"] == dispatch_ref and actions_of(s) == ["sqs:SendMessage"] for s in callbacks
    )
    intake = statements(default_stack, "TimersDeadLetterFunctionRole")
    assert {a for s in intake for a in actions_of(s) if a.startswith("dynamodb:")} == {
        "dynamodb:PutItem"
    }
    # every function reads the message signing key, and nothing else of Secrets Manager
    for role in ("Api", "Ticker", "Callback", "DeadLetter"):
        granted = statements(default_stack, f"Timers{role}FunctionRole")
        (secret,) = [
            s for s in granted if any(a.startswith("secretsmanager:") for a in actions_of(s))
        ]
        assert actions_of(secret) == ["secretsmanager:GetSecretValue"]
        assert secret["Resource"]["Ref"].startswith("TimersMessageSigningKey")


def test_the_scheduler_role_trusts_this_account_in_the_region_deployed_to(
    default_stack: Synthesized,
) -> None:
    (role,) = [
        r["Properties"]
        for r in default_stack.resources("AWS::IAM::Role").values()
        if "scheduler.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    condition = json.dumps(trust["Condition"])
    assert '"Ref": "AWS::Region"' in condition and '"Ref": "AWS::AccountId"' in condition
    assert "eu-west-1" not in condition  # the synthesising environment's region


def test_webhook_signing_secret_comes_from_secrets_manager_or_ssm() -> None:
    from aws_cdk import aws_secretsmanager as secretsmanager
    from aws_cdk import aws_ssm as ssm

    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-AbCdEf"
    stack = synthesize(
        shards=1,
        webhook_signing_secret=lambda scope: secretsmanager.Secret.from_secret_complete_arn(
            scope, "Webhook", arn
        ),
    )
    env = callback_env(stack)
    assert env[Settings.env_name("webhook_signing_secret_arn")] == arn
    assert Settings.env_name("webhook_signing_secret") not in env
    granted = statements(stack, "TimersCallbackFunctionRole")
    assert any(s["Resource"] == arn for s in granted)
    parameter = ssm.StringParameter.from_secure_string_parameter_attributes
    stack = synthesize(
        shards=1,
        webhook_signing_secret=lambda scope: parameter(
            scope, "WebhookParam", parameter_name="/timers/webhook-secret"
        ),
    )
    assert "parameter/timers/webhook-secret" in json.dumps(callback_env(stack))
    granted = statements(stack, "TimersCallbackFunctionRole")
    assert any("ssm:GetParameter" in actions_of(s) for s in granted)


def callback_env(stack: Synthesized) -> dict[str, Any]:
    (function,) = [
        f["Properties"]
        for f in stack.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "callbacks.handler.lambda_handler"
    ]
    return dict(function["Environment"]["Variables"])


def test_job_type_permissions_come_from_the_documented_prop() -> None:
    from aws_cdk import aws_iam as iam

    stack = synthesize(
        shards=1,
        callback_policy_statements=[
            iam.PolicyStatement(
                actions=["ec2:StartInstances", "ec2:StopInstances"],
                resources=["arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0"],
            )
        ],
    )
    granted = statements(stack, "TimersCallbackFunctionRole")
    assert any("ec2:StopInstances" in actions_of(s) for s in granted)
    assert not any("ec2:StopInstances" in actions_of(s) for s in statements(stack, "TimersApi"))


def test_the_readme_job_type_grants_go_to_the_callbacks_alone(checked_stack: Synthesized) -> None:
    # GIVEN the grants infra/README.md's Permissions table names for each built-in job type, and
    # the webhook signing secret as an SSM parameter: the roles the AWS-call check reads
    def job_type_sids(role: str) -> set[str]:
        sids = {s.get("Sid") or "" for s in statements(checked_stack, role)}
        return {sid for sid in sids if sid.startswith("JobType")}

    assert job_type_sids("TimersCallbackFunctionRole") == {
        "JobTypeSqs",
        "JobTypeSns",
        "JobTypeLambda",
        "JobTypeEventBridge",
        "JobTypeEc2Describe",
        "JobTypeEc2Change",
        "JobTypeAssumeRole",
    }
    callback = statements(checked_stack, "TimersCallbackFunctionRole")
    assert any("ssm:GetParameter" in actions_of(s) for s in callback)
    for other in ("TimersApiFunctionRole", "TimersTickerFunctionRole", "TimersDeadLetter"):
        assert job_type_sids(other) == set()


def test_alarms_go_to_the_alarm_topic_and_a_dashboard_shows_the_service(
    default_stack: Synthesized,
) -> None:
    alarms = default_stack.resources("AWS::CloudWatch::Alarm")
    names = {json.dumps(a["Properties"]["AlarmDescription"]) for a in alarms.values()}
    for topic in (
        "dead-letter",
        "tick failed",
        "fewer ticks",
        "lateness",
        "callback Lambda",
        "5xx",
        "did not sign",
        "not draining",
    ):
        assert any(topic in name for name in names), topic
    (topic_id,) = default_stack.resources("AWS::SNS::Topic")
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    missed = next(
        a for a in alarms.values() if "fewer ticks" in a["Properties"]["AlarmDescription"]
    )
    assert missed["Properties"]["Threshold"] == 4 * 5 * 0.8  # 4 ticking shards, 5 minutes
    assert len(default_stack.resources("AWS::CloudWatch::Dashboard")) == 1


def test_outputs_name_what_the_command_line_reads(default_stack: Synthesized) -> None:
    outputs = default_stack.template["Outputs"]
    assert {"ApiUrl", "TableName", "QueueUrl", "DlqUrl", "OutputQueueUrl"} <= set(outputs)


@pytest.mark.parametrize("variant", ["default_stack", "api_key_stack"])
def test_cdk_nag_passes_with_justified_acknowledgments_only(
    variant: str, request: pytest.FixtureRequest
) -> None:
    from timer_service_cdk import NAG_SUPPRESSIONS

    stack: Synthesized = request.getfixturevalue(variant)
    (nag,) = [r for r in stack.report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    assert nag["suppressedViolations"]  # the checks ran and saw what the design accepts
    for violation in nag["suppressedViolations"]:
        rule = violation["ruleName"].removeprefix("AwsSolutions-").partition("[")[0]
        assert violation["reason"] == NAG_SUPPRESSIONS[rule]


@pytest.mark.parametrize("variant", ["default_stack", "api_key_stack"])
def test_cfn_lint_finds_no_error(variant: str, request: pytest.FixtureRequest) -> None:
    stack: Synthesized = request.getfixturevalue(variant)
    linted = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--config-file",
            str(ROOT / "infra" / ".cfnlintrc.yaml"),
            "--format",
            "json",
            str(stack.template_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(linted.stdout or "[]")
    assert findings == [], findings
    assert linted.returncode == 0


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"shards": 0}, "shards must be 1-1000"),
        ({"shards": 2, "draining_shards": [1]}, "draining_shards"),
        ({"lookahead_minutes": 11}, "lookahead_minutes"),
        ({"callback_max_concurrency": 1}, "callback_max_concurrency"),
    ],
)
def test_impossible_props_are_refused(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        synthesize(**props)
