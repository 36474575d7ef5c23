"""The metrics port on powertools Metrics (CloudWatch EMF), for the Lambda handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics as PowertoolsMetrics

__all__ = ["EmfMetrics"]


class EmfMetrics:
    """Adapts the core's ``count(name, value, unit=...)`` to powertools Metrics."""

    def __init__(self, metrics: PowertoolsMetrics) -> None:
        self._metrics = metrics

    def count(self, name: str, value: float = 1, *, unit: str = "Count") -> None:
        self._metrics.add_metric(name=name, unit=unit, value=value)
