"""infra/app.py, as `make synth` runs it: context in, one checked stack out."""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from timer_service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def load_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("timer_service_app", ROOT / "infra" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synth_app(context: dict[str, Any]) -> dict[str, Any]:
    import aws_cdk as cdk

    from timer_service_cdk import add_nag_checks

    app = cdk.App(
        outdir=tempfile.mkdtemp(prefix="cdk-app-"),
        # Bundling is skipped here (the bundle has its own test); everything else is real.
        context={"aws:cdk:bundling-stacks": [], **context},
    )
    add_nag_checks(app)
    stack = load_app().build(app)
    assembly = app.synth()
    template: dict[str, Any] = json.loads(
        (Path(assembly.directory) / f"{stack.stack_name}.template.json").read_text()
    )
    return template


def test_app_builds_the_stack_from_context() -> None:
    template = synth_app(
        {
            "stackName": "Timers-Staging",
            "shards": 6,
            "drainingShards": "6,7",
            "apiAuth": "API_KEY",
            "alarmEmail": "ops@example.com",
            "removalPolicy": "destroy",
        }
    )
    resources = template["Resources"].values()
    schedules = [r for r in resources if r["Type"] == "AWS::Scheduler::Schedule"]
    assert len(schedules) == 8
    subscriptions = [r for r in resources if r["Type"] == "AWS::SNS::Subscription"]
    assert subscriptions[0]["Properties"]["Endpoint"] == "ops@example.com"
    assert any(r["Type"] == "AWS::ApiGateway::UsagePlan" for r in resources)


def test_cdk_json_points_at_the_app() -> None:
    settings = json.loads((ROOT / "infra" / "cdk.json").read_text())
    assert settings["app"] == "../.venv/bin/python app.py"
    assert settings["context"]["shards"] == 4


def callback_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Policy" and "CallbackFunctionRole" in logical_id
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_job_type_grants_come_from_a_context_file_on_the_deploy_path(tmp_path: Path) -> None:
    # GIVEN the permissions the README's table names for sns, ec2_instances and a KMS queue
    topic = "arn:aws:sns:eu-west-1:123456789012:alerts"
    grants = tmp_path / "grants.json"
    grants.write_text(
        json.dumps(
            {
                "snsTopics": [topic],
                "ec2Instances": ["arn:aws:ec2:*:123456789012:instance/*"],
                "ec2Tag": {"key": "timer-service", "value": "managed"},
                "assumeRoles": ["arn:aws:iam::111111111111:role/timer-service-ec2"],
            }
        )
    )
    template = synth_app({"jobTypeGrants": str(grants)})
    granted = {statement.get("Sid"): statement for statement in callback_statements(template)}
    assert granted["JobSns"]["Action"] == "sns:Publish" and granted["JobSns"]["Resource"] == topic
    assert granted["JobEc2Describe"]["Resource"] == "*"
    assert granted["JobEc2StartStop"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/timer-service": "managed"}
    }
    assert granted["JobAssumeRole"]["Action"] == "sts:AssumeRole"


def test_a_mistaken_grants_value_stops_the_synthesis() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown keys"):
        synth_app({"jobTypeGrants": '{"snsTopic": ["arn:aws:sns:eu-west-1:1:x"]}'})
    with pytest.raises(ValueError, match="a list of ARNs"):
        synth_app({"jobTypeGrants": '{"snsTopics": ["alerts"]}'})


def test_the_webhook_secret_is_read_from_ssm_on_the_deploy_path() -> None:
    arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/timers/webhook"
    template = synth_app({"webhookSigningSecretArn": arn})
    functions = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    (callback,) = [f for f in functions if f.get("Handler") == "callbacks.handler.lambda_handler"]
    assert Settings.env_name("webhook_signing_secret_arn") in callback["Environment"]["Variables"]
    assert any("ssm:GetParameter" in json.dumps(s["Action"]) for s in callback_statements(template))
