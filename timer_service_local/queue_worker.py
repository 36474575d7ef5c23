"""The local stack's SQS event source: long-polls a queue and invokes a Lambda handler with
SQS events, deleting what succeeded, as Lambda's event source mapping does.

One thread receives (one request a second when idle); up to ``concurrency`` batches are
handled at once on a pool, as Lambda scales out over a busy queue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any

from timer_service_local.lambda_context import LocalContext

__all__ = ["QueueWorker", "sqs_event"]

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def sqs_event(
    messages: list[dict[str, Any]],
    queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:timer-service-dispatch",
) -> dict[str, Any]:
    """An SQS event for the Lambda, from ReceiveMessage results."""
    now_ms = str(int(time.time() * 1000))
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
                    "SentTimestamp": m.get("Attributes", {}).get("SentTimestamp", now_ms),
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": now_ms,
                },
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "dataType": value.get("DataType", "String"),
                        "stringListValues": [],
                        "binaryListValues": [],
                    }
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for m in messages
        ]
    }


class QueueWorker:
    """Receives from ``queue_url`` in a thread and hands batches of up to 10 to ``handler``."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        *,
        concurrency: int = 8,
        wait_s: int = 1,
        name: str = "callbacks",
    ) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._handler = handler
        self._wait_s = wait_s
        self._name = name
        account, queue = queue_url.rstrip("/").split("/")[-2:]
        self._arn = f"arn:aws:sqs:us-east-1:{account}:{queue}"
        self._stop = threading.Event()
        self._slots = threading.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix=name)
        self._running: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"{name}-receive")

    def start(self) -> QueueWorker:
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Receive no more; ``stop`` waits for the batches being handled."""
        self._stop.set()

    def stop(self, timeout_s: float = 1.5) -> int:
        """Stop receiving, wait up to ``timeout_s`` for running batches; how many still run."""
        # Their messages are not deleted, so they are delivered again.
        self._stop.set()
        with self._lock:
            running = set(self._running)
        started = time.monotonic()
        _, not_done = wait_for(running, timeout=timeout_s)
        self._pool.shutdown(wait=False, cancel_futures=True)
        # The receiver ends within its long poll: joined, it cannot outlive the emulator.
        if self._thread.is_alive():
            self._thread.join(timeout=max(0.1, timeout_s - (time.monotonic() - started)))
        return len(not_done)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue
            try:
                messages = self._receive()
            except Exception:
                self._slots.release()
                logger.exception("receiving from %s failed", self._url)
                self._stop.wait(1.0)
                continue
            if not messages or self._stop.is_set():
                self._slots.release()  # received at stop: left in flight, delivered again later
                continue
            future = self._pool.submit(self._handle_batch, messages)
            with self._lock:
                self._running.add(future)
            future.add_done_callback(self._finished)

    def _finished(self, future: Future[None]) -> None:
        with self._lock:
            self._running.discard(future)
        self._slots.release()
        if (error := future.exception()) is not None:
            logger.error("handling a batch from %s failed: %s", self._url, error)

    def _receive(self) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self._wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def poll_once(self) -> int:
        """One receive and one handler call, in the caller's thread; the messages received."""
        messages = self._receive()
        if messages:
            self._handle_batch(messages)
        return len(messages)

    def _handle_batch(self, messages: list[dict[str, Any]]) -> None:
        context = LocalContext(function_name=f"timer-{self._name}")
        result = self._handler(sqs_event(messages, self._arn), context)
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)
                ],
            )
