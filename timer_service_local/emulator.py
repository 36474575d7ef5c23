"""The local stack's AWS endpoint: moto in a process of its own, every change journaled.

``python -m timer_service_local.emulator --state-dir DIR`` serves DynamoDB, SQS, S3 (and the
rest of moto) on 127.0.0.1 and keeps DynamoDB items, queued messages and S3 objects in ``DIR``:

- every change is a record in ``emulator.journal`` (:mod:`timer_service_local.journal`): the
  resulting item (a transaction's items on one line), a message sent, deleted or moved to a
  dead-letter queue, an object written, or a call that defines a table, queue or bucket; the
  record is on disk before the request that made it is answered;
- ``emulator.snapshot`` holds the same records for the whole state; on start the snapshot and
  then the journal are replayed, a fresh snapshot is written and the journal starts over (also
  whenever it grows past ``COMPACT_AT_BYTES``);
- TTL is honoured: expired items are deleted every ``TTL_SWEEP_S``.

What is not kept: receipt handles and visibility (every message is visible again after a
restart; a message received but not yet deleted is delivered again) and moto features this
service does not use. The process exits when its standard input closes, so it never outlives
the stack that started it; :class:`EmulatorProcess` starts and stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import inspect
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from timer_service_local.journal import Journal, dumps, read_journal
from timer_service_local.loopback_only import loopback_only

__all__ = ["EmulatorProcess", "Persistence", "StateInUseError", "main"]

logger = logging.getLogger(__name__)

JOURNAL_FILE = "emulator.journal"
SNAPSHOT_FILE = "emulator.snapshot"
LOCK_FILE = "emulator.lock"
SNAPSHOT_FORMAT = 1
COMPACT_AT_BYTES = 32 * 1024 * 1024
TTL_SWEEP_S = 60.0
SERVER_THREADS = 32  # requests at once (long polls hold one each)
START_TIMEOUT_S = 60.0

# Calls that define a resource, by service: method -> the argument naming the resource.
_DEFINITIONS = {
    "dynamodb": {
        "create_table": "name",
        "update_table": "name",
        "update_time_to_live": "table_name",
        "delete_table": "name",
    },
    "sqs": {
        "create_queue": "name",
        "set_queue_attributes": "queue_name",
        "purge_queue": "queue_name",
        "delete_queue": "queue_name",
    },
    "s3": {"create_bucket": "bucket_name", "delete_bucket": "bucket_name"},
}
_CREATES = {"create_table", "create_queue", "create_bucket"}
_DELETES = {"delete_table", "delete_queue", "delete_bucket"}


class _Slot:
    persistence: Persistence | None = None  # where moto's changes go; None: not journaled


_slot = _Slot()
_originals: dict[tuple[type, str], Callable[..., Any]] = {}


class StateInUseError(RuntimeError):
    """Another emulator holds the state directory."""


# --- the state as records -----------------------------------------------------------------


class State:
    """Resources and their contents, built by applying records (snapshot, then journal)."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
        self.items: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        self.messages: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        self.objects: dict[tuple[str, str, str], dict[str, bytes]] = {}
        self._message_queue: dict[str, tuple[str, str, str]] = {}

    def apply(self, record: dict[str, Any]) -> None:
        if "c" in record:
            self._apply_call(record)
        elif "item" in record:
            table = (record["a"], record["r"], record["t"])
            items = self.items.setdefault(table, {})
            key = _key_text(record["k"])
            if record["item"] is None:
                items.pop(key, None)
            else:
                items[key] = record["item"]
        elif "msg" in record:
            message = record["msg"]
            queue = (record["a"], record["r"], record["q"])
            previous = self._message_queue.get(message["id"])
            if previous is not None:  # a move to a dead-letter queue
                self.messages.get(previous, {}).pop(message["id"], None)
            self.messages.setdefault(queue, {})[message["id"]] = message
            self._message_queue[message["id"]] = queue
        elif "gone" in record:
            queue = (record["a"], record["r"], record["q"])
            self.messages.get(queue, {}).pop(record["gone"], None)
            self._message_queue.pop(record["gone"], None)
        elif "obj" in record:
            bucket = (record["a"], record["r"], record["b"])
            objects = self.objects.setdefault(bucket, {})
            if record["obj"] is None:
                objects.pop(record["k"], None)
            else:
                objects[record["k"]] = record["obj"]

    def _apply_call(self, record: dict[str, Any]) -> None:
        service, method = record["c"].split(".")
        resource = (service, record["a"], record["r"], record["n"])
        contents = (record["a"], record["r"], record["n"])
        if method in _DELETES:
            self.calls.pop(resource, None)
            contents_of: dict[str, dict[tuple[str, str, str], Any]] = {
                "dynamodb": self.items,
                "sqs": self.messages,
                "s3": self.objects,
            }
            contents_of[service].pop(contents, None)
        elif method in _CREATES:
            self.calls.setdefault(resource, [record])  # creating what exists changes nothing
        elif resource in self.calls:
            if method == "purge_queue":
                for message_id in self.messages.pop(contents, {}):
                    self._message_queue.pop(message_id, None)
            else:
                _append_call(self.calls[resource], record)

    def counts(self) -> dict[str, int]:
        return {
            "tables": sum(1 for key in self.calls if key[0] == "dynamodb"),
            "items": sum(len(items) for items in self.items.values()),
            "queues": sum(1 for key in self.calls if key[0] == "sqs"),
            "messages": sum(len(messages) for messages in self.messages.values()),
            "objects": sum(len(objects) for objects in self.objects.values()),
        }


