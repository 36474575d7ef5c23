"""The limits the service applies by default, defined once: the settings take them as defaults,
the local stack's fronts and the command line's flags import them. Light to import (no
pydantic): the command line reads them at start."""

from __future__ import annotations

__all__ = ["MAX_BODY_BYTES", "MAX_FIRINGS_PER_MINUTE", "MAX_TIMERS_PER_OWNER"]

MAX_BODY_BYTES = 256 * 1024  # a request body the API takes (the local fronts refuse larger unread)
MAX_TIMERS_PER_OWNER = 10_000  # timers a tenant may have (MAX_TIMERS_PER_OWNER, --timer-quota)
# Firings a minute a tenant's timers may have together, each counting its most in one minute
# (rate(1 second): 60): MAX_FIRINGS_PER_MINUTE, --firing-limit.
MAX_FIRINGS_PER_MINUTE = 60_000
