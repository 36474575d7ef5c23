"""Per-shard tick Lambda: ``{"shard": n}`` from its EventBridge schedule, once a minute."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from timer_service import wiring
from timer_service.observability import EmfMetrics
from timer_service.tick import TickEngine

logger = Logger(service="timer-ticker")
tracer = Tracer(service="timer-ticker")
metrics = Metrics(namespace="TimerService", service="timer-ticker")


class TickEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    shard: int = Field(ge=0)


wired = wiring.Wired()  # this instance's settings, clock and engine (tests set theirs)
_engine = wired.part(
    lambda context: wiring.tick_engine(context.settings, context.clock, metrics=EmfMetrics(metrics))
)


def use_engine(engine: TickEngine | None) -> None:
    """Tick with ``engine`` instead of the one built from the environment (tests, local)."""
    _engine.use(engine)


def engine() -> TickEngine:
    return _engine()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    shard = TickEvent.model_validate(event).shard
    logger.append_keys(shard=shard)
    tracer.put_annotation(key="shard", value=shard)
    report = engine().tick(shard)
    tracer.put_annotation(key="firingsSent", value=report.sent)
    logger.info("tick", extra={"report": report.__dict__})
    return report.__dict__
