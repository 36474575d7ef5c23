"""The local stack's per-tenant request limit: a token bucket per owner."""

from __future__ import annotations

import pytest

from timer_service_local.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_requests_wait_for_tokens() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.check("a") for _ in range(3)] == [None, None, None]
    assert limiter.check("a") == pytest.approx(0.5)  # one token every half second
    clock.now += 0.5
    assert limiter.check("a") is None
    assert limiter.check("a") == pytest.approx(0.5)


def test_each_owner_has_a_bucket_of_its_own() -> None:
    limiter = RateLimiter(rate=1, burst=1, clock=Clock())
    assert limiter.check("alice") is None
    assert limiter.check("alice") is not None
    assert limiter.check("bob") is None


def test_tokens_do_not_pile_up_past_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=2, clock=clock)
    clock.now += 3600
    assert [limiter.check("a") is None for _ in range(3)] == [True, True, False]
