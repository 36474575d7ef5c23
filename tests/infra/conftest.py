"""Synthesised TimerService stacks (CDK, with cdk-nag) for the infra tests."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

STACK = "TimerServiceTest"


@dataclass
class Synthesized:
    """A synthesised stack: its template, its cdk-nag report, and where they were written."""

    template: dict[str, Any]
    report: dict[str, Any]
    directory: Path

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def one(self, kind: str, **where: Any) -> dict[str, Any]:
        found = [
            r["Properties"]
            for r in self.resources(kind).values()
            if all(r["Properties"].get(k) == v for k, v in where.items())
        ]
        assert len(found) == 1, (kind, where, len(found))
        return found[0]

    @property
    def template_path(self) -> Path:
        return self.directory / f"{STACK}.template.json"


def synthesize(*, nag: bool = True, **props: Any) -> Synthesized:
    """A stack holding one TimerService(**props), checked by cdk-nag (unless ``nag`` is False),
    with stand-in code (the real bundle has its own test). A callable prop is called with the
    stack to make the value (an imported secret, say)."""
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from timer_service_cdk import TimerService, add_nag_checks

    out = Path(tempfile.mkdtemp(prefix="cdk-"))
    code_dir = out / "code"
    code_dir.mkdir()
    (code_dir / "stand_in.py").write_text("# the real bundle is tested in test_bundle.py\n")
    app = cdk.App(outdir=str(out / "cdk.out"))
    if nag:
        add_nag_checks(app)
    stack = cdk.Stack(app, STACK, env=cdk.Environment(account="123456789012", region="eu-west-1"))
    made = {name: value(stack) if callable(value) else value for name, value in props.items()}
    TimerService(stack, "Timers", code=lambda_.Code.from_asset(str(code_dir)), **made)
    assembly = app.synth()
    directory = Path(assembly.directory)
    template = json.loads((directory / f"{STACK}.template.json").read_text())
    report = json.loads((directory / "validation-report.json").read_text()) if nag else {}
    return Synthesized(template, report, directory)


@pytest.fixture(scope="session", autouse=True)
def cdk() -> Any:
    """aws_cdk, loaded once: its jsii kernel (a node process holding the CDK library) takes
    seconds to start, so this directory's tests run in one worker, which starts it once."""
    import aws_cdk

    return aws_cdk


@pytest.fixture(scope="session")
def default_stack() -> Synthesized:
    return synthesize(shards=3, draining_shards=[3])


@pytest.fixture(scope="session")
def api_key_stack() -> Synthesized:
    from aws_cdk import RemovalPolicy

    from timer_service_cdk import ApiAuth, UsagePlanLimits

    return synthesize(
        shards=2,
        api_auth=ApiAuth.API_KEY,
        usage_plan=UsagePlanLimits(rate_limit=20, burst_limit=40, quota_per_day=5000),
        removal_policy=RemovalPolicy.DESTROY,
        callback_max_concurrency=7,
        max_attempts=3,
    )


@pytest.fixture(scope="session")
def checked_stack() -> Synthesized:
    """The stack the session's AWS-call check reads the roles of (tests/aws_call_check.py): its
    template is left for the check, which then need not synthesize it again."""
    from tests.aws_call_check import checked_stack_props, checked_template_file

    synthesized = synthesize(**checked_stack_props())
    target = checked_template_file()
    if target is not None and target.parent.is_dir():
        written = target.with_suffix(".partial")
        written.write_text(json.dumps(synthesized.template))
        written.replace(target)  # whole or absent, whenever the check reads it
    return synthesized


Synth = Callable[..., Synthesized]
