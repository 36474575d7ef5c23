"""``delivery: deduplicated``: powertools Idempotency keyed by the firing id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from timer_service.delivery import RunOnce

__all__ = ["IDEMPOTENCY_TTL_S", "make_run_once"]

IDEMPOTENCY_TTL_S = 7 * 86400  # a firing id is remembered this long


def make_run_once(table_name: str, client: Any, config: IdempotencyConfig) -> RunOnce:
    """Runs an action at most once per firing id, recorded in ``table_name``.

    Each config gets its own persistence layer: powertools keeps per-function state there.
    """
    persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)

    @idempotent_function(
        data_keyword_argument="firing", persistence_store=persistence, config=config
    )
    def run(*, firing: dict[str, str], action: Callable[[], None]) -> dict[str, str]:
        action()
        return {"firingId": firing["firingId"]}

    def runner(firing_id: str, action: Callable[[], None]) -> None:
        run(firing={"firingId": firing_id}, action=action)

    return runner


def firing_config() -> IdempotencyConfig:
    return IdempotencyConfig(event_key_jmespath="firingId", expires_after_seconds=IDEMPOTENCY_TTL_S)
