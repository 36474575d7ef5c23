"""The Lambda bundle, built from uv.lock without Docker: what it holds, for which platform,
and that the handlers import from it alone."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_architecture import FIRST_PARTY, lambda_sources, runtime_imports

DEV_ONLY = ("moto", "pytest", "hypothesis", "rich", "aws_cdk", "cdk_nag", "mypy", "ruff", "jsii")
ELF_MACHINE_AARCH64 = 183


@pytest.fixture(scope="module")
def lambda_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from timer_service_cdk.bundle import LambdaBundle

    return LambdaBundle().build(tmp_path_factory.mktemp("lambda"))


@pytest.fixture(scope="module")
def host_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same requirements, for this machine's platform and Python: importable here."""
    from timer_service_cdk.bundle import LambdaBundle

    return LambdaBundle(
        platform=f"{platform.machine()}-manylinux2014",
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
    ).build(tmp_path_factory.mktemp("host"))


def test_bundle_holds_every_module_the_handlers_import(lambda_bundle: Path) -> None:
    imported = set()
    for path in lambda_sources():
        imported |= runtime_imports(path) - set(sys.stdlib_module_names) - {"__future__"}
    missing = [
        module
        for module in sorted(imported)
        if not (lambda_bundle / module).is_dir() and not (lambda_bundle / f"{module}.py").exists()
    ]
    assert missing == []
    assert {p.name for p in lambda_bundle.iterdir()} >= FIRST_PARTY


def test_bundle_holds_no_dev_cdk_or_local_stack_package(lambda_bundle: Path) -> None:
    present = {p.name for p in lambda_bundle.iterdir()}
    assert not present & set(DEV_ONLY)
    assert "timer_service_cdk" not in present


def test_bundle_native_code_is_for_lambda_arm64(lambda_bundle: Path) -> None:
    libraries = list(lambda_bundle.rglob("*.so"))
    assert libraries
    for library in libraries:
        header = library.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", library
        assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64, library
        assert "cpython-313-aarch64" in library.name or "abi3" in library.name, library


def test_bundle_registers_every_built_in_job_type(lambda_bundle: Path) -> None:
    (entry_points,) = lambda_bundle.glob("timer_service-*.dist-info/entry_points.txt")
    text = entry_points.read_text()
    for name in ("sqs", "webhook", "html_monitor", "ec2_instances", "sns", "lambda", "eventbridge"):
        assert f"{name} = " in text
    assert "http_check" not in text  # the example plugin is a dev package


def test_bundle_size_is_reported_and_within_lambda_limits(lambda_bundle: Path) -> None:
    size = sum(f.stat().st_size for f in lambda_bundle.rglob("*") if f.is_file())
    print(f"\nLambda bundle: {size / 1e6:.1f} MB unzipped")  # shown with pytest -s
    assert size < 250 * 1000 * 1000  # Lambda's limit for unzipped code


def test_handlers_import_and_find_their_job_types_from_the_bundle_alone(host_bundle: Path) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import api.handler, ticker.handler, callbacks.handler, callbacks.html_monitor\n"
        "from timer_service.job_types import JobTypeRegistry\n"
        "print(' '.join(JobTypeRegistry.from_entry_points().names))\n"
    )
    # -S: no site-packages, -I: no environment; only the standard library and the bundle.
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", code, str(host_bundle)],
        capture_output=True,
        text=True,
        check=False,
        env={"POWERTOOLS_TRACE_DISABLED": "true"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "ec2_instances",
        "eventbridge",
        "html_monitor",
        "lambda",
        "sns",
        "sqs",
        "webhook",
    ]
