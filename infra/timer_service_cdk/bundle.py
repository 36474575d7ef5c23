"""The Lambda bundle, built without Docker: locked runtime dependencies as Lambda-platform wheels.

From a checkout (a ``uv.lock`` beside the ``pyproject.toml``), the requirements are the lock's
runtime closure (``uv export --no-dev --no-default-groups``: no dev, CDK or local-stack
package) and the project goes in as the wheel ``uv build`` makes, with its entry points (the
job-type registry reads them). Installed from a package index instead, the project and its
dependencies are pinned to the versions installed here. Either way ``uv pip install
--target`` fetches wheels only (``--only-binary :all:``) for the Lambda platform
(``manylinux2014`` ``aarch64``, CPython 3.13), so native modules are the Lambda's, whatever
this machine is.

Then every module is compiled to bytecode by a CPython of the runtime's version (found by
:func:`find_python`). Lambda's ``/var/task`` is read-only: without ``__pycache__`` in the bundle
each cold start compiles every module it imports, and writes nothing for the next one. The
bytecode is plain (optimisation level 0: Lambda starts ``python3`` without ``-O``) and
hash-based, unchecked (PEP 552): CDK zips the asset with every file dated 1980-01-01, so a
timestamp-checked ``.pyc`` would never match its source there and be ignored; an unchecked one
is used as is, and holds no build time or path, so building again gives the same asset hash.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling

__all__ = [
    "LAMBDA_PLATFORM",
    "LAMBDA_PYTHON",
    "PYTHON_OVERRIDE",
    "LambdaBundle",
    "UvLocalBundling",
    "compile_bytecode",
    "find_python",
    "find_uv",
]

LAMBDA_PLATFORM = (
    "aarch64-manylinux_2_28"  # Lambda python3.13 runs on Amazon Linux 2023: glibc 2.34
)
LAMBDA_PYTHON = "3.13"
DISTRIBUTION = "timer-service"
# In the project's wheel, never needed by a Lambda: the construct, the CLI, the console, the
# local stack.
LEFT_OUT = (
    "timer_service_cdk",
    "timer_service_cli",
    "timer_service_console",
    "timer_service_local",
)
PYTHON_OVERRIDE = "TIMER_SERVICE_BUNDLE_PYTHON"  # an interpreter to compile with, if set
# Written by the installer, different at every build (the wheel's scratch path, a time stamp),
# never read at run time: left out so that the same inputs give the same asset hash.
UNSTABLE_METADATA = ("direct_url.json", "uv_cache.json")
LAMBDA_TASK_ROOT = "/var/task"  # where the bundle lives on Lambda: the path its bytecode names
_PROBE = (
    "import sys, sysconfig; print(sys.implementation.name, *sys.version_info[:2],"
    " int(bool(sysconfig.get_config_var('Py_GIL_DISABLED'))))"
)


def find_uv() -> list[str]:
    """The command that runs uv: on PATH, beside this interpreter, or its PyPI package."""
    beside = Path(sys.executable).with_name("uv")
    for candidate in (shutil.which("uv"), str(beside) if beside.exists() else None):
        if candidate:
            return [candidate]
    try:
        from uv import find_uv_bin
    except ImportError as exc:
        raise RuntimeError("uv is needed to build the Lambda bundle: pip install uv") from exc
    return [find_uv_bin()]


def find_python(version: str = LAMBDA_PYTHON) -> str:
    """A CPython ``version`` ("3.13") to compile the bundle's bytecode with; RuntimeError if none.

    Tried in order: ``$TIMER_SERVICE_BUNDLE_PYTHON``, this interpreter, ``uv python find``,
    pyenv's versions, then ``pythonX.Y`` in every PATH directory. Each candidate is run and must
    report that version (a pyenv shim answers for versions it does not have, and fails).
    """
    override = os.environ.get(PYTHON_OVERRIDE)
    if override:
        problem = _python_problem(override, version)
        if problem:
            raise RuntimeError(f"{PYTHON_OVERRIDE}={override}: {problem}")
        return override
    tried: list[str] = []
    for candidate in _python_candidates(version):
        problem = _python_problem(candidate, version)
        if problem is None:
            return candidate
        tried.append(f"  {candidate}: {problem}")
    looked = "\n".join(tried) or "  (no candidate found)"
    raise RuntimeError(
        f"The Lambda bundle needs a CPython {version} to compile its bytecode for the"
        f" python{version} runtime, and none was found. Tried:\n{looked}\n"
        f"Install one (any of: `uv python install {version}`, `pyenv install {version}`,"
        f" `apt-get install python{version}`) or set {PYTHON_OVERRIDE} to its path."
    )


def _python_candidates(version: str) -> list[str]:
    candidates = [sys.executable]
    try:
        found = subprocess.run(
            [*find_uv(), "python", "find", "--no-project", "--no-python-downloads", version],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (RuntimeError, OSError, subprocess.TimeoutExpired):
        pass
    else:
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(found.stdout.strip())
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installed = sorted(
        (pyenv_root / "versions").glob(f"{version}.*"),
        key=lambda path: [int(part) if part.isdigit() else -1 for part in path.name.split(".")],
        reverse=True,  # the newest patch release first
    )
    candidates += [str(path / "bin" / f"python{version}") for path in installed]
    for directory in [*os.environ.get("PATH", "").split(os.pathsep), "/usr/local/bin", "/usr/bin"]:
        if directory and (Path(directory) / f"python{version}").is_file():
            candidates.append(str(Path(directory) / f"python{version}"))
    return list(dict.fromkeys(candidates))


def _python_problem(python: str, version: str) -> str | None:
    """Why ``python`` cannot compile bytecode for CPython ``version``; None when it can."""
    try:
        done = subprocess.run(
            [python, "-I", "-c", _PROBE], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run it ({exc})"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"exits with {done.returncode}: {lines[0] if lines else 'no output'}"
    implementation, major, minor, free_threaded = done.stdout.split()
    if implementation != "cpython" or f"{major}.{minor}" != version:
        return f"it is {implementation} {major}.{minor}"
    if free_threaded == "1":
        return "a free-threaded build (Lambda runs the default build)"
    return None


def compile_bytecode(directory: Path, python: str) -> None:
    """Compile every module under ``directory`` with ``python``, as Lambda will load them."""
    # No PYTHON* variable reaches the compiler (an inherited PYTHONOPTIMIZE would change the
    # file names), but a fixed hash seed does: sets of constants are then written in one order.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    command = [
        python,
        "-s",  # no user site-packages
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "-o",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",  # compileall's: the build directory is left out of the paths in the bytecode
        str(directory),
        "-p",
        LAMBDA_TASK_ROOT,
        str(directory),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"compiling the bundle's bytecode failed:\n{done.stdout}{done.stderr}")


def project_root() -> Path | None:
    """The checkout this package runs from, when it runs from one (``uv.lock`` present)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "uv.lock").exists():
            return parent
    return None


