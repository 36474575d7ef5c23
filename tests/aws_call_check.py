"""pytest plugin: every AWS call the Lambda handlers make in the tests, checked against the roles
the CDK construct gives them.

The emulator has no IAM, so without this nothing says whether a deployed role allows what the
code does. Each test process records the calls of the handlers it runs in-process (the three
handler modules are wrapped as they are imported) and of the local stacks it starts (which
inherit ``TIMER_SERVICE_AWS_CALL_LOG``) into a JSONL file of a session directory. When the
session ends, in the one process that sees every worker's file (pytest-xdist's controller, or
the only process), the calls are checked against a synthesized ``TimerService``
(:mod:`tests.infra.iam_policy`): a call its role does not allow fails the session, with a
table of what was denied; the grants no call used are listed. Calls made by test code itself
(provisioning, assertions) are not a handler's, so they are not recorded.

Why at the session's end and not as a test: the check must run after every test that records,
and with xdist no test can be ordered after tests on another worker. A subset of tests checks
what it recorded and says how many calls that was, and which functions made none.
``-p no:tests.aws_call_check`` turns it off.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from timer_service_local import aws_calls

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_cdk import aws_iam as iam

DIRECTORY_ENV = "TIMER_SERVICE_AWS_CALL_DIR"
HANDLERS = (  # as the construct's functions name them (their Handler)
    "api.handler.lambda_handler",
    "ticker.handler.lambda_handler",
    "callbacks.handler.lambda_handler",
    "callbacks.handler.dead_letter_handler",
)
HANDLER_MODULES = frozenset(handler.rpartition(".")[0] for handler in HANDLERS)
REPORT = pytest.StashKey[str]()
SUMMARY_TITLE = "AWS calls of the Lambda handlers vs their IAM roles"


WEBHOOK_SECRET_PARAMETER = "/timers/webhook"  # as tests/functional/test_secrets.py stores it


def webhook_secret_parameter(scope: Any) -> Any:
    """The webhook signing secret as the README deploys it: an SSM SecureString parameter."""
    from aws_cdk import aws_ssm as ssm

    return ssm.StringParameter.from_secure_string_parameter_attributes(
        scope, "WebhookSigningSecret", parameter_name=WEBHOOK_SECRET_PARAMETER
    )


def job_type_statements() -> list[iam.PolicyStatement]:
    """What infra/README.md's Permissions table tells a user to add for each built-in job type
    (``callback_policy_statements``), on any resource of the kind: tests make their own
    topics, queues, functions and buses. The Sid marks them as job-type grants."""
    from aws_cdk import aws_iam as iam

    grants = {
        "JobTypeSqs": (["sqs:SendMessage"], ["arn:aws:sqs:*:*:*"]),
        "JobTypeSns": (["sns:Publish"], ["arn:aws:sns:*:*:*"]),
        "JobTypeLambda": (["lambda:InvokeFunction"], ["arn:aws:lambda:*:*:function:*"]),
        "JobTypeEventBridge": (["events:PutEvents"], ["arn:aws:events:*:*:event-bus/*"]),
        "JobTypeEc2Describe": (["ec2:DescribeInstances"], ["*"]),
        "JobTypeEc2Change": (
            ["ec2:StartInstances", "ec2:StopInstances"],
            ["arn:aws:ec2:*:*:instance/*"],
        ),
        "JobTypeAssumeRole": (["sts:AssumeRole"], ["arn:aws:iam::*:role/*"]),
    }
    return [
        iam.PolicyStatement(sid=sid, actions=actions, resources=resources)
        for sid, (actions, resources) in grants.items()
    ]


def checked_stack_props() -> dict[str, Any]:
    """The TimerService the calls are checked against: the README's job-type grants and webhook
    secret, without cdk-nag (tests/infra checks that)."""
    return {
        "nag": False,
        "callback_policy_statements": lambda scope: job_type_statements(),
        "webhook_signing_secret": webhook_secret_parameter,
        "browser_fetcher": True,  # html_monitor's fetcher: "browser" invokes it
    }


def checked_template_file() -> Path | None:
    """Where a test process that synthesized :func:`checked_stack_props` leaves the template
    (tests/infra does), so that the check does not synthesize it again; None outside a session."""
    directory = os.environ.get(DIRECTORY_ENV)
    return None if directory is None else Path(directory, "checked-template.json")


# --- recording ------------------------------------------------------------------------------


class _WrapHandlersOnImport(importlib.abc.MetaPathFinder):
    """Wraps a handler module's handler with :func:`aws_calls.recorded` once the module has run,
    before any test can ``from api.handler import lambda_handler``; importing the handlers
    up front would cost every run about 2 s."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in HANDLER_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _wrap(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _wrap(module: ModuleType) -> None:
    for path in HANDLERS:
        module_name, _, name = path.rpartition(".")
        handler = getattr(module, name, None) if module_name == module.__name__ else None
        if handler is None or getattr(handler, "_records_aws_calls", False):
            continue
        wrapped = aws_calls.recorded(handler, path)
        if wrapped is not handler:
            wrapped._records_aws_calls = True  # type: ignore[attr-defined]
            setattr(module, name, wrapped)


