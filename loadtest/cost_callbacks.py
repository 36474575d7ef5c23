"""The callback side of ``python -m loadtest cost``: its invocations' batches, and the
delivery policy that runs them as ``deduplicated`` (figures: :mod:`loadtest.cost`)."""

from __future__ import annotations

from typing import Any, cast

from loadtest import BENCHMARK_SIGNING_KEY

__all__ = ["callback_batches", "deduplicated_policy", "received"]


def callback_batches(messages: list[str], size: int) -> list[list[str]]:
    """The messages of each callback invocation: up to ``size`` due in the same second
    (SQS makes a delayed message visible at its second; a batch holds what is visible)."""
    from timer_service.dispatch import firings_in

    batches: list[list[str]] = []
    second, count = None, 0
    due = [(min(f.due_s for f in firings_in(body)), body) for body in messages]
    for due_s, body in sorted(due, key=lambda pair: pair[0]):
        if due_s != second or count == size:
            batches.append([])
            second, count = due_s, 0
        batches[-1].append(body)
        count += 1
    return batches


def received(body: str, n: int) -> Any:
    from timer_service.delivery_policy import Received
    from timer_service.messages import MessageSigner

    signature = MessageSigner(BENCHMARK_SIGNING_KEY).sign(body)
    return Received(message_id=f"m{n}", body=body, signature=signature)


def deduplicated_policy(delivery: Any, store: Any, clock: Any, run_once: Any) -> Any:
    """The callbacks' delivery policy over ``delivery``, every timer read as deduplicated;
    nothing fails here, so its queue and dead letters are never used."""
    from timer_service.delivery import Delivery
    from timer_service.delivery_policy import DeliveryPolicy, RetryRule
    from timer_service.messages import MessageSigner
    from timer_service.pack_ledger import MemberHasher
    from timer_service.pack_session import PackLedger

    class Deduplicated:
        def __getattr__(self, name: str) -> Any:
            return getattr(delivery, name)

        def reads(self, firings: Any) -> Any:
            return _Override(delivery.reads(firings))

    signer = MessageSigner(BENCHMARK_SIGNING_KEY)
    return DeliveryPolicy(
        delivery=cast(Delivery, Deduplicated()),
        queue=None,  # type: ignore[arg-type]
        dead_letters=None,  # type: ignore[arg-type]
        signer=signer,
        rule=RetryRule(),
        run_once=run_once,
        ledger=PackLedger(
            store=store, clock=clock, hasher=MemberHasher(signer.derived("pack-members"))
        ),
    )


class _Override:
    """A batch's timer reads, each timer read as ``delivery: deduplicated``."""

    def __init__(self, reads: Any) -> None:
        self._reads = reads

    def timer_for(self, firing: Any, *, attempt: int = 1) -> Any:
        timer = self._reads.timer_for(firing, attempt=attempt)
        return None if timer is None else timer.model_copy(update={"delivery": "deduplicated"})
