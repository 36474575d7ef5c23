"""The Chromium the browser function ships: @sparticuz/chromium's files, unpacked at cold start.

The bundle holds, under :data:`~timer_service.chromium_pack_layout.PACK_DIR`, the npm package's
brotli files as published (``chromium.br``: a headless-shell build for Amazon Linux 2023 x86_64;
``swiftshader.tar.br``, ``al2023.tar.br``: the libraries Lambda lacks; ``fonts.tar.br``) and
Playwright's Node.js driver binary compressed with xz (``node.xz``: 144 MB as it comes, which
with Chromium would not fit Lambda's 250 MB). :func:`unpack` writes them out to ``/tmp`` once per
sandbox (about 360 MB) and says how to launch the result: Node.js for Playwright
(``PLAYWRIGHT_NODEJS_PATH``), then Node's own brotli decoder for the Chromium files.
"""

from __future__ import annotations

import lzma
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from timer_service.chromium_pack_layout import NODE_FILE

__all__ = ["Unpacked", "unpack"]

_INFLATE = (
    "const [s, d] = process.argv.slice(1);"
    "require('stream').pipeline(require('fs').createReadStream(s),"
    " require('zlib').createBrotliDecompress(), require('fs').createWriteStream(d),"
    " e => { if (e) { console.error(String(e)); process.exit(1); } });"
)


@dataclass(frozen=True)
class Unpacked:
    """What :func:`unpack` wrote: the executables and the browser's environment."""

    chromium: str
    node: str
    env: dict[str, str]


def unpack(pack: Path, target: Path) -> Unpacked:
    """Write the pack out under ``target`` (once: a finished unpacking is marked and reused)."""
    done = target / ".unpacked"
    node, chromium, libraries = target / "node", target / "chromium", target / "al2023" / "lib"
    if not done.exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        with lzma.open(pack / NODE_FILE) as packed, node.open("wb") as out:
            shutil.copyfileobj(packed, out, 4 << 20)
        node.chmod(0o755)
        _inflate(node, pack / "chromium.br", chromium)
        chromium.chmod(0o755)
        for name, into in (
            ("swiftshader.tar.br", target),  # libGLESv2.so and friends beside the binary
            ("al2023.tar.br", target / "al2023"),
            ("fonts.tar.br", target / "fonts"),
        ):
            tar = target / name.removesuffix(".br")
            _inflate(node, pack / name, tar)
            with tarfile.open(tar) as archive:
                _extract(archive, into)
            tar.unlink()
        (target / "fonts.conf").write_text(
            '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
            f"<dir>{target / 'fonts'}</dir><cachedir>{target / 'fonts-cache'}</cachedir>"
            "</fontconfig>\n"
        )
        done.touch()
    search = [str(libraries), str(target), os.environ.get("LD_LIBRARY_PATH", "")]
    env = {
        **os.environ,
        "LD_LIBRARY_PATH": ":".join(p for p in search if p),
        "FONTCONFIG_FILE": str(target / "fonts.conf"),
        "HOME": os.environ.get("HOME") or "/tmp",
    }
    return Unpacked(chromium=str(chromium), node=str(node), env=env)


def _inflate(node: Path, source: Path, destination: Path) -> None:
    done = subprocess.run(
        [str(node), "-e", _INFLATE, str(source), str(destination)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"unpacking {source.name} failed: {done.stderr.strip()}")


def _extract(archive: tarfile.TarFile, into: Path) -> None:
    """Extract with tarfile's "data" filter (Python 3.12, and 3.11.4 on); before it, refuse
    what that filter refuses: absolute paths, paths out of ``into``, links out of it."""
    if hasattr(tarfile, "data_filter"):
        archive.extractall(into, filter="data")
        return
    root = into.resolve()
    for member in archive.getmembers():
        target = (root / member.name).resolve()
        linked = member.issym() or member.islnk()
        link = (target.parent / member.linkname).resolve() if linked else root
        if not (target.is_relative_to(root) and link.is_relative_to(root)) or member.isdev():
            raise ValueError(f"the pack holds an unsafe member: {member.name}")
    archive.extractall(into)
