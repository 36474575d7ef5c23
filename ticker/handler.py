"""Per-shard tick Lambda: ``{"shard": n}`` from its EventBridge schedule, once a minute."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from timer_service import wiring
from timer_service.clock import SystemClock
from timer_service.observability import EmfMetrics
from timer_service.settings import Settings
from timer_service.tick import TickEngine, TickSettings

logger = Logger(service="timer-ticker")
tracer = Tracer(service="timer-ticker")
metrics = Metrics(namespace="TimerService", service="timer-ticker")


class TickEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    shard: int = Field(ge=0)


_override: list[TickEngine] = []


def use_engine(engine: TickEngine | None) -> None:
    """Tick with ``engine`` instead of the one built from the environment (tests, local)."""
    _override.clear()
    if engine is not None:
        _override.append(engine)


def engine() -> TickEngine:
    return _override[0] if _override else _default_engine()


@cache
def _default_engine() -> TickEngine:
    settings = wiring.resolved(Settings.from_env())
    clock = SystemClock()
    return TickEngine(
        store=wiring.timer_store(settings),
        queue=wiring.dispatch_queue(settings, clock),
        clock=clock,
        settings=TickSettings.from_settings(settings),
        metrics=EmfMetrics(metrics),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    shard = TickEvent.model_validate(event).shard
    logger.append_keys(shard=shard)
    report = engine().tick(shard)
    logger.info("tick", extra={"report": report.__dict__})
    return report.__dict__
