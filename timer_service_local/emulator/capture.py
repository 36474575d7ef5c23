"""Wrappers on moto's backends that record every change they make, one request at a time."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from timer_service_local.emulator.records import (
    DEFINITIONS,
    item_json,
    item_key,
    message_record,
)

__all__ = ["Recorder", "activate", "install", "original"]


class Recorder(Protocol):
    """Where the wrappers put records (a :class:`~.persistence.Persistence`)."""

    @property
    def in_send(self) -> bool: ...

    def change(self) -> AbstractContextManager[None]: ...

    def sending(self) -> AbstractContextManager[None]: ...

    def record(self, record: dict[str, Any]) -> None: ...


class _Slot:
    recorder: Recorder | None = None  # where moto's changes go; None: not journaled


_slot = _Slot()
_originals: dict[tuple[type, str], Callable[..., Any]] = {}


def activate(recorder: Recorder | None) -> None:
    """Journal moto's changes into ``recorder`` (None: stop journaling)."""
    install()
    _slot.recorder = recorder


def original(cls: type, name: str) -> Callable[..., Any]:
    """``cls.name`` as moto defines it, without the wrapper that records it."""
    method: Callable[..., Any] = _originals.get((cls, name)) or getattr(cls, name)
    return method


def _wrap(cls: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    method = getattr(cls, name)
    _originals[(cls, name)] = method
    wrapper = make(method)
    functools.update_wrapper(wrapper, method)
    setattr(cls, name, wrapper)


def install() -> None:
    """Wrap moto's backends (once), with the patches of :mod:`timer_service_local.moto_patches`."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.s3.models import S3Backend
    from moto.sqs.models import Queue, SQSBackend
    from moto.sqs.responses import SQSResponse

    from timer_service_local.moto_patches import (
        cached_module_list,
        fast_transactions,
        no_queue_scans,
        visibility_zero_releases,
    )

    if (DynamoDBBackend, "put_item") in _originals:
        return
    fast_transactions()
    cached_module_list()
    visibility_zero_releases()
    no_queue_scans()

    # Every DynamoDB request is one change (reads too: moto's tables are not thread-safe).
    _wrap(DynamoHandler, "call_action", _request)
    for name in ("send_message_batch", "delete_message_batch"):
        _wrap(SQSResponse, name, _request)

    for service, cls in (("dynamodb", DynamoDBBackend), ("sqs", SQSBackend), ("s3", S3Backend)):
        for method, argument in DEFINITIONS[service].items():
            _wrap(cls, method, _definition(service, method, argument))

    _wrap(DynamoDBBackend, "put_item", _item_change(_put_key))
    _wrap(DynamoDBBackend, "update_item", _item_change(_given_key))
    _wrap(DynamoDBBackend, "delete_item", _item_change(_given_key))

    _wrap(SQSBackend, "send_message", _send_message)
    _wrap(SQSBackend, "delete_message", _delete_message)
    _wrap(Queue, "add_message", _add_message)

    _wrap(S3Backend, "put_object", functools.partial(_object_change, deleted=False))
    _wrap(S3Backend, "delete_object", functools.partial(_object_change, deleted=True))


def _request(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any) -> Any:
        if _slot.recorder is None:
            return original(self)
        with _slot.recorder.change():
            return original(self)

    return wrapper


def _definition(service: str, method: str, argument: str) -> Any:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(original)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            recorder = _slot.recorder
            if recorder is None:
                return original(self, *args, **kwargs)
            bound = signature.bind(self, *args, **kwargs)
            arguments = dict(bound.arguments)
            arguments.pop("self")
            arguments.update(arguments.pop("kwargs", {}))  # create_queue(**attributes)
            with recorder.change():
                result = original(self, *args, **kwargs)
                recorder.record(
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


def _put_key(table: Any, item_attrs: dict[str, Any], *_: Any, **__: Any) -> dict[str, Any]:
    return item_key(table, item_attrs)


def _given_key(table: Any, key: dict[str, Any], *_: Any, **__: Any) -> dict[str, Any]:
    return item_key(table, key)


def _item_change(key_of: Callable[..., dict[str, Any]]) -> Any:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
            recorder = _slot.recorder
            if recorder is None:
                return original(self, table_name, *args, **kwargs)
            with recorder.change():
                result = original(self, table_name, *args, **kwargs)
                table = self.get_table(table_name)
                key = key_of(table, *args, **kwargs)
                recorder.record(
                    {
                        "a": self.account_id,
                        "r": self.region_name,
                        "t": table_name,
                        "k": key,
                        "item": item_json(self.get_item(table_name, key)),
                    }
                )
            return result

        return wrapper

    return make


def _send_message(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        recorder = _slot.recorder
        if recorder is None:
            return original(self, queue_name, *args, **kwargs)
        with recorder.change(), recorder.sending():
            message = original(self, queue_name, *args, **kwargs)
            recorder.record(
                {
                    "a": self.account_id,
                    "r": self.region_name,
                    "q": queue_name,
                    "msg": message_record(message),
                }
            )
        return message

    return wrapper


def _delete_message(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any, queue_name: str, receipt_handle: str) -> Any:
        recorder = _slot.recorder
        if recorder is None:
            return original(self, queue_name, receipt_handle)
        with recorder.change():
            queue = self.get_queue(queue_name)
            message_id = next(
                (m.id for m in queue._messages if m.had_receipt_handle(receipt_handle)), None
            )
            result = original(self, queue_name, receipt_handle)
            if message_id is not None:
                recorder.record(
                    {
                        "a": self.account_id,
                        "r": self.region_name,
                        "q": queue_name,
                        "gone": message_id,
                    }
                )
        return result

    return wrapper


def _add_message(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any, message: Any) -> Any:
        result = original(self, message)
        recorder = _slot.recorder
        if recorder is not None and not recorder.in_send:  # moved to a dead-letter queue
            recorder.record(
                {
                    "a": self.account_id,
                    "r": self.region,
                    "q": self.name,
                    "msg": message_record(message),
                }
            )
        return result

    return wrapper


def _object_change(original: Callable[..., Any], *, deleted: bool) -> Callable[..., Any]:
    def wrapper(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        recorder = _slot.recorder
        if recorder is None:
            return original(self, bucket_name, key_name, *args, **kwargs)
        with recorder.change():
            result = original(self, bucket_name, key_name, *args, **kwargs)
            value = None if deleted else args[0] if args else kwargs["value"]
            recorder.record(
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
