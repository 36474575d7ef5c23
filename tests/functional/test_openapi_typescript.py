"""The API's /openapi.json through an off-the-shelf generator: openapi-typescript makes the
types of a TypeScript client (openapi-fetch) from it, ``tsc`` type-checks a program that creates
and reads a timer (tests/typescript/create_and_read.ts, the README's example), the program runs
against the local stack's front, and the same program with a wrong field, type or path does not
type-check. The npm packages are pinned (tests/typescript/package-lock.json) and installed once
into .tools/npm/, from npm's cache when it has them; node and npm are required, not optional."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AwsResources, cold_start_handlers, set_settings
from tests.functional.test_api_answers import KEY, Front, local_settings
from timer_service_local.gateway import OPEN_PATHS, Gateway

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PROJECT = ROOT / "tests" / "typescript"  # package.json, package-lock.json, the program
PROGRAM = PROJECT / "create_and_read.ts"
NPM_CACHE = ROOT / ".tools" / "npm"
GENERATE = ("--default-non-nullable", "false")  # the README's flags (why: README)
TSC_OPTIONS = (
    "--strict",
    "--target", "es2022",
    "--lib", "es2022,dom",
    "--module", "nodenext",
    "--moduleResolution", "nodenext",
    "--skipLibCheck",  # the packages' own .d.ts; schema.ts is checked
)  # fmt: skip


def _run(command: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """The pinned packages, installed once per lock file (a directory named by its hash)."""
    npm = shutil.which("npm")
    node = shutil.which("node")
    if npm is None or node is None:
        pytest.fail("node and npm are required (the CDK uses them too): apt-get install nodejs npm")
    lock = (PROJECT / "package-lock.json").read_bytes()
    installed = NPM_CACHE / f"typescript-client-{hashlib.sha256(lock).hexdigest()[:16]}"
    if (installed / "node_modules" / ".bin" / "openapi-typescript").exists():
        return installed / "node_modules"
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="installing-", dir=NPM_CACHE))
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PROJECT / name, staging / name)
    done = _run([npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"], staging)
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    try:
        staging.rename(installed)  # whole or not at all; another worker may have won
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return installed / "node_modules"


def _document(**settings: Any) -> str:
    """The /openapi.json of a stack with these settings, from the API handler."""
    from api.handler import lambda_handler
    from timer_service_local.gateway import build_event
    from timer_service_local.lambda_context import LocalContext

    with pytest.MonkeyPatch.context() as patch:
        set_settings(patch, **settings)
        event = build_event(
            method="GET", raw_path="/openapi.json", headers={}, body=b"", owner=None
        )
        answer = lambda_handler(event, LocalContext())
    cold_start_handlers()  # the next event reads the environment as it is again
    assert answer["statusCode"] == 200
    return str(answer["body"])


def _generate(work: Path, document: str, node_modules: Path) -> subprocess.CompletedProcess[str]:
    (work / "openapi.json").write_text(document)
    generator = node_modules / ".bin" / "openapi-typescript"
    return _run([str(generator), "openapi.json", *GENERATE, "-o", "schema.ts"], work)


@pytest.fixture(scope="module")
def client_project(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the generated types (schema.ts), the program and the packages."""
    work = tmp_path_factory.mktemp("typescript-client")
    # the keyed local stack's document: the one the program runs against
    document = _document(api_auth="API_KEY", open_paths=tuple(sorted(OPEN_PATHS)))
    (work / "package.json").write_text(json.dumps({"type": "module", "private": True}))
    (work / "node_modules").symlink_to(node_modules, target_is_directory=True)
    shutil.copy(PROGRAM, work / PROGRAM.name)
    made = _generate(work, document, node_modules)
    assert made.returncode == 0, made.stdout + made.stderr
    return work


def test_generator_takes_a_deployed_stacks_document_with_its_sigv4_scheme(
    node_modules: Path, tmp_path: Path
) -> None:
    document = _document(api_auth="IAM")
    assert "awsSigv4" in document
    made = _generate(tmp_path, document, node_modules)
    assert made.returncode == 0, made.stdout + made.stderr
    assert '"/periodic/{id}": {' in (tmp_path / "schema.ts").read_text()


