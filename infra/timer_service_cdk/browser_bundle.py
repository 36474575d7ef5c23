"""The browser function's bundle, without Docker: the Lambda bundle for x86_64 with Playwright,
and Chromium from the npm package @sparticuz/chromium.

The npm package is the Chromium build made for Lambda (headless shell for Amazon Linux 2023,
with the libraries and fonts Lambda lacks), brotli-compressed; its registry tarball carries the
x86_64 build only (arm64 is not on npm), so this function is x86_64. ``npm pack`` fetches it
once into ``~/.cache/timer-service`` (``$TIMER_SERVICE_CACHE``), checked against the integrity
pinned here; its ``bin/*.br`` go into the bundle as published. Playwright's wheel brings its own
Node.js (144 MB), which with Chromium would pass Lambda's 250 MB: it goes in xz-compressed.
:mod:`callbacks.html_monitor.chromium_pack` unpacks both at cold start.
"""

from __future__ import annotations

import base64
import hashlib
import lzma
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_

from timer_service.chromium_pack_layout import BROTLI_FILES, NODE_FILE, PACK_DIR
from timer_service_cdk.bundle import LambdaBundle, bundling_options

__all__ = [
    "BROWSER_PLATFORM",
    "SPARTICUZ_CHROMIUM",
    "BrowserBundle",
    "browser_code",
    "cached_tarball",
    "chromium_tarball",
    "write_pack",
]

BROWSER_PLATFORM = "x86_64-manylinux_2_28"
# Chromium 153: the nearest on npm to the one Playwright 1.65 drives (159); checked to render
# here with Playwright, in the one-process mode Lambda needs (tests/browser/test_chromium_pack.py).
SPARTICUZ_CHROMIUM = (
    "@sparticuz/chromium",
    "153.0.0",
    "sha512-jiGWqSvPMdu4+P9TilYqAR7yEGPEHINx+lCvE/NqNO/EHYzF/x1hUiI5T6ioVIt7dEy7n88byyT0vk+dnsgQwA==",
)
CACHE_ENV = "TIMER_SERVICE_CACHE"


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "timer-service")


def cached_tarball(directory: Path | None = None) -> Path:
    """Where the pinned tarball is kept (there or not)."""
    return (directory or cache_dir()) / f"sparticuz-chromium-{SPARTICUZ_CHROMIUM[1]}.tgz"


def chromium_tarball(directory: Path | None = None) -> Path:
    """The pinned @sparticuz/chromium tarball (cached, else ``npm pack``), its integrity checked."""
    name, version, integrity = SPARTICUZ_CHROMIUM
    directory = directory or cache_dir()
    tarball = cached_tarball(directory)
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                f"the browser bundle needs {name}@{version}: install npm, or put"
                f" its tarball at {tarball}"
            )
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory) as scratch:
            done = subprocess.run(
                [npm, "pack", f"{name}@{version}", "--pack-destination", scratch, "--silent"],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"npm pack {name}@{version} failed:\n{done.stderr}")
            (fetched,) = Path(scratch).glob("*.tgz")
            fetched.replace(tarball)
    algorithm, _, expected = integrity.partition("-")
    digest = hashlib.new(algorithm, tarball.read_bytes()).digest()
    if base64.b64encode(digest).decode() != expected:
        raise RuntimeError(f"{tarball} is not {name}@{version} (its {algorithm} differs)")
    return tarball


def write_pack(bundle_dir: Path, tarball: Path, *, preset: int = 6) -> Path:
    """Put Chromium's files and the compressed Node.js into ``bundle_dir``'s pack directory."""
    pack = bundle_dir / PACK_DIR
    pack.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as archive:
        for name in BROTLI_FILES:
            member = archive.extractfile(f"package/bin/{name}")
            if member is None:
                raise RuntimeError(f"{tarball} has no package/bin/{name}")
            with member, (pack / name).open("wb") as out:
                shutil.copyfileobj(member, out, 4 << 20)
    node = bundle_dir / "playwright" / "driver" / "node"
    with node.open("rb") as raw, lzma.open(pack / NODE_FILE, "wb", preset=preset) as packed:
        shutil.copyfileobj(raw, packed, 4 << 20)
    node.unlink()
    return pack


@dataclass(frozen=True)
class BrowserBundle(LambdaBundle):
    """The Lambda bundle with the ``browser`` extra for x86_64, and the Chromium pack."""

    platform: str = BROWSER_PLATFORM
    extras: tuple[str, ...] = ("browser",)

    def build(self, output_dir: Path) -> Path:
        tarball = chromium_tarball()  # first: no wheel is fetched when it cannot be had
        built = super().build(output_dir)
        write_pack(built, tarball)
        return built


def browser_code(source: Path, runtime: lambda_.Runtime) -> lambda_.Code:
    """The browser function's asset, bundled here (no Docker) from ``source``."""
    bundle = BrowserBundle(python_version=runtime.name.removeprefix("python"))
    return lambda_.Code.from_asset(
        str(source), asset_hash_type=AssetHashType.OUTPUT, bundling=bundling_options(bundle)
    )


def main() -> int:
    """``python -m timer_service_cdk.browser_bundle DIR``: build it into DIR; print its size."""
    import argparse

    parser = argparse.ArgumentParser(description="Build the browser function's bundle.")
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    shutil.rmtree(args.output, ignore_errors=True)
    built = BrowserBundle().build(args.output)
    size = sum(f.stat().st_size for f in built.rglob("*") if f.is_file())
    print(f"{built}: {size / 1e6:.1f} MB unzipped ({BROWSER_PLATFORM})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
