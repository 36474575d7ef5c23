"""The dead-letter queue seen by one owner: list their failed firings, send them back.

The DLQ is shared by every tenant of a stack; a firing carries its owner, so an owner sees and
redrives only their own. A pack (firings of one second, of several owners) is split: the
caller's firings go back to the dispatch queue, the others stay dead-lettered in a new message.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from timer_service.clock import format_utc
from timer_service.dispatch import DispatchError, Firing, firings_in

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

__all__ = ["DeadLetter", "DeadLetterPage", "DeadLetters", "RedriveRequest", "redriven_body"]

RECEIVE_ROUNDS = 10  # receives a listing makes at most: SQS samples, so a look is not exhaustive
REDRIVE_SECONDS = 20.0  # a redrive stops taking new messages after this long
HOLD_S = 30  # a message being redriven is hidden from other readers this long


class _CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class DeadLetter(_CamelModel):
    """One firing in the dead-letter queue."""

    firing_id: str
    timer_id: str
    version: int
    scheduled_at: str
    manual: bool
    receive_count: int = Field(
        description="SQS's ApproximateReceiveCount: its deliveries, and looks such as this one"
    )
    error: str = Field(description="the last error, or 'retries exhausted'")


class DeadLetterPage(_CamelModel):
    items: list[DeadLetter]


class RedriveRequest(_CamelModel):
    """The body of ``POST /dlq/redrive`` (optional): which firings; all of yours without it."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True
    )

    firing_ids: list[Annotated[str, Field(max_length=512)]] | None = Field(
        default=None, max_length=1000
    )


@dataclass(frozen=True)
class RedriveResult:
    redriven: int


def redriven_body(firing: Firing) -> str:
    """A dead letter sent back: a raced firing's race is long over, so it runs unclaimed."""
    return replace(firing, raced=False).to_message()


def _firings(message: MessageTypeDef) -> list[Firing] | None:
    try:
        return firings_in(message["Body"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _error(message: MessageTypeDef) -> str:
    attributes: dict[str, Any] = dict(message.get("MessageAttributes", {}))
    return str(attributes.get("error", {}).get("StringValue", "")) or "retries exhausted"


class DeadLetters:
    """One owner's view of the DLQ."""

    def __init__(self, sqs: SQSClient, *, dlq_url: str, dispatch_queue_url: str) -> None:
        self._sqs = sqs
        self._dlq = dlq_url
        self._dispatch = dispatch_queue_url

    def look(self, owner: str | None, *, limit: int = 50) -> DeadLetterPage:
        """The owner's dead-lettered firings, every owner's with None (the operator's view);
        looked at, not taken: each stays visible."""
        seen: set[str] = set()
        items: list[DeadLetter] = []
        for _ in range(RECEIVE_ROUNDS):
            response = self._sqs.receive_message(
                QueueUrl=self._dlq,
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,
                AttributeNames=["ApproximateReceiveCount"],
                MessageAttributeNames=["All"],
            )
            fresh = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
                for firing in _firings(message) or []:
                    if owner is None or firing.owner == owner:
                        items.append(
                            DeadLetter(
                                firing_id=firing.firing_id,
                                timer_id=firing.timer_id,
                                version=firing.version,
                                scheduled_at=format_utc(firing.scheduled_s),
                                manual=firing.manual,
                                receive_count=received,
                                error=_error(message),
                            )
                        )
            if len(items) >= limit:
                break
        items.sort(key=lambda item: (item.scheduled_at, item.firing_id), reverse=True)
        return DeadLetterPage(items=items[:limit])

    def redrive(self, owner: str, *, firing_ids: Collection[str] | None = None) -> RedriveResult:
        """Send the owner's dead-lettered firings (all, or those named) back for delivery."""
        moved = 0
        seen: set[str] = set()
        deadline = time.monotonic() + REDRIVE_SECONDS
        while time.monotonic() < deadline:
            response = self._sqs.receive_message(
                QueueUrl=self._dlq,
                MaxNumberOfMessages=10,
                VisibilityTimeout=HOLD_S,
                MessageAttributeNames=["All"],
            )
            received = response.get("Messages", [])
            again = [m for m in received if m["MessageId"] in seen]
            for message in again:  # looked at already: not ours to hold
                self._release(message)
            fresh = [m for m in received if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                moved += self._redrive_message(message, owner, firing_ids)
        return RedriveResult(redriven=moved)

    def _release(self, message: MessageTypeDef) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self._dlq, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )

    def _redrive_message(
        self, message: MessageTypeDef, owner: str, firing_ids: Collection[str] | None
    ) -> int:
        firings = _firings(message) or []
        mine = [
            f
            for f in firings
            if f.owner == owner and (firing_ids is None or f.firing_id in firing_ids)
        ]
        if not mine:  # someone else's, or not one of those named: visible again at once
            self._release(message)
            return 0
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(n), "MessageBody": redriven_body(firing)} for n, firing in enumerate(mine)
        ]
        for start in range(0, len(entries), 10):
            self._send(self._dispatch, entries[start : start + 10])
        others = [f for f in firings if f not in mine]
        if others:  # the rest of a pack stays dead-lettered, with its error
            body = '{"p":[' + ",".join(f.to_message() for f in others) + "]}"
            if len(others) == 1:
                body = others[0].to_message()
            self._sqs.send_message(
                QueueUrl=self._dlq,
                MessageBody=body,
                MessageAttributes={"error": {"DataType": "String", "StringValue": _error(message)}},
            )
        self._sqs.delete_message(QueueUrl=self._dlq, ReceiptHandle=message["ReceiptHandle"])
        return len(mine)

    def _send(self, queue_url: str, entries: list[SendMessageBatchRequestEntryTypeDef]) -> None:
        response = self._sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        failed = response.get("Failed", [])
        if failed:
            raise DispatchError(f"SQS refused {len(failed)} of {len(entries)} redriven firings")
