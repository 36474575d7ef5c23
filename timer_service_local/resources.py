"""The local stack's AWS resources: its tables, queues and bucket, made if missing."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from timer_service_local.endpoint import SIGNING_KEY_FILE, Resources

__all__ = [
    "LOCAL_IDEMPOTENCY_TABLE",
    "LOCAL_QUEUE_PREFIX",
    "LOCAL_SNAPSHOT_BUCKET",
    "LOCAL_TABLE",
    "provision",
    "signing_key",
]

LOCAL_TABLE = "timer-service"
LOCAL_IDEMPOTENCY_TABLE = "timer-service-idempotency"
LOCAL_QUEUE_PREFIX = "timer-service"
LOCAL_SNAPSHOT_BUCKET = "timer-service-snapshots"


def provision(embedded_url: str | None) -> Resources:
    """Make the resources at ``embedded_url`` (None: the environment's endpoint and names)."""
    from timer_service.aws import client, dynamodb_client, sqs_client
    from timer_service.provisioning import (
        create_bucket,
        create_idempotency_table,
        create_queues,
        create_table,
    )
    from timer_service.settings import Settings

    environment = Settings.from_env()
    base = environment.model_copy(update={"endpoint_url": embedded_url or environment.endpoint_url})
    table = environment.table_name if embedded_url is None else LOCAL_TABLE
    idempotency = (
        environment.idempotency_table or LOCAL_IDEMPOTENCY_TABLE
        if embedded_url is None
        else LOCAL_IDEMPOTENCY_TABLE
    )
    create_table(dynamodb_client(base), table)
    create_idempotency_table(dynamodb_client(base), idempotency)
    queues = create_queues(
        sqs_client(base), LOCAL_QUEUE_PREFIX, max_receive_count=base.max_attempts
    )
    bucket = base.snapshot_bucket
    if embedded_url is not None:
        bucket = LOCAL_SNAPSHOT_BUCKET
        create_bucket(client("s3", base.region, embedded_url), bucket)
    return Resources(
        base.endpoint_url, table, idempotency, queues.dispatch, queues.dlq, queues.output, bucket
    )


def signing_key(state_dir: Path) -> str:
    """The stack's message signing key: made once, kept in the state directory (mode 0600)."""
    path = state_dir / SIGNING_KEY_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
