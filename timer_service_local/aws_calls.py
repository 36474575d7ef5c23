"""Records every AWS call a Lambda handler makes, one JSON line each: what its role must allow.

The emulator has no IAM, so nothing locally says whether a deployed function's role allows
what its code does. With ``TIMER_SERVICE_AWS_CALL_LOG=calls.jsonl`` (or ``timer-service dev
--record-aws-calls calls.jsonl``) the local stack wraps each handler it runs with
:func:`recorded`, and every botocore call made while the handler runs, on its own thread or on
the thread pools it starts, is appended to the file::

    {"function": "callbacks.handler.lambda_handler", "service": "sqs",
     "operation": "SendMessage", "region": "us-east-1", "credentials": "own",
     "params": {"QueueUrl": "http://127.0.0.1:4566/123456789012/timer-service-dispatch"},
     "env": {"DISPATCH_QUEUE_URL": "http://127.0.0.1:4566/123456789012/timer-service-dispatch"}}

``params`` keeps only what names a resource (table, index, queue, topic, function, bucket and
key, role, instances, event bus), never payloads; ``env`` names the environment variables that
hold one of those names, which is how a checker finds the resource in a template.
``credentials`` is ``other`` for clients built with explicit credentials (a job type's assumed
role): the function's role does not authorise those calls. ``TIMER_SERVICE_AWS_CALL_TAG``, when
set, is copied into each line as ``tag`` (the tests put the test's id there, so a call can be
traced to the test that made it; a stack started by a test inherits it). Calls made outside a
handler (provisioning, the CLI, tests) are not recorded. Each line is one ``write`` on a file opened
for appending, so processes (the stack and its API instances) can share one file.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar, cast

__all__ = [
    "CALL_LOG_ENV",
    "CALL_TAG_ENV",
    "as_function",
    "install",
    "on_behalf_of",
    "read_calls",
    "recorded",
    "resource_params",
]

logger = logging.getLogger(__name__)

CALL_LOG_ENV = "TIMER_SERVICE_AWS_CALL_LOG"
CALL_TAG_ENV = "TIMER_SERVICE_AWS_CALL_TAG"
# Parameters that name a resource: ...Name, ...Arn, ...Url, ...Id(s), and these.
_NAMING_SUFFIXES = ("Name", "Arn", "Url", "Id", "Ids")
_NAMING_KEYS = frozenset({"Bucket", "Key", "Qualifier"})
_NOT_NAMING = frozenset(
    {"ExternalId", "MessageGroupId", "MessageDeduplicationId", "ClientRequestToken"}
)
_OWN_CREDENTIALS_NEVER = frozenset({None, "explicit"})  # botocore's Credentials.method

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_function: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "timer_service_aws_call_function", default=None
)
_lock = threading.Lock()


class _Sink:
    """One file, appended to with one ``write`` per line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: dict[str, Any]) -> None:
        os.write(self._fd, json.dumps(record, separators=(",", ":")).encode() + b"\n")


class _Recording:
    """Where this process records to (None: nowhere yet; the hooks are installed once)."""

    sink: _Sink | None = None


_recording = _Recording()


def install(path: str | os.PathLike[str]) -> None:
    """Record into ``path`` from now on in this process (idempotent; a new path switches)."""
    with _lock:
        current = _recording.sink
        if current is not None and current.path == os.fspath(path):
            return
        if current is None:
            _hook_botocore()
            _hook_thread_pools()
        _recording.sink = _Sink(os.fspath(path))


def recorded(handler: F, name: str | None = None) -> F:
    """``handler``, its AWS calls recorded as ``name``'s (when there is a call log)."""
    path = os.environ.get(CALL_LOG_ENV)
    if not path:
        return handler
    install(path)
    function = name or _handler_name(handler)  # by default, the Lambda's handler setting

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        with as_function(function):
            return handler(*args, **kwargs)

    return cast(F, run)


@contextmanager
def as_function(name: str) -> Iterator[None]:
    """Calls made inside are ``name``'s (and so are those of thread pools started inside)."""
    token = _function.set(name)
    try:
        yield
    finally:
        _function.reset(token)


