"""The local stack's ticker: invokes the tick Lambda for every shard on each minute boundary."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from timer_service_local.lambda_context import LocalContext

__all__ = ["TickerLoop"]

logger = logging.getLogger(__name__)

TICK_OFFSET_S = 1.5  # after the minute boundary (EventBridge Scheduler fires within it)


class TickerLoop:
    """One thread per shard; each ticks now, then at every minute boundary."""

    def __init__(
        self,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]],
        shards: Callable[[], tuple[int, ...]],
        *,
        on_report: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._handler = handler
        self._shards = shards
        self._on_report = on_report
        self._stop = threading.Event()
        self._invoke_lock = threading.Lock()  # one tick Lambda at a time: shared globals
        self._threads: dict[int, threading.Thread] = {}

    def start(self) -> TickerLoop:
        self._ensure_threads()
        return self

    def stop(self, timeout_s: float = 1.5) -> None:
        """No more ticks; wait up to ``timeout_s`` for one that is running."""
        # A tick cut short leaves its minute undone: the next start does it again.
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads.values():
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _ensure_threads(self) -> None:
        for shard in self._shards():
            if shard not in self._threads:
                thread = threading.Thread(
                    target=self._run, args=(shard,), daemon=True, name=f"ticker-{shard}"
                )
                self._threads[shard] = thread
                thread.start()

    def _run(self, shard: int) -> None:
        while not self._stop.is_set():
            if shard in self._shards():
                self._tick(shard)
            if shard == min(self._threads):
                self._ensure_threads()  # shards added with `timer-service shards set`
            next_boundary = (time.time() // 60 + 1) * 60 + TICK_OFFSET_S
            self._stop.wait(max(0.0, next_boundary - time.time()))

    def _tick(self, shard: int) -> None:
        try:
            with self._invoke_lock:
                report = self._handler({"shard": shard}, LocalContext(function_name="timer-ticker"))
        except Exception:
            logger.exception("tick of shard %d failed; the next tick catches up", shard)
            return
        if self._on_report is not None:
            self._on_report(report)
