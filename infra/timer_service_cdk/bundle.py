"""The Lambda bundle, built without Docker: locked runtime dependencies as Lambda-platform wheels.

From a checkout (a ``uv.lock`` beside the ``pyproject.toml``), the requirements are the lock's
runtime closure (``uv export --no-dev --no-default-groups``: no dev, CDK or local-stack
package) and the project goes in as the wheel ``uv build`` makes, with its entry points (the
job-type registry reads them). Installed from a package index instead, the project and its
dependencies are pinned to the versions installed here. Either way ``uv pip install
--target`` fetches wheels only (``--only-binary :all:``) for the Lambda platform
(``manylinux2014`` ``aarch64``, CPython 3.13), so native modules are the Lambda's, whatever
this machine is.
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

__all__ = ["LAMBDA_PLATFORM", "LAMBDA_PYTHON", "LambdaBundle", "UvLocalBundling", "find_uv"]

LAMBDA_PLATFORM = "aarch64-manylinux2014"
LAMBDA_PYTHON = "3.13"
DISTRIBUTION = "timer-service"
LEFT_OUT = ("timer_service_cdk",)  # in the project's wheel, never needed by a Lambda


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
        """Install everything into ``output_dir``; returns it."""
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