class _OnBehalfOf:
    def __init__(self, function: str, target: Any) -> None:
        self._function = function
        self._target = target

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._target, attribute)
        if not callable(value):
            return value

        @functools.wraps(value)
        def run(*args: Any, **kwargs: Any) -> Any:
            with as_function(self._function):
                return value(*args, **kwargs)

        return run


def on_behalf_of(handler: Callable[..., Any], target: T) -> T:
    """``target``, whose methods' AWS calls are recorded as ``handler``'s."""
    # The local stack's stand-ins for work the function does itself in AWS (the held queue's
    # releases of the ticker's firings).
    if not os.environ.get(CALL_LOG_ENV):
        return target
    return cast(T, _OnBehalfOf(_handler_name(handler), target))


def _handler_name(handler: Callable[..., Any]) -> str:
    """``api.handler.lambda_handler``: the Lambda's handler setting."""
    return f"{handler.__module__}.{handler.__qualname__}"


def read_calls(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], int]:
    """The records in a call log, and how many lines were not (a process killed mid-write)."""
    calls: list[dict[str, Any]] = []
    broken = 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                broken += 1
                continue
            if isinstance(record, dict):
                calls.append(record)
            else:
                broken += 1
    return calls, broken


def resource_params(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a call that name its resources (see the module docstring)."""
    kept: dict[str, Any] = {}
    for key, value in params.items():
        if key in _NOT_NAMING or not (key in _NAMING_KEYS or key.endswith(_NAMING_SUFFIXES)):
            continue
        if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            kept[key] = value
    if isinstance(params.get("RequestItems"), dict):  # BatchGetItem, BatchWriteItem
        kept["RequestItems"] = sorted(params["RequestItems"])
    if isinstance(params.get("TransactItems"), list):  # TransactWriteItems, TransactGetItems
        kept["TransactItems"] = [
            {kind: part.get("TableName") for kind, part in item.items() if isinstance(part, dict)}
            for item in params["TransactItems"]
            if isinstance(item, dict)
        ]
    entries = params.get("Entries")
    if operation == "PutEvents" and isinstance(entries, list):
        kept["EventBusNames"] = [
            e.get("EventBusName", "default") for e in entries if isinstance(e, dict)
        ]
    return kept


def _names(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _names(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _names(item)


def _record(function: str, client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    named = resource_params(operation, params)
    values = set(_names(named))
    credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    method = None if credentials is None else getattr(credentials, "method", None)
    record = {
        "function": function,
        "service": client.meta.service_model.service_name,
        "operation": operation,
        "region": client.meta.region_name,
        "credentials": "none"
        if credentials is None
        else ("other" if method in _OWN_CREDENTIALS_NEVER else "own"),
        "params": named,
        "env": {name: value for name, value in os.environ.items() if value in values},
    }
    tag = os.environ.get(CALL_TAG_ENV)
    if tag:
        record["tag"] = tag
    return record


def _hook_botocore() -> None:
    from botocore.client import BaseClient

    client_class: Any = BaseClient  # _make_api_call: botocore's one door for every operation
    original = client_class._make_api_call

    @functools.wraps(original)
    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = _function.get()
        sink = _recording.sink
        if function is not None and sink is not None:
            try:
                sink.write(_record(function, self, operation_name, api_params))
            except (OSError, TypeError, ValueError):
                logger.warning("could not record %s %s", function, operation_name, exc_info=True)
        return original(self, operation_name, api_params)

    client_class._make_api_call = make_api_call


def _hook_thread_pools() -> None:
    """Work a handler hands to a thread pool is the handler's too: it runs in its context."""
    # A plain ThreadPoolExecutor runs it in the worker thread's own context.
    executor_class: Any = ThreadPoolExecutor
    original = executor_class.submit

    @functools.wraps(original)
    def submit(self: ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        if _function.get() is not None:
            fn, args = contextvars.copy_context().run, (fn, *args)
        future: Future[Any] = original(self, fn, *args, **kwargs)
        return future

    executor_class.submit = submit
