"""Drives a stack from outside, as a user would: the local one as a subprocess, a webhook
receiver, and a drain of a deployed stack's output queue."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "QueueReceiver",
    "Received",
    "StackProcess",
    "WebhookReceiver",
    "descendants",
    "start_stack",
]

CLI = Path(sys.executable).parent / "timer-service"
START_TIMEOUT_S = 60


@dataclass
class StackProcess:
    """A running ``timer-service dev``; ``url`` is its API."""

    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C or a service manager would; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        if self.reader is not None:
            self.reader.join(timeout=5)
        return code

    def kill(self) -> None:
        """SIGKILL the stack and every process it started (its AWS emulator, its API
        instances) at once, as a power cut would: nobody gets to save anything."""
        family = [self.process.pid, *descendants(self.process.pid)]
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        for pid in family[1:]:  # not our children: wait until they are gone
            deadline = time.monotonic() + 10
            while _exists(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
        if self.reader is not None:
            self.reader.join(timeout=5)


def descendants(pid: int) -> list[int]:
    """The processes under ``pid`` (Linux /proc), children before grandchildren."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _exists(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_stack(*args: str, cwd: Path) -> StackProcess:
    """Start ``timer-service dev --port 0 ARGS`` in ``cwd``; return once it answers /health."""
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
        raise RuntimeError("local stack did not start:\n" + "\n".join(lines))
    stack = StackProcess(process, url, lines)
    stack.reader = threading.Thread(target=_drain_output, args=(stack,), daemon=True)
    stack.reader.start()
    httpx.get(f"{url}/health", timeout=10).raise_for_status()
    return stack


def _drain_output(stack: StackProcess) -> None:
    """Keep reading the stack's output so its pipe never fills up."""
    stdout = stack.process.stdout
    assert stdout is not None
    for line in stdout:
        stack.output.append(line.rstrip("\n"))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at_s: float


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records every POST; ``status`` sets its answer."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived_s = time.time()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(
                    Received(self.path, dict(self.headers.items()), body, arrived_s)
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # bursts of concurrent webhooks must not overflow accept()

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class QueueReceiver:
    """Drains a deployed stack's output queue (what the ``sqs`` job type sends) in a thread;
    each message is recorded as the webhook receiver records a request."""

    def __init__(self, queue_url: str, region: str) -> None:
        import os

        from timer_service.aws import client

        self._sqs = client("sqs", region, os.environ.get("AWS_ENDPOINT_URL"))
        self._url = queue_url
        self.requests: list[Received] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True, name="output-queue")
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            messages = self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            at_s = time.time()
            for message in messages:
                attributes = message.get("MessageAttributes", {})
                body = {
                    name: attributes[name]["StringValue"]
                    for name in ("timerId", "scheduledAt")
                    if name in attributes
                }
                self.requests.append(Received("/", {}, json.dumps(body).encode(), at_s))
            if messages:
                self._sqs.delete_message_batch(
                    QueueUrl=self._url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                        for n, m in enumerate(messages)
                    ],
                )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
