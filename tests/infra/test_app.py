"""infra/app.py, as `make synth` runs it: context in, one checked stack out."""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

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
