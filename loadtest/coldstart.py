"""Cold start: each handler's import time from the Lambda bundle, on arm64, median of fresh runs.

The bundle's native code is for Linux ``aarch64``, so it runs where it will on Lambda: Debian's
arm64 ``python3.13`` (trixie, the runtime's minor version) unpacked into a sysroot and run by
``qemu-aarch64-static``; natively on an arm64 machine. Each run is a fresh interpreter with
``-B`` (Lambda's ``/var/task`` is read-only: nothing is written back), the bundle first on
``sys.path`` and the construct's default environment; it prints the seconds its imports took.
qemu is slower than a Graviton core, so the same runs also time a bare interpreter start and a
fixed pure-Python loop, emulated and (with a CPython 3.13 here) native: their ratio scales the
figures to a real CPU. The sysroot and qemu come from Debian packages (``--setup``: ``apt-get
download`` into ``.tools/arm64``, about 80 MB); without them the scenario says so and skips.

    .venv/bin/python -m loadtest coldstart --setup             # once
    make bundle && .venv/bin/python -m loadtest coldstart --bundle build/lambda [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["configure", "measure", "report", "run", "setup"]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / ".tools" / "arm64"
PYTHON = "3.13"
GOAL_TICKER_S = 0.5
SUITE = "trixie"  # Debian's release whose python3 is 3.13, like the Lambda runtime
# Debian's python3.13 and what it and the bundle's native modules link against.
PACKAGES = (
    "python3.13-minimal",
    "libpython3.13-minimal",
    "libpython3.13-stdlib",
    "libc6",
    "libgcc-s1",
    "libstdc++6",
    "libssl3t64",
    "libffi8",
    "zlib1g",
    "libexpat1",
    "libzstd1",
    "liblzma5",
    "libbz2-1.0",
    "libsqlite3-0",
    "libuuid1",
    "libncursesw6",
    "libtinfo6",
    "libreadline8t64",
)
# What each Lambda runs before its first event (its handler module), then what that event adds.
CASES: dict[str, str] = {
    "ticker": "import ticker.handler",
    "api": "import api.handler",
    "callbacks": "import callbacks.handler",
    "api + job types": (
        "import api.handler\n"
        "from timer_service.job_types import JobTypeRegistry\n"
        "JobTypeRegistry.from_entry_points().validate('webhook', {'url': 'https://example.com/h'})"
    ),
    "callbacks + job types": (
        "import callbacks.handler\n"
        "from timer_service.job_types import JobTypeRegistry\n"
        "JobTypeRegistry.from_entry_points()"
    ),
}
# The construct's Lambda environment, as far as importing is concerned.
LAMBDA_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "TZ": ":UTC",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
# CPU seconds, not wall: the figure a busy machine disturbs least (an import is single-threaded
# and, from a local bundle, CPU-bound; under qemu this is qemu's CPU time, translation included).
TIMED = (
    "import sys, time\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "started = time.process_time()\n"
    "exec(compile(sys.argv[2], 'case', 'exec'))\n"
    "print(time.process_time() - started)\n"
)


def emulator(cache: Path) -> list[str] | None:
    """The command prefix that runs the sysroot's arm64 binaries here; None when there is none."""
    sysroot = cache / "sysroot"
    if platform.machine() in ("aarch64", "arm64"):
        return []
    for candidate in (cache / "qemu" / "usr" / "bin" / "qemu-aarch64-static",):
        if candidate.exists():
            return [str(candidate), "-L", str(sysroot)]
    found = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    return [found, "-L", str(sysroot)] if found else None


def arm64_python(cache: Path) -> Path:
    return cache / "sysroot" / "usr" / "bin" / f"python{PYTHON}"


def missing(cache: Path) -> str | None:
    """Why the arm64 runs cannot happen here, or None."""
    if emulator(cache) is None:
        return "no qemu-aarch64-static (run with --setup, or apt-get install qemu-user-static)"
    if not arm64_python(cache).exists():
        return f"no arm64 python{PYTHON} sysroot in {cache} (run with --setup)"
    return None