def _append_call(calls: list[dict[str, Any]], record: dict[str, Any]) -> None:
    """Add a call to a resource's definition; the same call made again (the stack sets its
    queues' attributes at each start) moves to the end instead of piling up."""
    if record in calls:
        calls.remove(record)
    calls.append(record)


def _key_text(key: dict[str, Any]) -> str:
    return dumps(dict(sorted(key.items()))).decode()


# --- moto <-> records ---------------------------------------------------------------------


def _backends(service: str) -> Any:
    if service == "dynamodb":
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        return sqs_backends
    from moto.s3.models import s3_backends

    return s3_backends


def _message_record(message: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "body": message.body,
        "attrs": message.message_attributes,
        "system": message.system_attributes,
        "group": message.group_id,
        "dedup": message.deduplication_id,
        "seq": message.sequence_number,
        "sent": message.sent_timestamp,
        "delayed_until": message.delayed_until,
        "receives": message.approximate_receive_count,
        "first_receive": message.approximate_first_receive_timestamp,
    }


def _message(record: dict[str, Any]) -> Any:
    from moto.sqs.models import Message

    message = Message(record["id"], record["body"], record["system"] or None)
    message.message_attributes = record["attrs"] or {}
    message.group_id = record["group"]
    message.deduplication_id = record["dedup"]
    message.sequence_number = record["seq"]
    message.sent_timestamp = record["sent"]
    message.delayed_until = record["delayed_until"]
    message.approximate_receive_count = record["receives"]
    message.approximate_first_receive_timestamp = record["first_receive"]
    return message