@dataclass(frozen=True)
class LambdaBundle:
    """Builds the bundle into a directory; ``extra_requirements`` adds plugins."""

    project_dir: Path | None = field(default_factory=project_root)
    platform: str = LAMBDA_PLATFORM
    python_version: str = LAMBDA_PYTHON
    extra_requirements: Sequence[str] = ()
    extras: Sequence[str] = ()  # the project's optional dependency groups to add ("browser")

    def requirements(self) -> list[str]:
        """The pinned runtime requirements (without the project itself)."""
        if self.project_dir is not None:
            exported = self._uv(
                "export",
                "--frozen",
                "--no-dev",
                "--no-default-groups",
                "--no-hashes",
                "--no-emit-project",
                "--no-emit-workspace",
                *(f"--extra={extra}" for extra in self.extras),
                "--format",
                "requirements-txt",
                cwd=self.project_dir,
            )
            return [
                line.strip()
                for line in exported.splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            ]
        return _installed_closure(DISTRIBUTION)

    def build(self, output_dir: Path) -> Path:
        """Install everything into ``output_dir`` and compile it; returns it."""
        python = find_python(self.python_version)  # first: no download when there is none
        output_dir = output_dir.resolve()  # uv runs in a scratch directory
        output_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:
            requirements = Path(scratch) / "requirements.txt"
            lines = [*self.requirements(), *self.extra_requirements]
            requirements.write_text("\n".join(lines) + "\n")
            project = self._project_wheel(Path(scratch))
            command = [
                "pip",
                "install",
                "--target",
                str(output_dir),
                "--python-platform",
                self.platform,
                "--python-version",
                self.python_version,
                "--only-binary",
                ":all:",
                "--quiet",
                "-r",
                str(requirements),
                str(project),
            ]
            if not self.extra_requirements:
                command.append("--no-deps")  # the export is the whole closure, pinned
            self._uv(*command, cwd=Path(scratch))
        for name in LEFT_OUT:
            shutil.rmtree(output_dir / name, ignore_errors=True)
        for cache in output_dir.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        for dist_info in output_dir.glob("*.dist-info"):
            _drop_unstable_metadata(dist_info)
        compile_bytecode(output_dir, python)
        return output_dir

    def _project_wheel(self, scratch: Path) -> Path | str:
        if self.project_dir is None:
            return f"{DISTRIBUTION}=={importlib.metadata.version(DISTRIBUTION)}"
        self._uv("build", "--wheel", "--out-dir", str(scratch), "--quiet", cwd=self.project_dir)
        (wheel,) = scratch.glob("timer_service-*.whl")
        return wheel

    def _uv(self, *args: str, cwd: Path) -> str:
        # Plain output whatever the caller forces (npx sets FORCE_COLOR): it is parsed.
        forced = {"VIRTUAL_ENV", "FORCE_COLOR", "CLICOLOR_FORCE"}
        env = {k: v for k, v in os.environ.items() if k not in forced} | {"NO_COLOR": "1"}
        done = subprocess.run(
            [*find_uv(), "--color", "never", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"uv {' '.join(args[:2])} failed:\n{done.stderr}")
        return done.stdout


def _drop_unstable_metadata(dist_info: Path) -> None:
    """Remove :data:`UNSTABLE_METADATA` files and their lines in ``RECORD``."""
    dropped = {f"{dist_info.name}/{name}" for name in UNSTABLE_METADATA}
    for name in UNSTABLE_METADATA:
        (dist_info / name).unlink(missing_ok=True)
    record = dist_info / "RECORD"
    if record.exists():
        lines = record.read_text().splitlines(keepends=True)
        record.write_text("".join(x for x in lines if x.split(",", 1)[0] not in dropped))


def _installed_closure(name: str) -> list[str]:
    """``name``'s runtime dependencies, recursively, pinned to the installed versions."""
    from packaging.requirements import Requirement

    pinned: dict[str, str] = {}
    pending = [Requirement(r) for r in importlib.metadata.requires(name) or []]
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        key = requirement.name.lower().replace("_", "-")
        if key in pinned:
            continue
        version = importlib.metadata.version(requirement.name)
        pinned[key] = f"{requirement.name}=={version}"
        pending += [Requirement(r) for r in importlib.metadata.requires(requirement.name) or []]
    return sorted(pinned.values())


@jsii.implements(ILocalBundling)
class UvLocalBundling:
    """CDK local bundling with :class:`LambdaBundle` (no Docker)."""

    def __init__(self, bundle: LambdaBundle) -> None:
        self._bundle = bundle

    def try_bundle(self, output_dir: str, *_options: Any, **_more: Any) -> bool:
        """Build into ``output_dir``; the bundling options (a Docker image) do not apply."""
        self._bundle.build(Path(output_dir))
        return True


def bundling_options(bundle: LambdaBundle) -> BundlingOptions:
    """Bundling options whose image is never used: the local bundler always succeeds."""
    return BundlingOptions(
        image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.13"),
        local=UvLocalBundling(bundle),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m timer_service_cdk.bundle DIR``: build the bundle into DIR; print its size."""
    import argparse

    parser = argparse.ArgumentParser(description="Build the Lambda bundle (no Docker).")
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    shutil.rmtree(args.output, ignore_errors=True)
    built = LambdaBundle().build(args.output)
    size = sum(f.stat().st_size for f in built.rglob("*") if f.is_file())
    print(f"{built}: {size / 1e6:.1f} MB unzipped ({LAMBDA_PLATFORM}, CPython {LAMBDA_PYTHON})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
