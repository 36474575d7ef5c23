"""The stack's handle on the emulator: a child process, started, watched and stopped."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["EmulatorProcess"]

START_TIMEOUT_S = 60.0


class EmulatorProcess:
    """Starts the emulator as a child process and stops it (it also stops when we die)."""

    def __init__(self, state_dir: Path | None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._command = [sys.executable, "-m", "timer_service_local.emulator"]
        self._command += ["--host", host, "--port", str(port)]
        if state_dir is not None:
            self._command += ["--state-dir", str(state_dir)]
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.restored: dict[str, int] = {}

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> EmulatorProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self._process = subprocess.Popen(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # Ctrl-C reaches the stack, which stops this in order
        )
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT_S)
        line = self._process.stdout.readline() if ready else ""
        answer: dict[str, Any] = json.loads(line) if line.strip() else {"error": "it did not start"}
        if "url" not in answer:
            self.stop()
            raise RuntimeError(f"the local AWS emulator failed: {answer['error']}")
        self.url = answer["url"]
        self.restored = answer["restored"]
        return self

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close its stdin (it syncs and exits), wait, kill it if it has not."""
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
