"""W3C Trace Context (https://www.w3.org/TR/trace-context/): each firing's trace, from its sender
to its job.

A ``traceparent`` is ``00-{trace-id}-{parent-id}-{flags}``: a 16-byte trace id and an 8-byte
parent (span) id in lowercase hex, neither all zeros, and flags ``01`` (sampled: the service
records its runs).

**A trace per firing**, started when the firing is first put on the dispatch queue: by the tick,
or by the API (a trigger, a backfill, a firing it sends itself for a minute already claimed):
they all send through :func:`timer_service.messages.messages_of`. Each firing is its own
transaction for its receiver (different timers, often different owners share a pack), so a
trace per pack would tie strangers' firings together. The cost stays per message, not per
firing: a pack of up to 100 carries one random 16-byte seed (``"T"``, 32 hex), and member n's
trace id is SHA-256 of the seed and n (:func:`trace_id_of`), as random-looking as any, so a
receiver's ratio sampler (which reads a trace id's low bytes) picks firings, not packs. A firing
that travels alone carries its trace id (``"t"``): a retry, a hold-over, a dead letter and its
redrive keep the one it had, so every delivery of one firing is in one trace. Each delivery
attempt is a span of it: :meth:`TraceParent.start` gives it a parent id of its own, and the
run record keeps the trace id.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

__all__ = [
    "TRACE_ID_PATTERN",
    "TraceParent",
    "fallback_trace_id",
    "new_seed",
    "new_trace_id",
    "trace_id_of",
]

TRACE_ID_PATTERN = r"^[0-9a-f]{32}$"
VERSION = "00"
SAMPLED = 0x01
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


def _nonzero(hex_id: str) -> str:
    """An all-zero id is invalid (a 2^-128 chance for a hash): its last digit made 1."""
    return hex_id if hex_id.strip("0") else hex_id[:-1] + "1"


def new_seed() -> str:
    """A pack's seed: 16 random bytes, 32 hex."""
    return secrets.token_hex(16)


def trace_id_of(seed: str, position: int) -> str:
    """The trace id of the firing at ``position`` in the pack of ``seed``."""
    digest = hashlib.sha256(bytes.fromhex(seed) + position.to_bytes(4, "big")).hexdigest()
    return _nonzero(digest[:32])


def new_trace_id() -> str:
    """A trace id for a firing that travels alone."""
    return _nonzero(secrets.token_hex(16))


def fallback_trace_id(firing_id: str) -> str:
    """The trace of a firing queued before firings carried one: derived from its id, so each
    delivery of it derives the same."""
    return _nonzero(hashlib.sha256(firing_id.encode()).hexdigest()[:32])


@dataclass(frozen=True)
class TraceParent:
    """One span of a trace, as the ``traceparent`` header carries it.

    >>> TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7").header
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    """

    trace_id: str
    parent_id: str
    sampled: bool = True

    @classmethod
    def start(cls, trace_id: str) -> TraceParent:
        """A new span of the trace ``trace_id`` (a delivery attempt of its firing)."""
        return cls(trace_id, _nonzero(secrets.token_hex(8)))

    @classmethod
    def parse(cls, header: str) -> TraceParent:
        """A version-00 ``traceparent``; ValueError for anything the spec refuses."""
        match = _TRACEPARENT.fullmatch(header)
        if match is None:
            raise ValueError(f"not a version-00 traceparent: {header!r}")
        trace_id, parent_id, flags = match.groups()
        if trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
            raise ValueError("a traceparent's ids are never all zeros")
        return cls(trace_id, parent_id, sampled=bool(int(flags, 16) & SAMPLED))

    @property
    def header(self) -> str:
        flags = SAMPLED if self.sampled else 0
        return f"{VERSION}-{self.trace_id}-{self.parent_id}-{flags:02x}"
