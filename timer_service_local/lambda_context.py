"""A stand-in for the Lambda context object when the local stack invokes handlers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = ["LocalContext"]


@dataclass
class LocalContext:
    """The parts of a Lambda context that powertools reads."""

    function_name: str = "timer-api"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = ""  # the function's own, unless given
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        if not self.invoked_function_arn:
            arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
            self.invoked_function_arn = arn

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
