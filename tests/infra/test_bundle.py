"""The Lambda bundle, built from uv.lock without Docker: what it holds, for which platform,
and that the handlers import from it alone."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_architecture import FIRST_PARTY, ROOT, lambda_sources, runtime_imports
from tests.unit.test_lambda_dependencies import EXTRA_IMPORTERS, extra_only_imports

DEV_ONLY = ("moto", "pytest", "hypothesis", "rich", "aws_cdk", "cdk_nag", "mypy", "ruff", "jsii")
ELF_MACHINE_AARCH64 = 183
# CPython's Lib/importlib/_bootstrap_external.py: "Python 3.13b1 3571", the magic of every 3.13.x;
# MAGIC_NUMBER = (3571).to_bytes(2, 'little') + b'\r\n'.
CPYTHON_313_MAGIC = (3571).to_bytes(2, "little") + b"\r\n"
# PEP 552: the pyc header's flags word; bit 0 set = hash-based, bit 1 set = check the source.
PYC_UNCHECKED_HASH = 0b01


@pytest.fixture(scope="module")
def lambda_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from timer_service_cdk.bundle import LambdaBundle

    return LambdaBundle().build(tmp_path_factory.mktemp("lambda"))


@pytest.fixture(scope="module")
def host_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same requirements, for this machine's platform and Python: importable here."""
    from timer_service_cdk.bundle import LambdaBundle

    return LambdaBundle(
        platform=f"{platform.machine()}-manylinux_2_28",
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
    ).build(tmp_path_factory.mktemp("host"))


def test_bundle_holds_every_module_the_handlers_import(lambda_bundle: Path) -> None:
    imported = set()
    for path in lambda_sources():
        relative = path.relative_to(ROOT).as_posix()
        extras = extra_only_imports(relative) if relative in EXTRA_IMPORTERS else set()
        imported |= runtime_imports(path) - set(sys.stdlib_module_names) - {"__future__"} - extras
    missing = [
        module
        for module in sorted(imported)
        if not (lambda_bundle / module).is_dir()
        and not (lambda_bundle / f"{module}.py").exists()
        and not any(lambda_bundle.glob(f"{module}.*.so"))  # an extension module (jq)
    ]
    assert missing == []
    assert {p.name for p in lambda_bundle.iterdir()} >= FIRST_PARTY


def test_browser_bundle_has_the_extras_its_modules_import_lazily() -> None:
    # The main bundle leaves them out (tests/unit/test_lambda_dependencies.py): the browser
    # function's bundle is the one that runs the code that imports them.
    from timer_service_cdk.browser_bundle import BrowserBundle

    assert set(EXTRA_IMPORTERS.values()) <= set(BrowserBundle().extras)


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
    built_in = ("sqs", "webhook", "html_monitor", "ec2_instances", "sns", "lambda", "eventbridge")
    for name in (*built_in, "notify"):
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
    # -B: nothing written into the bundle (read-only on Lambda; other tests read its pycs).
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-B", "-c", code, str(host_bundle)],
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
        "notify",
        "sns",
        "sqs",
        "webhook",
    ]


def test_bundle_bytecode_is_for_the_lambda_runtime_and_unchecked(lambda_bundle: Path) -> None:
    # GIVEN the bundle for python3.13 THEN every module has its 3.13 bytecode beside it, at
    # optimisation level 0 (Lambda runs python3 without -O) and hash-based, unchecked: CDK zips
    # every file dated 1980-01-01, which a timestamp-checked pyc would not match.
    sources = sorted(lambda_bundle.rglob("*.py"))
    assert len(sources) > 1000
    wrong = []
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        header = compiled.read_bytes()[:8] if compiled.exists() else b""
        if header[:4] != CPYTHON_313_MAGIC or int.from_bytes(header[4:8], "little") != (
            PYC_UNCHECKED_HASH
        ):
            wrong.append(str(source.relative_to(lambda_bundle)))
    assert wrong == []
    assert not list(lambda_bundle.rglob("*.opt-*.pyc"))


def test_bundle_built_twice_is_byte_identical(
    lambda_bundle: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The asset hash is the hash of the output: the same inputs must not redeploy the Lambdas.
    from timer_service_cdk.bundle import LambdaBundle

    again = LambdaBundle().build(tmp_path_factory.mktemp("elsewhere") / "lambda")

    def digests(root: Path) -> dict[str, str]:
        return {
            f.relative_to(root).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in root.rglob("*")
            if f.is_file()
        }

    first, second = digests(lambda_bundle), digests(again)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_handlers_run_the_bundle_bytecode_without_compiling(host_bundle: Path) -> None:
    # GIVEN a read-only bundle (-B: nothing is written) WHEN the handlers are imported THEN the
    # import system loads each module of the bundle from its pyc (CPython's -v trace says
    # "code object from <source>.py" for each module it compiles).
    code = "import api.handler, ticker.handler, callbacks.handler"
    done = subprocess.run(
        [
            sys.executable,
            "-S",
            "-I",
            "-B",
            "-v",
            "-c",
            f"import sys; sys.path.insert(0, {str(host_bundle)!r}); {code}",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"POWERTOOLS_TRACE_DISABLED": "true"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    prefix = f"# code object from {host_bundle}{os.sep}"
    compiled = [line for line in done.stderr.splitlines() if line.startswith(prefix)]
    loaded = [line for line in done.stderr.splitlines() if line.startswith("# code object from '")]
    assert compiled == []
    assert len(loaded) > 200


def test_find_python_without_a_matching_interpreter_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN only a pyenv-style shim for python3.99 on PATH, which fails when run
    from timer_service_cdk.bundle import PYTHON_OVERRIDE, find_python

    shim = tmp_path / "python3.99"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.99: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.delenv(PYTHON_OVERRIDE, raising=False)
    # WHEN an interpreter for 3.99 is looked for THEN the error names what was tried and the fix
    with pytest.raises(RuntimeError) as raised:
        find_python("3.99")
    message = str(raised.value)
    assert f"{shim}: exits with 127: pyenv: python3.99: command not found" in message
    assert "uv python install 3.99" in message
    assert PYTHON_OVERRIDE in message


def test_find_python_takes_the_override_only_when_it_is_the_right_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from timer_service_cdk.bundle import PYTHON_OVERRIDE, find_python

    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    monkeypatch.setenv(PYTHON_OVERRIDE, sys.executable)
    assert find_python(here) == sys.executable
    with pytest.raises(RuntimeError, match=f"{PYTHON_OVERRIDE}=.*it is cpython {here}"):
        find_python("3.99")
