"""Warm Lambda instances for the local stack: one handler, run in processes of its own.

A Lambda instance serves one event at a time and keeps its module state (clients, caches)
between events; several instances serve a busy function side by side, and a warm instance
that just finished is the one reused. ``LambdaPool`` does the same: each instance is
``python -m timer_service_local.lambdas TARGET`` (``"api.handler:lambda_handler"`` names the
handler, so this module never imports a Lambda package), fed one JSON event per line on its
stdin, answering one JSON line. The most recently idle instance takes the next event.
``instances=0`` runs the handler in the caller's process, one event at a time.

An instance that dies (killed, out of memory) fails the event it had (the gateway answers
502, as API Gateway does) and is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import IO, Any

from timer_service_local.aws_calls import recorded
from timer_service_local.lambda_context import LocalContext

__all__ = ["InstanceDiedError", "LambdaPool", "cold_start"]

_handlers: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {}


class InstanceDiedError(RuntimeError):
    """The instance running an event exited before it answered."""


def cold_start(module: ModuleType) -> None:
    """Forget the clients and settings a Lambda module cached, as a new instance would."""
    # for handlers imported earlier in this process (tests, an earlier stack)
    for value in list(vars(module).values()):
        if callable(getattr(value, "cache_clear", None)) and value.__module__ == module.__name__:
            value.cache_clear()


def _handler(target: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    if target not in _handlers:
        module, _, name = target.partition(":")
        handler = getattr(importlib.import_module(module), name)
        _handlers[target] = recorded(handler, f"{module}.{name}")
    return _handlers[target]


class _Instance:
    """One instance process and its two pipes."""

    def __init__(self, target: str, function_name: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "timer_service_local.lambdas", target, function_name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(os.environ),
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in: IO[bytes] = self.process.stdin
        self._out: IO[bytes] = self.process.stdout

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            self._in.write(json.dumps(message).encode() + b"\n")
            self._in.flush()
            line = self._out.readline()
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise InstanceDiedError("the instance is gone") from exc
        if not line:
            raise InstanceDiedError(f"the instance exited ({self.process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer  # {"result": ...} or {"ready": true}

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._in.close()
        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            self._out.close()


class LambdaPool:
    """``invoke(event)`` runs ``target`` on one of ``instances`` warm processes."""

    def __init__(self, target: str, *, instances: int, function_name: str = "timer-api") -> None:
        self._target = target
        self._function_name = function_name
        self._instances = instances
        self._lock = threading.Lock()  # in process: one event at a time, as one instance
        self._idle: list[_Instance] = []  # the most recently idle last
        self._all: list[_Instance] = []
        self._changed = threading.Condition()
        self._stopped = False

    def start(self) -> LambdaPool:
        """Start the instances and import the handler in each (a cold start, done now)."""
        if self._instances == 0:
            _handler(self._target)
            cold_start(sys.modules[self._target.partition(":")[0]])
            return self
        started = [_Instance(self._target, self._function_name) for _ in range(self._instances)]
        for instance in started:
            instance.call({"warm": True})
        with self._changed:
            self._all += started
            self._idle += started
        return self

    async def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.get_running_loop().run_in_executor(None, self.invoke_blocking, event)

    def invoke_blocking(self, event: dict[str, Any]) -> dict[str, Any]:
        if self._instances == 0:
            with self._lock:
                return _handler(self._target)(
                    event, LocalContext(function_name=self._function_name)
                )
        instance = self._acquire()
        try:
            answer = instance.call({"event": event})
        except InstanceDiedError:
            self._replace(instance)
            raise
        except BaseException:
            self._release(instance)
            raise
        self._release(instance)
        result: dict[str, Any] = answer["result"]
        return result

    def _acquire(self) -> _Instance:
        with self._changed:
            while not self._idle:
                if self._stopped:
                    raise InstanceDiedError("the pool is stopped")
                self._changed.wait(timeout=1)
            return self._idle.pop()

    def _release(self, instance: _Instance) -> None:
        with self._changed:
            if not self._stopped:
                self._idle.append(instance)
            self._changed.notify()

    def _replace(self, dead: _Instance) -> None:
        dead.stop()
        with self._changed:
            if dead in self._all:
                self._all.remove(dead)
            if self._stopped:
                return
        fresh = _Instance(self._target, self._function_name)
        with self._changed:
            self._all.append(fresh)
            self._idle.insert(0, fresh)  # cold: the last choice
            self._changed.notify()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            instances, self._all, self._idle = self._all, [], []
            self._changed.notify_all()
        for instance in instances:
            with contextlib.suppress(OSError):
                instance.process.terminate()
        for instance in instances:
            instance.stop()


def main(argv: list[str] | None = None) -> int:
    """One instance: read events from stdin, answer on the original stdout."""
    target, function_name = (argv if argv is not None else sys.argv[1:])[:2]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the stack, which stops us
    # Metrics are off locally (no CloudWatch): powertools would warn at every invocation.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what the handler prints (its logs) goes to stderr, never into answers
    sys.stdout = sys.stderr
    for line in sys.stdin.buffer:
        message = json.loads(line)
        reply: dict[str, Any]
        try:
            handler = _handler(target)
            if "event" in message:
                reply = {
                    "result": handler(message["event"], LocalContext(function_name=function_name))
                }
            else:
                reply = {"ready": True}
        except Exception as exc:  # the invocation failed: the gateway answers 502
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(reply).encode() + b"\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
