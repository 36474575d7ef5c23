"""Saves the local table to a file on shutdown and loads it on start, so timers survive restarts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timer_service.dispatch import Firing

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["load_firings", "load_table", "save_firings", "save_table"]

_FORMAT = 2  # 2: index items are compact (rebuilt from the timers on load either way)
_READABLE = (1, 2)
_BATCH = 25  # BatchWriteItem's limit


def save_table(client: DynamoDBClient, table: str, path: Path) -> int:
    """Write every item of ``table`` to ``path`` atomically; the number of items."""
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"format": _FORMAT, "table": table, "items": items}))
    os.replace(partial, path)
    return len(items)


def load_table(client: DynamoDBClient, table: str, path: Path) -> int:
    """Put the items saved at ``path`` into ``table``, but the time index (derived data: the
    caller rebuilds it from the timers); the number of items (0 without a file)."""
    if not path.exists():
        return 0
    saved = json.loads(path.read_text())
    if saved.get("format") not in _READABLE:
        raise ValueError(f"{path}: unknown state format {saved.get('format')!r}")
    items = [item for item in saved["items"] if not item["pk"]["S"].startswith("S#")]
    for start in range(0, len(items), _BATCH):
        requests: dict[str, Any] = {
            table: [{"PutRequest": {"Item": item}} for item in items[start : start + _BATCH]]
        }
        while requests:
            response = client.batch_write_item(RequestItems=requests)
            requests = response.get("UnprocessedItems") or {}
    return len(items)


def save_firings(firings: list[Firing], path: Path) -> None:
    """Keep firings that were sent by a tick but not yet handed to the queue."""
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps([firing.to_message() for firing in firings]))
    os.replace(partial, path)


def load_firings(path: Path) -> list[Firing]:
    """The firings kept by :func:`save_firings`; the file is removed once read."""
    if not path.exists():
        return []
    firings = [Firing.from_message(text) for text in json.loads(path.read_text())]
    path.unlink()
    return firings
