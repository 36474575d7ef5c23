"""A timer's definition copied into its index items, so delivery need not read the timer.

The callbacks used to read each firing's timer, strongly consistent, at its second: a
``BatchGetItem`` billed per item, each rounded up to 4 KB, so one read unit a firing. The
ticker already queries the index items, billed on their bytes together: a definition there
costs its bytes. The copy is taken in the same write as the timer (``write_timer``), so it is
the timer as of its firing version; a write after the ticker read the copy is in the shard's
change log (:mod:`timer_service.change_log`), which delivery reads once a pack and which sends
a firing of a changed timer back to the strong read.

Only what cannot change without rewriting the index items may be trusted from a copy: a
failure streak's count (``alerts``, ``pauseAfterFailures``) and an ``overlap: skip`` mark are
written to the timer alone, so such timers get no copy, and their firings read the timer.
"""

from __future__ import annotations

import json
from typing import Any

from timer_service.models import Timer

__all__ = ["MAX_SNAPSHOT_BYTES", "snapshot_of", "timer_from_snapshot"]

MAX_SNAPSHOT_BYTES = 1024  # larger definitions are read as before: index items stay small
# Known from the firing (its owner, id, shard and incarnation), or not needed to run it: the
# ticker reads every copy once a minute, billed by the byte.
_LEFT_OUT = {"owner", "id", "shard", "created_s", "first_fire_s", "firing_weight", "updated_s"}


def snapshot_of(timer: Timer) -> str | None:
    """The copy of ``timer`` its index items carry, or None when its firings must read it."""
    if timer.alerts is not None or timer.pause_after_failures is not None:
        return None
    if timer.overlap != "allow" or timer.ping_hash is not None:
        return None
    text = timer.model_dump_json(exclude_defaults=True, exclude=_LEFT_OUT)
    return text if len(text.encode()) <= MAX_SNAPSHOT_BYTES else None


def timer_from_snapshot(
    snapshot: str, owner: str, timer_id: str, *, shard: int, created_s: int
) -> Timer:
    """The timer as its copy holds it (``first_fire_s`` is not in it: delivery of a firing
    that is not its timer's last does not need it)."""
    fields: dict[str, Any] = json.loads(snapshot)
    known = {"owner": owner, "id": timer_id, "shard": shard, "created_s": created_s}
    return Timer.model_validate({**fields, **known, "updated_s": created_s})
