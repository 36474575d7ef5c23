"""A timer's definition copied into its index items, so delivery need not read the timer.

The callbacks used to read each firing's timer, strongly consistent, at its second: a
``BatchGetItem`` billed per item, each rounded up to 4 KB, so one read unit a firing. The
ticker already queries the index items, billed on their bytes together: a definition there
costs its bytes. The copy is taken in the same write as the timer (``write_timer``), so it is
the timer as of its firing version; a write after the ticker read the copy is in the shard's
change log (:mod:`timer_service.change_log`), which delivery reads once a pack and which sends
a firing of a changed timer back to the strong read.

A copy is stored deflated against a preset dictionary of the definition's common parts (its
field names, job types, the webhook's defaults): a rate timer's copy is 17 characters, not 48,
and the ticker's index reads cost about what they did before copies (``loadtest cost``). Its
text is ``1`` (the dictionary's version) and the bytes in base64; a copy written before is its
JSON. Index items keep it as text, which a ticker of the release before passes on as it is.

Only what cannot change without rewriting the index items may be trusted from a copy: a
failure streak's count (``alerts``, ``pauseAfterFailures``) and an ``overlap: skip`` mark are
written to the timer alone, so such timers get no copy, and their firings read the timer.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from timer_service.models import Timer

__all__ = [
    "MAX_SNAPSHOT_BYTES",
    "is_deflated",
    "snapshot_json",
    "snapshot_of",
    "timer_from_snapshot",
]

MAX_SNAPSHOT_BYTES = 1024  # larger definitions are read as before: index items stay small
# Known from the firing (its owner, id, shard and incarnation), or not needed to run it: the
# ticker reads every copy once a minute, billed by the byte.
_LEFT_OUT = {"owner", "id", "shard", "created_s", "first_fire_s", "firing_weight", "updated_s"}


# Never changed once copies use it (a new one takes the next version): what a copy's JSON is
# likely to hold, the most likely last (deflate finds the nearest match first).
_DICTIONARY_1 = (
    b'"prior_until_s":"prior_version":"schedule_version":"version":"labels":{"paused_reason":'
    b'"max_per_second":"max_concurrency":"concurrency_key":"on_complete":"delete","max_fire_s":'
    b'"max_firings":"jitter_s":"catch_up_window_s":"history":"all","changes","failures","none",'
    b'"delivery":"deduplicated","misfire_policy":"fireAll","skip","enabled":false,'
    b'"callback_data":{"end_s":"start_s":"timezone":"Europe/America/Asia/UTC",'
    b'"job":{"url":"https://","method":"POST","body":"headers":{"Authorization":"Bearer '
    b'"Content-Type":"application/json"},"connectTimeoutSeconds":3.0,"readTimeoutSeconds":10.0,'
    b'"totalTimeoutSeconds":15.0}},"job_type":"html_monitor","job":{"url":"https://",'
    b'"job_type":"ec2","job_type":"sns","job_type":"lambda","job_type":"sqs","job_type":"webhook",'
    b'{"schedule":"at(20{"schedule":"cron(0 * * * ? *)","job_type":"{"schedule":"rate(5 minutes)",'
    b'"job_type":"{"schedule":"rate(1 hour)","job_type":"{"schedule":"rate(1 minute)","job_type":"'
)
_DICTIONARIES = {"1": _DICTIONARY_1}


def snapshot_of(timer: Timer) -> str | None:
    """The copy of ``timer`` its index items carry, or None when its firings must read it."""
    if timer.alerts is not None or timer.pause_after_failures is not None:
        return None
    if timer.overlap != "allow" or timer.ping_hash is not None:
        return None
    text = timer.model_dump_json(exclude_defaults=True, exclude=_LEFT_OUT)
    if len(text.encode()) > MAX_SNAPSHOT_BYTES:
        return None
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY_1)
    packed = deflate.compress(text.encode()) + deflate.flush()
    return "1" + base64.b64encode(packed).decode()


def is_deflated(snapshot: str | None) -> bool:
    """Whether a copy is deflated (written by this release or later), not its JSON."""
    return snapshot is not None and snapshot[:1] in _DICTIONARIES


def snapshot_json(snapshot: str) -> str:
    """The JSON of a copy; ValueError when it is not one the service writes."""
    if snapshot.startswith("{"):
        return snapshot
    dictionary = _DICTIONARIES.get(snapshot[:1])
    if dictionary is None:
        raise ValueError("not a timer's copy")
    try:
        inflate = zlib.decompressobj(-15, zdict=dictionary)
        text = inflate.decompress(base64.b64decode(snapshot[1:], validate=True), 64 * 1024)
    except (zlib.error, binascii.Error) as exc:
        raise ValueError(f"not a timer's copy: {exc}") from exc
    if inflate.unconsumed_tail:
        raise ValueError("not a timer's copy: too long")
    return text.decode()


def timer_from_snapshot(
    snapshot: str, owner: str, timer_id: str, *, shard: int, created_s: int
) -> Timer:
    """The timer as its copy holds it (``first_fire_s`` is not in it: delivery of a firing
    that is not its timer's last does not need it)."""
    fields: dict[str, Any] = json.loads(snapshot_json(snapshot))
    known = {"owner": owner, "id": timer_id, "shard": shard, "created_s": created_s}
    return Timer.model_validate({**fields, **known, "updated_s": created_s})
