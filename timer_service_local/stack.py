"""The local stack: every part of the service on one machine, started and stopped in one call.

    with LocalStack(StackConfig(port=0, state_dir=tmp)) as stack:
        httpx.put(f"{stack.url}/periodic/hello", json={...})

The parts, as in AWS: the AWS emulator (moto, in a process of its own, journaling every change
it answers, see :mod:`timer_service_local.emulator`); the API Lambda on warm instances of its
own (:class:`~timer_service_local.lambdas.LambdaPool`) behind an HTTP gateway (uvicorn); the
ticker on every minute boundary per shard; the callback Lambda fed by the dispatch queue. The
Lambda handlers run unchanged, with the same boto3 calls as in AWS.

This module is the composition root of the local stack: the one place, with the CLI, that
imports the Lambda packages (the ticker and callback handlers; the API by name, in its own
processes).
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict
from types import TracebackType
from typing import TYPE_CHECKING, Any

from timer_service.settings import DEFAULT_REGION, Settings
from timer_service_local.banner import StackPrinter
from timer_service_local.config import Recovery, StackConfig
from timer_service_local.endpoint import ENDPOINT_FILE, Resources
from timer_service_local.resources import provision, signing_key

if TYPE_CHECKING:
    from rich.console import Console

    from timer_service.dispatch import Firing
    from timer_service.store.dynamodb import DynamoTimerStore
    from timer_service_local.emulator import EmulatorProcess
    from timer_service_local.gateway import Gateway
    from timer_service_local.held_queue import HeldDispatchQueue
    from timer_service_local.lambdas import LambdaPool
    from timer_service_local.queue_worker import QueueWorker
    from timer_service_local.ticker_loop import TickerLoop

__all__ = ["LocalStack", "StackConfig"]  # StackConfig is re-exported: its callers import it here

HELD_JOURNAL = "firings.journal"  # firings a tick handed over, until they reach the queue
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": DEFAULT_REGION,
    "AWS_DEFAULT_REGION": DEFAULT_REGION,
}


class LocalStack:
    """Starts the parts in order, stops them in reverse; ``stop`` takes under 2 s."""

    def __init__(self, config: StackConfig | None = None, console: Console | None = None) -> None:
        from rich.console import Console

        self.config = config or StackConfig()
        self.console = console or Console(highlight=False, quiet=self.config.quiet)
        self._printer = StackPrinter(self.console, quiet=self.config.quiet)
        self.resources: Resources | None = None
        self.recovery = Recovery()
        self._saved_env: dict[str, str | None] = {}
        self._emulator: EmulatorProcess | None = None
        self._pool: LambdaPool | None = None
        self._held: HeldDispatchQueue | None = None
        self._loop: TickerLoop | None = None
        self._workers: list[QueueWorker] = []
        self._gateway: Gateway | None = None
        self._store: DynamoTimerStore | None = None
        self._listener: Any = None

    # --- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._gateway is None:
            raise RuntimeError("the stack is not running")
        return self._gateway.url

    @property
    def emulator_pid(self) -> int | None:
        return None if self._emulator is None else self._emulator.pid

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        config = self.config
        config.state_dir.mkdir(parents=True, exist_ok=True)
        endpoint_url = None
        if config.embedded:
            from timer_service_local.emulator import EmulatorProcess

            self._set_env(FAKE_CREDENTIALS)
            self._set_env({"AWS_SESSION_TOKEN": None})
            self._emulator = EmulatorProcess(config.state_dir).start()
            endpoint_url = self._emulator.url
            self.recovery.restored = dict(self._emulator.restored)
        resources = self.resources = provision(endpoint_url)
        from timer_service_local.gateway import OPEN_PATHS

        settings = Settings(
            table_name=resources.table,
            idempotency_table=resources.idempotency_table,
            dispatch_queue_url=resources.dispatch_queue_url,
            dlq_url=resources.dlq_url,
            output_queue_url=resources.output_queue_url,
            endpoint_url=endpoint_url,  # None: AWS_ENDPOINT_URL as it is
            allow_private_targets=config.allow_private_targets,
            max_timers_per_owner=config.timer_quota,
            max_firings_per_minute=config.firing_limit,
            api_auth="API_KEY" if config.api_keys else "NONE",  # what /openapi.json says
            open_paths=tuple(sorted(OPEN_PATHS)),
            snapshot_bucket=resources.snapshot_bucket,
            pack_deflate=True,  # one release runs every function here
            message_signing_key=Settings.from_env().message_signing_key
            or signing_key(config.state_dir),
        )
        self._set_env(
            {
                **settings.to_env(),
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            }
        )
        # The API's instances start now, with the environment above (as a Lambda's is set).
        from timer_service_local.lambdas import LambdaPool

        self._pool = LambdaPool("api.handler:lambda_handler", instances=config.api_instances)
        self._pool.start()
        self._start_engine(resources)
        self._start_gateway()
        resources.api_url = self.url
        endpoint_file = config.state_dir / ENDPOINT_FILE
        endpoint_file.write_text(json.dumps(asdict(resources)))

    def _start_engine(self, resources: Resources) -> None:
        # Metrics are off locally (no CloudWatch): powertools would warn at every invocation.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        # The Lambda handlers read their settings when imported: after the environment.
        import callbacks.handler
        import ticker.handler
        from timer_service import wiring
        from timer_service.aws import dynamodb_client, sqs_client
        from timer_service.clock import SystemClock
        from timer_service.sharding import set_shard_count
        from timer_service.store.dynamodb import DynamoTimerStore
        from timer_service.tick import TickEngine, TickSettings
        from timer_service_local.aws_calls import on_behalf_of, recorded
        from timer_service_local.held_queue import HeldDispatchQueue
        from timer_service_local.lambdas import cold_start
        from timer_service_local.queue_worker import QueueWorker
        from timer_service_local.ticker_loop import TickerLoop

        for module in (callbacks.handler, ticker.handler):
            cold_start(module)  # imported before (tests, an earlier stack): settings anew
        config = self.config
        settings = wiring.resolved(Settings.from_env())
        sqs = sqs_client(settings)
        store = self._store = DynamoTimerStore(dynamodb_client(settings), settings.table_name)
        set_shard_count(store, config.shards)
        clock = SystemClock()
        self._held = HeldDispatchQueue(
            # the ticker's calls (in AWS it sends these itself), when AWS calls are recorded
            on_behalf_of(ticker.handler.lambda_handler, wiring.dispatch_queue(settings, clock)),
            clock=clock,
            journal=config.state_dir / HELD_JOURNAL,
            recover=lambda firings: self._recover(firings, settings.catch_up_window_s),
        ).start()
        self.recovery.held_firings = self._held.recovered
        ticker.handler.use_engine(
            TickEngine(
                store=store,
                queue=self._held,
                clock=clock,
                settings=TickSettings.from_settings(settings),
            )
        )
        self._listener = self._printer.firing
        callbacks.handler.listeners.append(self._listener)
        self._workers.append(
            QueueWorker(
                sqs,
                resources.dispatch_queue_url,
                recorded(callbacks.handler.lambda_handler),
                concurrency=config.callback_concurrency,
            ).start()
        )
        self._workers.append(  # what SQS dead-letters (a callback that never finished)
            QueueWorker(
                sqs,
                resources.dlq_url,
                recorded(callbacks.handler.dead_letter_handler),
                concurrency=1,
                name="dead-letters",
            ).start()
        )
        if config.print_output:
            self._workers.append(
                QueueWorker(
                    sqs,
                    resources.output_queue_url,
                    self._printer.output,
                    concurrency=1,
                    name="output",
                ).start()
            )
        self._loop = TickerLoop(
            recorded(ticker.handler.lambda_handler), lambda: store.get_registry().all
        )
        self._loop.start()

    def _start_gateway(self) -> None:
        from timer_service_local.gateway import Gateway, GatewayApp
        from timer_service_local.limits import RateLimiter

        config = self.config
        assert self._pool is not None
        app = GatewayApp(
            self._pool.invoke,
            api_keys=config.api_keys,
            limiter=None
            if config.rate_limit <= 0
            else RateLimiter(rate=config.rate_limit, burst=config.burst),
            cors_origins=config.cors_origins,
            on_request=None if config.quiet else self._printer.request,
            host=config.host,
        )
        self._gateway = Gateway(app, host=config.host, port=config.port).start()

    def stop(self) -> None:
        """Stop the parts in reverse, the emulator last (it syncs its journal)."""
        # Firings still held stay in their own journal for the next start.
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
        if self._held is not None:
            self._held.stop()
            self._held = None
        for worker in self._workers:
            worker.request_stop()
        for worker in self._workers:
            worker.stop()
        self._workers = []
        if self._listener is not None:
            import callbacks.handler
            import ticker.handler
            from timer_service_local.lambdas import cold_start

            callbacks.handler.listeners.remove(self._listener)
            self._listener = None
            ticker.handler.use_engine(None)
            for module in (callbacks.handler, ticker.handler):
                cold_start(module)
        if self._pool is not None:
            self._pool.stop()
            self._pool = None
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None
        (self.config.state_dir / ENDPOINT_FILE).unlink(missing_ok=True)
        self._restore_env()

    def wait(self, stop: threading.Event) -> int:
        """Run until ``stop`` is set (0), or until the emulator dies (1)."""
        while not stop.wait(0.5):
            if self._emulator is not None and not self._emulator.alive():
                self.console.print("[red]The local AWS emulator stopped; stopping the stack.[/]")
                return 1
        return 0

    # --- recovery -----------------------------------------------------------------------

    def _recover(self, firings: list[Firing], catch_up_window_s: int) -> list[Firing]:
        """Held firings of a run that crashed: each timer's misfire policy decides the late."""
        from timer_service.tick import apply_misfire_policy

        assert self._store is not None
        timers = self._store.get_timers(sorted({(f.owner, f.timer_id) for f in firings}))
        pairs = []
        for firing in firings:
            timer = timers.get((firing.owner, firing.timer_id))
            pairs.append((firing, "fireOnce" if timer is None else timer.misfire_policy))
        windows = {
            key: timer.catch_up_window_s
            for key, timer in timers.items()
            if timer.catch_up_window_s is not None
        }
        send, not_sent, _ = apply_misfire_policy(
            pairs,
            now_s=time.time(),
            catch_up_window_s=catch_up_window_s,
            catch_up_windows=windows,
        )
        self.recovery.held_not_sent = not_sent
        return send

    # --- environment --------------------------------------------------------------------

    def _set_env(self, values: Mapping[str, str | None]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}

    # --- output -------------------------------------------------------------------------

    def banner(self) -> None:
        """Print where the stack's parts are and what it restored (at ``timer-service dev``)."""
        assert self.resources is not None
        self._printer.banner(self.config, self.resources, self.recovery, self.url)
