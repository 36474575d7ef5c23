"""An AWS endpoint inside this process (moto server on 127.0.0.1), for the local stack and tests."""

from __future__ import annotations

import logging
import os
import threading
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["EmbeddedAws", "fake_credentials", "lighten_moto_transactions"]


class EmbeddedAws:
    """A moto server on a free loopback port; ``url`` is its endpoint."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request
        lighten_moto_transactions()
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.url = ""

    def start(self) -> EmbeddedAws:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def reset(self) -> None:
        """Forget every resource (moto's reset API)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> EmbeddedAws:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextmanager
def fake_credentials() -> Iterator[None]:
    """Credentials and region for an emulator, so no real account is ever reached."""
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1"
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_local = threading.local()


def lighten_moto_transactions() -> None:
    """Make moto's TransactWriteItems cost O(items touched), not O(table) per item.

    moto snapshots every table a transaction names with a deep copy, once per item, before
    it applies the transaction (to roll back on failure): creating a thousand timers then takes
    minutes. The snapshot here is a shallow copy of the table's item map, with deep copies of
    only the items an ``Update`` may change in place; rollback restores it exactly as before.
    """
    import copy

    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, "_lightened", False):
        return
    original = DynamoDBBackend.transact_write_items

    def snapshot(table: Table) -> Table:
        light = copy.copy(table)
        items = table.items
        if table.range_key_attr:
            light.items = defaultdict(dict, {h: dict(r) for h, r in items.items()})
        else:
            light.items = defaultdict(dict, items)
        for table_name, key in getattr(_local, "updated", ()):
            if table_name != table.name:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            if table.range_key_attr:
                range_value = DynamoType(key[table.range_key_attr])
                item = items.get(hash_value, {}).get(range_value)
                if item is not None:
                    light.items[hash_value][range_value] = copy.deepcopy(item)
            elif hash_value in items:
                light.items[hash_value] = copy.deepcopy(items[hash_value])
        return light

    class _CopyShim:
        def __getattr__(self, name: str) -> object:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: object, memo: object = None) -> object:
            if isinstance(value, Table) and getattr(_local, "in_transaction", False):
                return snapshot(value)
            return copy.deepcopy(value, memo)  # type: ignore[arg-type]

    def transact_write_items(
        self: DynamoDBBackend, transact_items: list[dict[str, object]]
    ) -> None:
        updated = []
        for action in transact_items:
            verb, operation = next(iter(action.items()))
            if verb == "Update" and isinstance(operation, dict):
                updated.append((operation.get("TableName"), operation.get("Key", {})))
        _local.updated, _local.in_transaction = updated, True
        try:
            original(self, transact_items)
        finally:
            _local.updated, _local.in_transaction = (), False

    transact_write_items._lightened = True  # type: ignore[attr-defined]
    setattr(backend_module, "copy", _CopyShim())  # noqa: B010 - replaces a module global
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
