"""The base of the API's JSON models: camelCase on the wire, snake_case in Python, immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = ["CamelModel"]


class CamelModel(BaseModel):
    """Read by either name (``timerId`` or ``timer_id``), written by alias; frozen."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)
