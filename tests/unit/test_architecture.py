"""House rules a reader relies on: dependency direction, public names, no work at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import timer_service

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_PACKAGES = {"api", "ticker", "callbacks"}
COMPOSITION_ROOT = ROOT / "timer_service" / "cli.py"


def imported_top_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_the_lambda_packages() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_top_packages(path) & LAMBDA_PACKAGES)
        for path in (ROOT / "timer_service").rglob("*.py")
        if path != COMPOSITION_ROOT
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_core_never_imports_lambda_event_shapes_or_resolvers() -> None:
    forbidden = (
        "aws_lambda_powertools.event_handler",
        "aws_lambda_powertools.utilities.data_classes",
        "aws_lambda_powertools.utilities.batch",
    )
    for path in (ROOT / "timer_service").rglob("*.py"):
        text = path.read_text()
        assert not any(name in text for name in forbidden), path


def test_public_names_are_exported_and_exist() -> None:
    assert sorted(timer_service.__all__) == timer_service.__all__
    for name in timer_service.__all__:
        assert hasattr(timer_service, name), name


def test_importing_handlers_builds_no_client_and_reads_no_table() -> None:
    # A fresh interpreter without AWS settings: importing must not fail or touch AWS.
    code = "import api.handler, timer_service.cli, callbacks.job_types.webhook; print('ok')"
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
