"""What a running local stack tells the other commands: its resources (``endpoint.json``) and
its message signing key, in its state directory. Light to import: the CLI reads it without the
local stack's dependencies."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENDPOINT_FILE", "SIGNING_KEY_FILE", "Resources"]

ENDPOINT_FILE = "endpoint.json"  # where a running local stack tells the other commands its URLs
SIGNING_KEY_FILE = "signing.key"  # signs the stack's queue messages (MESSAGE_SIGNING_KEY)


@dataclass
class Resources:
    """What the stack's resources are called (its ``endpoint.json``)."""

    endpoint_url: str | None
    table: str
    idempotency_table: str
    dispatch_queue_url: str
    dlq_url: str
    output_queue_url: str
    snapshot_bucket: str | None = None
    api_url: str | None = None  # the API's URL: `timer-service timers` calls it by default
