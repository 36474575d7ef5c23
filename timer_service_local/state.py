"""The local stack's state files before the journal (``dynamodb.json``, ``firings.json``):
read once, when a state directory written by an earlier version is first started."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timer_service.dispatch import Firing

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["load_firings", "load_table"]

_READABLE = (1, 2)
_BATCH = 25  # BatchWriteItem's limit


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


def load_firings(path: Path) -> list[Firing]:
    """The firings an earlier version kept at shutdown (the caller removes the file once
    they are safe elsewhere)."""
    if not path.exists():
        return []
    return [Firing.from_message(text) for text in json.loads(path.read_text())]