def _item_key(table: Any, item_attrs: dict[str, Any]) -> dict[str, Any]:
    key = {table.hash_key_attr: item_attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = item_attrs[table.range_key_attr]
    return key


def _item_json(item: Any) -> dict[str, Any] | None:
    return None if item is None else dict(item.to_json()["Attributes"])


def restore(state: State) -> None:
    """Rebuild moto's backends from ``state`` (journaling off)."""
    for (service, account, region, name), calls in state.calls.items():
        backend = _backends(service)[account][region]
        for record in calls:
            method = record["c"].split(".")[1]
            try:
                _originals.get((type(backend), method), getattr(type(backend), method))(
                    backend, **record["k"]
                )
            except Exception:
                logger.exception("could not restore %s of %s", record["c"], name)
    for (account, region, table_name), items in state.items.items():
        backend = _backends("dynamodb")[account][region]
        for item in items.values():
            backend.put_item(table_name, item)
    for (account, region, queue_name), messages in state.messages.items():
        queue = _backends("sqs")[account][region].get_queue(queue_name)
        queue._messages.extend(_message(record) for record in messages.values())
    for (account, region, bucket), objects in state.objects.items():
        backend = _backends("s3")[account][region]
        for key, value in objects.items():
            backend.put_object(bucket, key, value)


def dump(calls: dict[tuple[str, str, str, str], list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """The records of moto's current state, for the resources ``calls`` defines."""
    for (service, account, region, name), definition in calls.items():
        yield from definition
        backend = _backends(service)[account][region]
        if service == "dynamodb":
            table = backend.get_table(name)
            for item in table.all_items():
                attrs = _item_json(item)
                assert attrs is not None
                yield {
                    "a": account,
                    "r": region,
                    "t": name,
                    "k": _item_key(table, attrs),
                    "item": attrs,
                }
        elif service == "sqs":
            queue = backend.get_queue(name)
            for message in list(queue._messages):
                yield {"a": account, "r": region, "q": name, "msg": _message_record(message)}
        else:
            bucket = backend.get_bucket(name)
            for key in list(bucket.keys.values()):
                yield {
                    "a": account,
                    "r": region,
                    "b": name,
                    "k": key.name,
                    "obj": key.value,
                }


# --- journaling ---------------------------------------------------------------------------


class Persistence:
    """Journals every change moto makes while active; replays and compacts ``state_dir``."""

    def __init__(self, state_dir: Path, *, durable: bool = True) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = state_dir
        self._lock_file = open(state_dir / LOCK_FILE, "w")  # noqa: SIM115  (held for life)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock_file.close()
            raise StateInUseError(
                f"{state_dir} is in use by another local stack (stop it, or pass another "
                "--state-dir)"
            ) from exc
        self.lock = threading.RLock()  # one change at a time, recorded in the order applied
        self.journal = Journal(state_dir / JOURNAL_FILE, durable=durable)
        self.calls: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
        self._local = threading.local()
        self.restored: dict[str, int] = {}

    # the records of one request go on one line, durable before the request is answered
    @contextlib.contextmanager
    def change(self) -> Iterator[None]:
        if getattr(self._local, "records", None) is not None:  # nested: the outer one writes
            yield
            return
        with self.lock:
            self._local.records = []
            try:
                yield
            except BaseException:
                self._local.records = None
                raise
            records, self._local.records = self._local.records, None
            ticket = self._append(records) if records else None
        if ticket is not None:
            self.journal.sync(ticket)
            if self.journal.bytes > COMPACT_AT_BYTES:
                threading.Thread(target=self.compact, daemon=True).start()

    def record(self, record: dict[str, Any]) -> None:
        records = getattr(self._local, "records", None)
        if records is None:  # outside a request (a move to a dead-letter queue): a line of its own
            with self.lock:
                ticket = self._append([record])
            self.journal.sync(ticket)
        else:
            records.append(record)

    def _append(self, records: list[dict[str, Any]]) -> int:
        for record in records:
            if "c" in record:
                self._track(record)
        return self.journal.append({"r": records})

    def _track(self, record: dict[str, Any]) -> None:
        service, method = record["c"].split(".")
        resource = (service, record["a"], record["r"], record["n"])
        if method in _DELETES:
            self.calls.pop(resource, None)
        elif method in _CREATES:
            self.calls.setdefault(resource, [record])
        elif resource in self.calls and method != "purge_queue":
            _append_call(self.calls[resource], record)

    @property
    def in_send(self) -> bool:
        return bool(getattr(self._local, "in_send", False))

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        self._local.in_send = True
        try:
            yield
        finally:
            self._local.in_send = False

    # --- start and compaction --------------------------------------------------------

    def load(self) -> State:
        """The saved state: the snapshot, then the journal after it."""
        state = State()
        for path in (self.state_dir / SNAPSHOT_FILE, self.state_dir / JOURNAL_FILE):
            for line in read_journal(path):
                if "format" in line:
                    if line["format"] != SNAPSHOT_FORMAT:
                        raise ValueError(f"{path}: unknown format {line['format']!r}")
                    continue
                for record in line["r"]:
                    state.apply(record)
        return state

    def restore(self) -> dict[str, int]:
        """Load the saved state into moto, then compact; the counts restored."""
        state = self.load()
        restore(state)
        self.calls = dict(state.calls)
        self.restored = state.counts()
        self.compact()
        return self.restored

    def compact(self) -> None:
        """A snapshot of the current state; the journal starts over."""
        with self.lock:
            if self.journal.bytes == 0 and (self.state_dir / SNAPSHOT_FILE).exists():
                return
            path = self.state_dir / SNAPSHOT_FILE
            partial = path.with_name(path.name + ".partial")
            with open(partial, "wb") as file:
                file.write(dumps({"format": SNAPSHOT_FORMAT, "at": time.time()}))
                batch: list[dict[str, Any]] = []
                for record in dump(self.calls):
                    batch.append(record)
                    if len(batch) == 100:
                        file.write(dumps({"r": batch}))
                        batch = []
                if batch:
                    file.write(dumps({"r": batch}))
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, path)
            # A crash here replays the old journal over the new snapshot: the same end state.
            self.journal.replace([])

    def sweep_expired(self, now_s: float | None = None) -> int:
        """Delete the items whose TTL attribute is past (DynamoDB does it within days)."""
        now_s = time.time() if now_s is None else now_s
        deleted = 0
        for service, account, region, name in list(self.calls):
            if service != "dynamodb":
                continue
            backend = _backends("dynamodb")[account][region]
            with self.change():
                try:
                    table = backend.get_table(name)
                except Exception:
                    continue
                attribute = table.ttl.get("AttributeName")
                if table.ttl.get("TimeToLiveStatus") != "ENABLED" or not attribute:
                    continue
                for item in list(table.all_items()):
                    value = item.attrs.get(attribute)
                    if value is None or value.type != "N" or float(value.value) >= now_s:
                        continue
                    attrs = _item_json(item)
                    assert attrs is not None
                    backend.delete_item(name, _item_key(table, attrs))
                    deleted += 1
        return deleted

    def close(self) -> None:
        self.journal.close()
        self._lock_file.close()


# --- hooks into moto ----------------------------------------------------------------------


def activate(persistence: Persistence | None) -> None:
    """Journal moto's changes into ``persistence`` (None: stop journaling)."""
    _install()
    _slot.persistence = persistence


def _wrap(cls: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(cls, name)
    _originals[(cls, name)] = original
    wrapper = make(original)
    functools.update_wrapper(wrapper, original)
    setattr(cls, name, wrapper)


def _install() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.s3.models import S3Backend
    from moto.sqs.models import Queue, SQSBackend
    from moto.sqs.responses import SQSResponse

    from timer_service_local.moto_patches import (
        cached_module_list,
        fast_transactions,
        visibility_zero_releases,
    )

    if (DynamoDBBackend, "put_item") in _originals:
        return
    fast_transactions()
    cached_module_list()
    visibility_zero_releases()

    def request(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any) -> Any:
            if _slot.persistence is None:
                return original(self)
            with _slot.persistence.change():
                return original(self)

        return wrapper

    # Every DynamoDB request is one change (reads too: moto's tables are not thread-safe).
    _wrap(DynamoHandler, "call_action", request)
    for name in ("send_message_batch", "delete_message_batch"):
        _wrap(SQSResponse, name, request)

    for service, cls in (("dynamodb", DynamoDBBackend), ("sqs", SQSBackend), ("s3", S3Backend)):
        for method, argument in _DEFINITIONS[service].items():
            _wrap(cls, method, _definition(service, method, argument))

    def item_change(key_of: Callable[..., dict[str, Any]]) -> Any:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
                if _slot.persistence is None:
                    return original(self, table_name, *args, **kwargs)
                with _slot.persistence.change():
                    result = original(self, table_name, *args, **kwargs)
                    table = self.get_table(table_name)
                    key = key_of(table, *args, **kwargs)
                    _slot.persistence.record(
                        {
                            "a": self.account_id,
                            "r": self.region_name,
                            "t": table_name,
                            "k": key,
                            "item": _item_json(self.get_item(table_name, key)),
                        }
                    )
                return result

            return wrapper

        return make

    def put_key(table: Any, item_attrs: dict[str, Any], *_: Any, **__: Any) -> dict[str, Any]:
        return _item_key(table, item_attrs)

    def given_key(table: Any, key: dict[str, Any], *_: Any, **__: Any) -> dict[str, Any]:
        return _item_key(table, key)

    _wrap(DynamoDBBackend, "put_item", item_change(put_key))
    _wrap(DynamoDBBackend, "update_item", item_change(given_key))
    _wrap(DynamoDBBackend, "delete_item", item_change(given_key))

    def send_message(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
            if _slot.persistence is None:
                return original(self, queue_name, *args, **kwargs)
            with _slot.persistence.change(), _slot.persistence.sending():
                message = original(self, queue_name, *args, **kwargs)
                _slot.persistence.record(
                    {
                        "a": self.account_id,
                        "r": self.region_name,
                        "q": queue_name,
                        "msg": _message_record(message),
                    }
                )
            return message

        return wrapper

    def delete_message(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, queue_name: str, receipt_handle: str) -> Any:
            if _slot.persistence is None:
                return original(self, queue_name, receipt_handle)
            with _slot.persistence.change():
                queue = self.get_queue(queue_name)
                message_id = next(
                    (m.id for m in queue._messages if m.had_receipt_handle(receipt_handle)), None
                )
                result = original(self, queue_name, receipt_handle)
                if message_id is not None:
                    _slot.persistence.record(
                        {
                            "a": self.account_id,
                            "r": self.region_name,
                            "q": queue_name,
                            "gone": message_id,
                        }
                    )
            return result

        return wrapper

    def add_message(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, message: Any) -> Any:
            result = original(self, message)
            if (
                _slot.persistence is not None and not _slot.persistence.in_send
            ):  # moved to a dead-letter queue
                _slot.persistence.record(
                    {
                        "a": self.account_id,
                        "r": self.region,
                        "q": self.name,
                        "msg": _message_record(message),
                    }
                )
            return result

        return wrapper

    _wrap(SQSBackend, "send_message", send_message)
    _wrap(SQSBackend, "delete_message", delete_message)
    _wrap(Queue, "add_message", add_message)

    def object_change(original: Callable[..., Any], *, deleted: bool) -> Callable[..., Any]:
        def wrapper(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
            if _slot.persistence is None:
                return original(self, bucket_name, key_name, *args, **kwargs)
            with _slot.persistence.change():
                result = original(self, bucket_name, key_name, *args, **kwargs)
                value = None if deleted else args[0] if args else kwargs["value"]
                _slot.persistence.record(
                    {
                        "a": self.account_id,
                        "r": self.region_name,
                        "b": bucket_name,
                        "k": key_name,
                        "obj": value,
                    }
                )
            return result

        return wrapper

    _wrap(S3Backend, "put_object", functools.partial(object_change, deleted=False))
    _wrap(S3Backend, "delete_object", functools.partial(object_change, deleted=True))


def _definition(service: str, method: str, argument: str) -> Any:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(original)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if _slot.persistence is None:
                return original(self, *args, **kwargs)
            bound = signature.bind(self, *args, **kwargs)
            arguments = dict(bound.arguments)
            arguments.pop("self")
            arguments.update(arguments.pop("kwargs", {}))  # create_queue(**attributes)
            with _slot.persistence.change():
                result = original(self, *args, **kwargs)
                _slot.persistence.record(
                    {
                        "c": f"{service}.{method}",
                        "a": self.account_id,
                        "r": self.region_name,
                        "n": arguments[argument],
                        "k": arguments,
                    }
                )
            return result

        return wrapper

    return make


# --- the process --------------------------------------------------------------------------


def serve(state_dir: Path | None, *, host: str, port: int, out: IO[str]) -> None:
    """Restore, serve, report ``{"url": ...}`` on ``out``; return when stdin closes."""
    from cheroot import wsgi
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    persistence = None
    restored: dict[str, int] = {}
    if state_dir is not None:
        persistence = Persistence(state_dir)
        _install()
        restored = persistence.restore()
        activate(persistence)
        persistence.sweep_expired()  # what expired while the stack was down
    else:
        _install()
    # moto's own server (werkzeug's, a thread per connection) takes 5 ms a GetItem here;
    # cheroot's pool of threads 3 ms.
    app = DomainDispatcherApplication(create_backend_app)
    server = wsgi.Server(
        (host, port), app, numthreads=SERVER_THREADS, server_name="timer-service-emulator"
    )
    server.prepare()
    server.wsgi_app = loopback_only(app, port=server.bind_addr[1])  # the port, once bound
    threading.Thread(target=server.serve, daemon=True, name="http").start()
    bound_host, bound_port = server.bind_addr[:2]
    out.write(json.dumps({"url": f"http://{bound_host}:{bound_port}", "restored": restored}))
    out.write("\n")
    out.flush()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the stack, which stops us

    def watch_stdin() -> None:
        with contextlib.suppress(OSError):
            while os.read(sys.stdin.fileno(), 1024):
                pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True, name="stdin").start()
    while not stop.wait(TTL_SWEEP_S):
        if persistence is not None:
            try:
                persistence.sweep_expired()
            except Exception:
                logger.exception("TTL sweep failed")
    if persistence is not None:
        with persistence.lock:  # no change half-written; then out, without waiting on moto
            persistence.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m timer_service_local.emulator")
    parser.add_argument("--state-dir", type=Path, help="keep state here (default: in memory)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="emulator: %(levelname)s %(message)s")
    try:
        serve(args.state_dir, host=args.host, port=args.port, out=sys.stdout)
    except StateInUseError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 1
    sys.stdout.flush()
    os._exit(0)  # moto's server threads need not wind down


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


if __name__ == "__main__":
    raise SystemExit(main())