def _distributes(config: pytest.Config) -> bool:
    """This process is pytest-xdist's controller: workers run the tests."""
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", 0))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    controller = not hasattr(config, "workerinput")
    if controller:
        directory = tempfile.mkdtemp(prefix="aws-calls-")
        os.environ[DIRECTORY_ENV] = directory  # the workers are started after this
        log = Path(directory, "main.jsonl")
    else:
        worker = config.workerinput["workerid"]  # type: ignore[attr-defined]
        log = Path(os.environ[DIRECTORY_ENV], f"{worker}.jsonl")
    os.environ[aws_calls.CALL_LOG_ENV] = str(log)  # the local stacks the tests start inherit it
    if _distributes(config):
        return
    aws_calls.install(log)
    for module in HANDLER_MODULES:
        if module in sys.modules:
            _wrap(sys.modules[module])
    sys.meta_path.insert(0, _WrapHandlersOnImport())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Any:
    """Each call is tagged with the test that made it (the report names one per denial)."""
    os.environ[aws_calls.CALL_TAG_ENV] = item.nodeid
    try:
        return (yield)
    finally:
        os.environ.pop(aws_calls.CALL_TAG_ENV, None)


# --- checking -------------------------------------------------------------------------------


def _check(directory: Path) -> tuple[str, bool]:
    """The report, and whether the session fails: a call denied, or roles that could not be
    synthesized to check them."""
    calls: list[dict[str, Any]] = []
    broken = 0
    for log in sorted(directory.glob("*.jsonl")):
        found, bad = aws_calls.read_calls(log)
        calls += found
        broken += bad
    if not calls:
        return (
            "no AWS calls were recorded from the Lambda handlers (no functional or e2e test ran"
            " them): no role was checked",
            False,
        )
    started = time.monotonic()
    try:
        from tests.infra.conftest import synthesize
        from tests.infra.iam_policy import Template, check
    except ImportError as exc:  # the CDK group is not installed
        return f"{len(calls)} AWS calls recorded but not checked: {exc} (make sync-all)", False
    cached = directory / "checked-template.json"
    if cached.exists():  # tests/infra synthesized it in this session
        template = Template(json.loads(cached.read_text()))
    else:
        try:
            template = Template(synthesize(**checked_stack_props()).template)
        except Exception as exc:  # no node for jsii, a construct that does not synthesize
            return (
                f"{len(calls)} AWS calls recorded but not checked: synthesis failed: {exc!r}",
                True,
            )
    outcome = check(calls, template, expected=[h for h in HANDLERS if h in template.functions])
    lines = [
        outcome.report(),
        "",
        "Roles: TimerService (infra/timer_service_cdk/construct.py), synthesized with the job-type"
        " grants of infra/README.md as callback_policy_statements"
        + (
            " (by tests/infra in this session)"
            if cached.exists()
            else f" ({time.monotonic() - started:.1f} s)"
        ),
    ]
    if outcome.denied:
        lines.append(f"The calls recorded are kept in {directory}")
    if broken:
        lines.append(f"{broken} lines of the records were not JSON (a process killed mid-write)")
    return "\n".join(lines), bool(outcome.denied)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        return
    directory = Path(os.environ[DIRECTORY_ENV])
    report, failed = _check(directory)
    config.stash[REPORT] = report
    if failed:
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        shutil.rmtree(directory, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash.get(REPORT, None)
    if report is None:
        return
    terminalreporter.section(SUMMARY_TITLE)
    for line in report.splitlines():
        terminalreporter.write_line(line)
