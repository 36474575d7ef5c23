"""`pip install timer-service` (the built wheel, in a fresh venv, no extras): the deployed-stack
commands work, `timer-service timers` among them; `timer-service dev` says it needs the `local`
extra; the venv holds no local-stack, test or CDK package."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import AwsResources
from tests.functional.conftest import dead_letter_box
from tests.functional.test_deployment_cli import SignedApi, deployed, signed_api
from timer_service.dispatch import Firing

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["deployed", "signed_api"]  # fixtures used here


def uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "uv is installed by the Makefile"
    return found


@pytest.fixture(scope="module")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the project's wheel and its runtime dependencies only."""
    scratch = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [uv(), "build", "--wheel", "--out-dir", str(scratch), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = scratch.glob("timer_service-*.whl")
    venv = scratch / "venv"
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
        check=True,
        capture_output=True,
    )
    yield venv


def run(
    venv: Path, *args: str, aws: AwsResources | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(venv)}
    if aws is not None:
        env |= {
            "AWS_ENDPOINT_URL": aws.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
        }
    return subprocess.run(
        [str(venv / "bin" / "timer-service"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=venv,
        check=False,
    )


def test_a_plain_install_has_no_local_stack_test_or_cdk_package(plain_install: Path) -> None:
    listed = subprocess.run(
        [uv(), "pip", "list", "--python", str(plain_install / "bin" / "python")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    for absent in ("moto", "rich", "uvicorn", "cheroot", "pytest", "aws-cdk-lib"):
        assert f"\n{absent} " not in listed, absent
    assert "\ntimer-service " in listed


def test_deployed_stack_commands_work_from_a_plain_install(
    plain_install: Path, aws: AwsResources, deployed: str, signed_api: SignedApi
) -> None:
    # GIVEN a deployed stack (its outputs on moto's CloudFormation) holding a dead letter
    dead_letter_box(aws).record(Firing("a", "lost", 1, 1700000000), error="HTTP 500", attempts=5)
    # WHEN its commands run from the plain install THEN each works
    shards = run(plain_install, "shards", "--stack", deployed, "list", aws=aws)
    assert shards.returncode == 0, shards.stderr
    assert "active" in shards.stdout
    assert run(plain_install, "shards", "--stack", deployed, "set", "2", aws=aws).returncode == 0
    letters = run(plain_install, "dlq", "--stack", deployed, "list", aws=aws)
    assert letters.returncode == 0, letters.stderr
    assert "a#lost@2023-11-14T22:13:20Z" in letters.stdout
    called = run(plain_install, "api", "GET", "/periodic", "--stack", deployed, aws=aws)
    assert called.returncode == 0, called.stderr
    assert '"signatureValid": true' in called.stdout
    job_types = run(plain_install, "job-types")
    assert job_types.returncode == 0 and "html_monitor" in job_types.stdout


def test_timers_commands_work_from_a_plain_install(
    plain_install: Path, aws: AwsResources, deployed: str, signed_api: SignedApi
) -> None:
    from tests.functional.test_client_errors import TIMER

    # GIVEN a deployed stack whose API (a local server checking SigV4) has one timer
    signed_api.bodies["/v1/periodic"] = {"items": [TIMER], "nextToken": None}
    helped = run(plain_install, "timers", "--help")
    assert helped.returncode == 0 and "exit codes" in helped.stdout
    # WHEN the plain install lists the timers THEN the client signed and read them
    listed = run(plain_install, "timers", "list", "--stack", deployed, aws=aws)
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [TIMER["id"]]


def test_dev_from_a_plain_install_says_which_extra_it_needs(plain_install: Path) -> None:
    started = run(plain_install, "dev", "--port", "0")
    assert started.returncode == 2
    assert "timer-service[local]" in started.stderr
    assert "Traceback" not in started.stderr


def test_a_plain_install_serves_every_file_of_the_console(plain_install: Path) -> None:
    # GIVEN the console's files in the source tree, views/ included
    static = ROOT / "timer_service_console" / "static"
    files = sorted(str(p.relative_to(static)) for p in static.rglob("*") if p.is_file())
    assert "views/edit.js" in files
    # WHEN the installed package is asked for each
    script = (
        "import sys\n"
        "from timer_service_console import asset\n"
        "for name in sys.argv[1:]:\n"
        "    found = asset('/console/' + name)\n"
        "    kind = found.headers['Content-Type'].split(';')[0]\n"
        "    print(name, found.status, kind, len(found.body))\n"
    )
    served = subprocess.run(
        [str(plain_install / "bin" / "python"), "-c", script, *files],
        capture_output=True,
        text=True,
        check=True,
        cwd=plain_install,
    ).stdout.splitlines()
    # THEN the wheel holds each, as the source has it, JavaScript served as such
    by_name = {line.split()[0]: line.split()[1:] for line in served}
    assert sorted(by_name) == files
    for name, (status, content_type, size) in by_name.items():
        assert (status, int(size)) == ("200", (static / name).stat().st_size), name
        assert content_type.startswith("text/javascript") == name.endswith(".js"), name
