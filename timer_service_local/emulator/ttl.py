"""DynamoDB's TTL, which moto does not apply: items past their expiry attribute are deleted."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from timer_service_local.emulator.backends import backends
from timer_service_local.emulator.records import item_json, item_key

if TYPE_CHECKING:
    from timer_service_local.emulator.persistence import Persistence

__all__ = ["TTL_SWEEP_S", "sweep_expired"]

TTL_SWEEP_S = 60.0


def sweep_expired(persistence: Persistence, now_s: float | None = None) -> int:
    """Delete the items whose TTL attribute is past (DynamoDB does it within days)."""
    now_s = time.time() if now_s is None else now_s
    deleted = 0
    for service, account, region, name in list(persistence.calls):
        if service != "dynamodb":
            continue
        backend = backends("dynamodb")[account][region]
        with persistence.change():
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
                attrs = item_json(item)
                assert attrs is not None
                backend.delete_item(name, item_key(table, attrs))
                deleted += 1
    return deleted
