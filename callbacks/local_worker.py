"""The local stack's SQS event source: long-polls a queue and invokes a Lambda handler with
SQS events, deleting what succeeded, as Lambda's event source mapping does."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from timer_service.local.lambda_context import LocalContext

__all__ = ["QueueWorker"]

logger = logging.getLogger(__name__)

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:timer-service-dispatch"


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """An SQS event for the Lambda, from ReceiveMessage results."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get(
                        "ApproximateReceiveCount", "1"
                    ),
                    "SentTimestamp": m.get("Attributes", {}).get(
                        "SentTimestamp", str(int(time.time() * 1000))
                    ),
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


class QueueWorker:
    """Polls ``queue_url`` in a thread and hands batches of up to 10 to ``handler``.

    Workers of one queue take turns to receive (moto can hand one message to two concurrent
    receives); they handle what they received in parallel.
    """

    _receive_locks: dict[str, threading.Lock] = {}

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]],
        *,
        wait_s: int = 1,
        name: str = "callbacks",
    ) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._handler = handler
        self._wait_s = wait_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)
        self._receive_lock = QueueWorker._receive_locks.setdefault(queue_url, threading.Lock())

    def start(self) -> QueueWorker:
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Stop after the current poll; ``stop`` waits for it."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("polling %s failed", self._url)
                self._stop.wait(1.0)

    def poll_once(self) -> int:
        """One receive and one handler call; the number of messages received."""
        with self._receive_lock:
            response = self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=self._wait_s,
                AttributeNames=["All"],
            )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        result = self._handler(sqs_event(messages), LocalContext(function_name="timer-callbacks"))
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)
                ],
            )
        return len(messages)