def setup(cache: Path) -> None:
    """Fetch Debian's arm64 python3.13 (and qemu-user-static) into ``cache`` and unpack them."""
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            raise SystemExit(f"--setup needs {tool} (Debian or Ubuntu); unpack {PACKAGES} by hand")
    apt, debs, sysroot = cache / "apt", cache / "debs", cache / "sysroot"
    for directory in ("lists/partial", "archives/partial", "etc/apt.conf.d", "etc/preferences.d"):
        (apt / directory).mkdir(parents=True, exist_ok=True)
    (apt / "status").touch()
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    (apt / "etc" / "sources.list").write_text(
        f"deb [arch=arm64 signed-by={keyring}] http://deb.debian.org/debian {SUITE} main\n"
    )
    (apt / "apt.conf").write_text(
        "".join(
            f'{key} "{value}";\n'
            for key, value in {
                "Dir::State": apt,
                "Dir::State::Lists": apt / "lists",
                "Dir::State::status": apt / "status",
                "Dir::Cache": apt,
                "Dir::Cache::archives": apt / "archives",
                "Dir::Etc": apt / "etc",
                "Dir::Etc::SourceList": apt / "etc" / "sources.list",
                "Dir::Etc::SourceParts": apt / "etc" / "sources.list.d",
                "Dir::Etc::Parts": apt / "etc" / "apt.conf.d",
                "Dir::Etc::PreferencesParts": apt / "etc" / "preferences.d",
                "APT::Architecture": "arm64",
                "Acquire::Languages": "none",
            }.items()
        )
        + 'APT::Architectures { "arm64"; };\n'
    )
    private = {**os.environ, "APT_CONFIG": str(apt / "apt.conf")}
    shutil.rmtree(debs, ignore_errors=True)
    debs.mkdir(parents=True)
    subprocess.run(["apt-get", "-q", "update"], env=private, check=True)
    subprocess.run(["apt-get", "-q", "download", *PACKAGES], cwd=debs, env=private, check=True)
    if platform.machine() not in ("aarch64", "arm64") and emulator(cache) is None:
        # qemu for this machine, from its own distribution's archive (host apt configuration)
        subprocess.run(["apt-get", "-q", "download", "qemu-user-static"], cwd=debs, check=True)
        (qemu_deb,) = debs.glob("qemu-user-static_*.deb")
        subprocess.run(["dpkg", "-x", str(qemu_deb), str(cache / "qemu")], check=True)
        for other in (cache / "qemu" / "usr" / "bin").iterdir():  # 60 emulators: keep one
            if other.name != "qemu-aarch64-static":
                other.unlink()
    shutil.rmtree(apt, ignore_errors=True)  # the package lists: 100 MB, needed no more
    shutil.rmtree(sysroot, ignore_errors=True)
    sysroot.mkdir()
    for deb in sorted(debs.glob("*_arm64.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(sysroot)], check=True)
    for merged in ("bin", "lib", "sbin"):  # trixie is merged-/usr: the loader is /lib/ld-linux...
        if not (sysroot / merged).exists():
            (sysroot / merged).symlink_to(f"usr/{merged}")
    _compile_stdlib(cache)
    print(f"arm64 python{PYTHON} in {sysroot}; qemu: {emulator(cache)}")


def _compile_stdlib(cache: Path) -> None:
    """Debian compiles its stdlib on install (not in the .deb); Lambda's ships compiled."""
    stdlib = cache / "sysroot" / "usr" / "lib" / f"python{PYTHON}"
    native = _native_python()
    command = (
        [native]
        if native
        else [*(emulator(cache) or []), str(arm64_python(cache))]  # slower, same result
    )
    subprocess.run(
        [*command, "-m", "compileall", "-q", "-j", "0", "-x", "/(test|idlelib)/", str(stdlib)],
        check=False,  # a few files in lib2to3's test data are not Python 3: compileall says so
    )


def _native_python() -> str | None:
    """A CPython 3.13 for this machine (the native reference), as the bundle builder finds one."""
    try:
        from timer_service_cdk.bundle import find_python
    except ImportError:
        return shutil.which(f"python{PYTHON}")
    try:
        return find_python(PYTHON)
    except RuntimeError:
        return None


def _median_seconds(command: list[str], code: str, bundle: Path, runs: int) -> float:
    """Median, over ``runs`` fresh interpreters, of the CPU seconds ``code`` takes in each."""
    seconds = []
    for _ in range(runs):
        done = subprocess.run(
            [*command, "-B", "-I", "-c", TIMED, str(bundle), code],
            env=LAMBDA_ENV,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{code!r} failed:\n{done.stderr[-3000:]}")
        seconds.append(float(done.stdout.split()[-1]))
    return statistics.median(seconds)


def _median_start(command: list[str], runs: int) -> float:
    """Median CPU seconds of a whole bare interpreter run (``-c pass``), fresh each time."""
    import resource

    seconds = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([*command, "-B", "-I", "-c", "pass"], env=LAMBDA_ENV, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(seconds)


def measure(
    bundle: Path,
    *,
    runs: int = 5,
    cache: Path = DEFAULT_CACHE,
    native_bundle: Path | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Median CPU seconds of each case on arm64 (and natively from ``native_bundle``, the same
    bundle built for this machine), and the interpreter-start reference that scales them."""
    reason = missing(cache)
    if reason is not None:
        return {"skipped": reason}
    for directory in (bundle, native_bundle):
        if directory is not None and not (directory / "ticker" / "handler.py").exists():
            raise SystemExit(f"{directory} is not a Lambda bundle: make bundle (build/lambda)")
    arm64 = [*(emulator(cache) or []), str(arm64_python(cache))]
    native = _native_python()
    figures: dict[str, Any] = {
        "runs": runs,
        "bundle": str(bundle),
        "runner": "native arm64" if not emulator(cache) else "qemu-aarch64-static",
        "native_python": native,
        "import_cpu_s": {},
        "native_import_cpu_s": {},
    }
    steps = len(CASES) * (2 if native_bundle else 1) + 1
    step = 0
    for name, code in CASES.items():
        if progress is not None:
            progress(step, steps, f"arm64: {name}")
        figures["import_cpu_s"][name] = round(_median_seconds(arm64, code, bundle, runs), 3)
        step += 1
        if native_bundle is not None and native is not None:
            if progress is not None:
                progress(step, steps, f"{platform.machine()}: {name}")
            median = _median_seconds([native], code, native_bundle, runs)
            figures["native_import_cpu_s"][name] = round(median, 4)
            step += 1
    if progress is not None:
        progress(step, steps, "reference: interpreter start")
    emulated = _median_start(arm64, runs)
    here = _median_start([native], runs) if native else None
    figures["interpreter_start_cpu_s"] = {
        "arm64": round(emulated, 4),
        "native": None if here is None else round(here, 4),
    }
    figures["slowdown"] = None if not here else round(emulated / here, 1)
    return figures


def report(figures: dict[str, Any], console: Any) -> None:
    if "skipped" in figures:
        console.print(f"coldstart skipped: {figures['skipped']}")
        return
    from rich.table import Table

    scale = figures["slowdown"]
    native = figures["native_import_cpu_s"]
    columns = [f"{figures['runner']}"]
    if scale:
        columns.append(f"/ {scale:g} (interpreter start there vs here)")
    if native:
        columns.append(f"native {platform.machine()}, same packages")
    title = f"CPU seconds to import, median of {figures['runs']} fresh runs: {figures['bundle']}"
    table = Table("from the bundle", *columns, title=title)
    for name, seconds in figures["import_cpu_s"].items():
        row = [f"{seconds:.3f} s"]
        if scale:
            row.append(f"{seconds / scale:.3f} s")
        if native:
            row.append(f"{native[name]:.3f} s")
        table.add_row(name, *row)
    console.print(table)
    start = figures["interpreter_start_cpu_s"]
    shown = "-" if start["native"] is None else f"{start['native']:.4f} s"
    console.print(
        f"interpreter start (-c pass): {start['arm64']:.4f} s arm64, {shown} native"
        f" ({figures['native_python']})"
    )
    ticker = figures["import_cpu_s"]["ticker"] / (scale or 1)
    met = "met" if ticker <= GOAL_TICKER_S else "NOT met"
    console.print(f"ticker goal <= {GOAL_TICKER_S} s: {ticker:.3f} s scaled ({met})")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", type=Path, default=ROOT / "build" / "lambda")
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per case")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="sysroot and qemu")
    parser.add_argument(
        "--setup", action="store_true", help="first fetch the arm64 sysroot and qemu into --cache"
    )
    parser.add_argument(
        "--native-bundle",
        type=Path,
        help="the same bundle built for this machine (LambdaBundle(platform=...)): timed natively",
    )


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    if args.setup:
        setup(args.cache)
    return {
        "scenario": "coldstart",
        **measure(
            args.bundle,
            runs=args.runs,
            cache=args.cache,
            native_bundle=args.native_bundle,
            progress=progress,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m loadtest.coldstart``: the same as ``python -m loadtest coldstart``."""
    from loadtest import harness

    scenario = {"coldstart": sys.modules[__name__]}
    return harness.run(scenario, ["coldstart", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