def _tsc(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run([str(project / "node_modules" / ".bin" / "tsc"), *TSC_OPTIONS, *args], project)


def _readme_section() -> str:
    text = README.read_text()
    return re.split(r"\n#{2,4} ", text.split("#### A TypeScript client\n", 1)[1], maxsplit=1)[0]


def test_readme_generates_the_typescript_client_as_the_tests_do() -> None:
    section = _readme_section()
    (command,) = [line for line in section.splitlines() if "openapi-typescript@" in line]
    pinned = json.loads((PROJECT / "package.json").read_text())["devDependencies"]
    major = pinned["openapi-typescript"].split(".")[0]
    assert command.split() == [
        "npx", "-y", f"openapi-typescript@{major}", "openapi.json", *GENERATE, "-o", "schema.ts"
    ]  # fmt: skip
    assert "npm install openapi-fetch" in section


def test_generated_typescript_client_type_checks_a_program_that_creates_and_reads_a_timer(
    client_project: Path,
) -> None:
    # GIVEN the program, and the README's example
    (snippet,) = re.findall(r"```ts\n(.*?)```", _readme_section(), re.S)
    (client_project / "readme.ts").write_text(snippet + "export {};\n")
    # WHEN tsc checks them THEN they type-check against the generated client
    checked = _tsc(client_project, "--noEmit", PROGRAM.name, "readme.ts")
    assert checked.returncode == 0, checked.stdout + checked.stderr


# Each a change to the program that a client of this API gets wrong, and what tsc says of it.
MISTAKES = {
    "misspelled response field": ("timer.nextFireTimes[0]", "timer.nextFireTime[0]", "TS2551"),
    "wrong body type": ('schedule: "rate(5 minutes)"', "schedule: 5", "TS2322"),
    "unknown path": ('client.GET("/periodic/{id}"', 'client.GET("/timers/{id}"', "TS2345"),
    "error field that is not there": ("error.field ??", "error.reason ??", "TS2339"),
}


def test_generated_typescript_client_refuses_programs_with_wrong_fields_types_or_paths(
    client_project: Path,
) -> None:
    # GIVEN the program, changed in one place per mistake
    source = PROGRAM.read_text()
    names = []
    for n, (right, wrong, _code) in enumerate(MISTAKES.values()):
        assert right in source, right
        name = f"mistake_{n}.ts"
        (client_project / name).write_text(source.replace(right, wrong, 1))
        names.append(name)
    # WHEN tsc checks them THEN each fails, with the error its mistake makes
    checked = _tsc(client_project, "--noEmit", *names)
    assert checked.returncode != 0
    for name, (mistake, (_right, _wrong, code)) in zip(names, MISTAKES.items(), strict=True):
        found = re.findall(rf"^{re.escape(name)}\(\d+,\d+\): error (TS\d+)", checked.stdout, re.M)
        assert code in found, f"{mistake}: {found}\n{checked.stdout}"


@pytest.fixture
def served(aws: AwsResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The keyed local stack's front on a free port, the API handler in this process."""
    local_settings(monkeypatch, aws, keyed=True)
    gateway = Gateway(Front(keyed=True).app, port=0).start()
    yield gateway.url
    gateway.stop()


def test_generated_typescript_client_creates_and_reads_a_timer_on_the_local_stack(
    client_project: Path, served: str
) -> None:
    # (type-checked by the test above: compiled here without checking again, for time)
    built = _tsc(client_project, "--noCheck", "--outDir", "out", PROGRAM.name)
    assert built.returncode == 0, built.stdout + built.stderr
    ran = _run(["node", f"out/{PROGRAM.stem}.js", served, KEY], client_project, timeout=60)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = json.loads(ran.stdout)
    assert result["created"] == 201
    assert result["timer"]["id"] == "ts-client"
    assert result["timer"]["timerCallbackData"] == {"order": 42}
    assert result["etag"] == f'"{result["version"]}"'
    assert result["next"] == result["timer"]["nextFireTimes"][0]
