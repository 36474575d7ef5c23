"""What the local stack takes (``timer-service dev``'s options) and what a start found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from timer_service.limits import MAX_FIRINGS_PER_MINUTE, MAX_TIMERS_PER_OWNER

__all__ = ["Recovery", "StackConfig"]


@dataclass(frozen=True)
class StackConfig:
    """What ``timer-service dev`` takes; the defaults are its defaults."""

    host: str = "127.0.0.1"
    port: int = 8080  # 0: any free port
    shards: int = 4
    api_keys: Sequence[str] = ()
    rate_limit: float = 50.0  # requests a second per tenant; 0: no limit
    burst: int = 100
    timer_quota: int = MAX_TIMERS_PER_OWNER
    firing_limit: int = MAX_FIRINGS_PER_MINUTE
    allow_private_targets: bool = False
    state_dir: Path = Path(".timer-service")
    embedded: bool = True  # False: AWS_ENDPOINT_URL and credentials from the environment
    print_output: bool = False
    quiet: bool = False
    cors_origins: Sequence[str] = ()
    api_instances: int = 2  # warm API Lambda instances, each a process (0: in this process)
    callback_concurrency: int = 8  # callback batches at once, as Lambda would scale out


@dataclass
class Recovery:
    """What a start found of the run before it."""

    restored: dict[str, int] = field(default_factory=dict)  # the emulator's state, by kind
    held_firings: int = 0  # firings a tick had handed over that had not reached the queue
    held_not_sent: int = 0  # of those, late ones their timers' misfire policy dropped
