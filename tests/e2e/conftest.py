"""Starts ``timer-service dev`` as a subprocess and stops it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

CLI = Path(sys.executable).parent / "timer-service"
START_TIMEOUT_S = 60


@dataclass
class LocalStack:
    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C or a service manager would; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        assert self.process.stdout is not None
        self.output.extend(self.process.stdout.read().splitlines())
        return code


def start_stack(*args: str, cwd: Path) -> LocalStack:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "250"
    process = subprocess.Popen(
        [str(CLI), "dev", "--port", "0", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    url = None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if match := re.match(r"\s+API\s+(http://\S+)", line):
            url = match.group(1)
        if "Ctrl-C stops" in line:
            break
    if url is None:
        process.kill()
        raise AssertionError("local stack did not start:\n" + "\n".join(lines))
    stack = LocalStack(process, url, lines)
    httpx.get(f"{url}/health", timeout=10).raise_for_status()
    return stack


@pytest.fixture
def local_stack(tmp_path: Path) -> Iterator[Callable[..., LocalStack]]:
    """A factory: each call starts ``timer-service dev`` in ``tmp_path``; all are stopped after."""
    started: list[LocalStack] = []

    def start(*args: str) -> LocalStack:
        stack = start_stack(*args, cwd=tmp_path)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        if stack.process.poll() is None:
            stack.process.kill()
            stack.process.wait()
