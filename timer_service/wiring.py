"""Builds the service's parts from settings and a clock: the one place the handlers, the local
stack and the CLI assemble them (AWS clients from :mod:`timer_service.aws`).

Each Lambda handler keeps one :class:`Wired`: its settings, read from the environment (secrets
by ARN read in) once per process, as a Lambda instance keeps them, and the parts it builds from
them on first use (:meth:`Wired.part`). Tests and the local stack change what it builds with,
the same way in each handler: a clock and a sleep of their own (:meth:`Wired.use_clock`), or a
part of their own in place of one (:meth:`Part.use`); :meth:`Wired.cold_start` forgets what was
built, as a new instance would, when the environment changed.

    wired = Wired()
    service = wired.part(lambda context: timer_service(context.settings, context.clock))
    service()  # built once, then the same
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from timer_service.aws import Clients, dynamodb_client, sqs_client
from timer_service.clock import Clock, SystemClock
from timer_service.dead_letters import DeadLetters
from timer_service.dispatch import SqsDispatchQueue
from timer_service.errors import TimerServiceError
from timer_service.messages import MessageSigner
from timer_service.secrets import read_secret, secret_service
from timer_service.settings import Settings
from timer_service.store.dead_letters import DynamoDeadLetterStore
from timer_service.store.dynamodb import DynamoTimerStore

if TYPE_CHECKING:
    # Imported where built: the ticker's cold start loads no job type (test_architecture).
    from timer_service.delivery import RunOnce, Span
    from timer_service.delivery_policy import DeliveryPolicy, Observer
    from timer_service.feed_service import FeedService
    from timer_service.metrics import Metrics
    from timer_service.pack_ledger import Remaining
    from timer_service.pings import Heartbeats
    from timer_service.service import TimerService
    from timer_service.signing_service import SigningSecretService
    from timer_service.tick import TickEngine

__all__ = [
    "ConfigurationError",
    "Context",
    "Part",
    "Sleep",
    "Wired",
    "dead_letters",
    "delivery_policy",
    "dispatch_queue",
    "feeds",
    "message_signer",
    "resolved",
    "signing_secrets",
    "tick_engine",
    "timer_service",
    "timer_store",
]

T = TypeVar("T")
Sleep = Callable[[float], None]


class ConfigurationError(TimerServiceError):
    """A setting the function needs is missing."""

    code = "configuration_error"


# --- the parts ------------------------------------------------------------------------------


def resolved(settings: Settings, *, webhook_secret: bool = False) -> Settings:
    """``settings`` with the secrets named by ARN read in (once per process): the message
    signing key, and the webhook signing secret where the function signs webhooks."""
    update: dict[str, str] = {}
    clients = Clients(settings)
    if settings.message_signing_key is None and settings.message_signing_key_arn:
        arn = settings.message_signing_key_arn
        update["message_signing_key"] = read_secret(arn, clients(secret_service(arn)))
    wanted = webhook_secret and settings.webhook_signing_secret is None
    if wanted and settings.webhook_signing_secret_arn:
        arn = settings.webhook_signing_secret_arn
        update["webhook_signing_secret"] = read_secret(arn, clients(secret_service(arn)))
    return settings.model_copy(update=update) if update else settings


def message_signer(settings: Settings) -> MessageSigner:
    """The signer of dispatch-queue messages (settings already :func:`resolved`)."""
    if not settings.message_signing_key:
        key = Settings.env_name("message_signing_key")
        arn = Settings.env_name("message_signing_key_arn")
        raise ConfigurationError(
            f"{key} (or {arn}) is not set: the service signs every message it queues"
        )
    return MessageSigner(settings.message_signing_key)


def timer_store(settings: Settings) -> DynamoTimerStore:
    return DynamoTimerStore(dynamodb_client(settings), settings.table_name)


def dispatch_queue(settings: Settings, clock: Clock) -> SqsDispatchQueue:
    if settings.dispatch_queue_url is None:
        raise ConfigurationError(f"{Settings.env_name('dispatch_queue_url')} is not set")
    return SqsDispatchQueue(
        sqs_client(settings),
        settings.dispatch_queue_url,
        clock=clock,
        signer=message_signer(settings),
        deflate=settings.pack_deflate,
    )


def dead_letters(settings: Settings, clock: Clock, *, redrive: bool = True) -> DeadLetters:
    """Dead letters in the table; sent back on the dispatch queue (``redrive``)."""
    return DeadLetters(
        store=DynamoDeadLetterStore(dynamodb_client(settings), settings.table_name),
        queue=dispatch_queue(settings, clock) if redrive else None,
        clock=clock,
        retention_days=settings.dead_letter_days,
    )


def timer_service(settings: Settings, clock: Clock) -> TimerService:
    """The API's use cases: the table, the job types (for their configs) and, when there is
    one, the dispatch queue (triggers, and firings whose minute a tick already claimed)."""
    from timer_service.job_types import JobTypeRegistry
    from timer_service.service import TimerService

    queue = None if settings.dispatch_queue_url is None else dispatch_queue(settings, clock)
    return TimerService(
        store=timer_store(settings),
        clock=clock,
        job_types=JobTypeRegistry.from_entry_points().with_context(settings=settings),
        queue=queue,
        max_timers_per_owner=settings.max_timers_per_owner,
        max_firings_per_minute=settings.max_firings_per_minute,
        lookahead_minutes=settings.lookahead_minutes,
    )


def signing_secrets(settings: Settings, clock: Clock) -> SigningSecretService:
    """The API's webhook signing secrets (created, listed, rotated, deleted)."""
    from timer_service.signing_service import SigningSecretService

    return SigningSecretService(store=timer_store(settings), clock=clock)


def feeds(settings: Settings, clock: Clock) -> FeedService:
    """The API's feeds of changes (made, revoked, served by token)."""
    from timer_service.feed_service import FeedService

    return FeedService(store=timer_store(settings), clock=clock)


def heartbeats(settings: Settings, clock: Clock) -> Heartbeats:
    """The API's pings of heartbeat timers."""
    from timer_service.pings import Heartbeats

    return Heartbeats(
        store=timer_store(settings), clock=clock, run_history_days=settings.run_history_days
    )


def tick_engine(settings: Settings, clock: Clock, *, metrics: Metrics | None = None) -> TickEngine:
    """A shard's tick: the table's time index into the dispatch queue."""
    from timer_service.tick import TickEngine, TickSettings

    return TickEngine(
        store=timer_store(settings),
        queue=dispatch_queue(settings, clock),
        clock=clock,
        settings=TickSettings.from_settings(settings),
        metrics=metrics,
    )


def delivery_policy(
    settings: Settings,
    clock: Clock,
    *,
    sleep: Sleep = time.sleep,
    run_once: RunOnce | None = None,
    metrics: Metrics | None = None,
    observer: Observer | None = None,
    span: Span | None = None,
    remaining: Remaining | None = None,
) -> DeliveryPolicy:
    """What the callbacks do with a batch: deliver each firing at its second (``sleep``
    waits for it on ``clock``), retry it alone, or dead-letter it; each job in a ``span`` of
    its firing's trace; webhooks signed with their owner's secrets (read once a minute)."""
    from timer_service.delivery import Delivery
    from timer_service.delivery_policy import DeliveryPolicy, RetryRule
    from timer_service.job_types import JobTypeRegistry
    from timer_service.metrics import NullMetrics
    from timer_service.pack_ledger import MemberHasher
    from timer_service.pack_session import PackLedger
    from timer_service.signing_service import SigningSecretCache

    store = timer_store(settings)
    signer = message_signer(settings)
    ledger = PackLedger(
        store=store,
        clock=clock,
        hasher=MemberHasher(signer.derived("pack-members")),
        remaining=remaining or (lambda: None),
        metrics=metrics or NullMetrics(),
    )
    return DeliveryPolicy(
        delivery=Delivery(
            store=store,
            job_types=JobTypeRegistry.from_entry_points(),
            clock=clock,
            settings=settings,
            client=Clients(settings),
            metrics=metrics,
            sleep=sleep,
            span=span,
            signing_secrets=SigningSecretCache(store=store, clock=clock).valid,
        ),
        queue=dispatch_queue(settings, clock),
        dead_letters=dead_letters(settings, clock),
        signer=signer,
        rule=RetryRule.from_settings(settings),
        run_once=run_once,
        metrics=metrics,
        observer=observer,
        ledger=ledger,
    )


# --- a handler's assembly -------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a handler's parts are built from: its settings (secrets read in) and its time."""

    settings: Settings
    clock: Clock
    sleep: Sleep


class Wired:
    """One handler's assembly: settings from the environment, a clock, and its parts, each
    built on first use and kept for the life of the process (a Lambda instance)."""

    def __init__(self, *, webhook_secret: bool = False) -> None:
        self._webhook_secret = webhook_secret  # the callbacks sign webhooks
        self._lock = threading.RLock()  # callbacks run batches on threads: each part built once
        self._settings: Settings | None = None
        self._parts: list[Part[object]] = []
        self._clock: Clock = SystemClock()
        self._sleep: Sleep = time.sleep

    def settings(self) -> Settings:
        """The settings of the environment, secrets read in, once per process."""
        with self._lock:
            if self._settings is None:
                self._settings = resolved(Settings.from_env(), webhook_secret=self._webhook_secret)
            return self._settings

    def context(self) -> Context:
        return Context(self.settings(), self._clock, self._sleep)

    def part(self, build: Callable[[Context], T]) -> Part[T]:
        """A part built by ``build`` on first use (an accessor: call it for the part)."""
        made = Part(self, build)
        self._parts.append(made)  # type: ignore[arg-type]
        return made

    def use_clock(self, clock: Clock | None, *, sleep: Sleep | None = None) -> None:
        """Build the parts anew with ``clock`` and ``sleep`` (a test's settable clock and its
        ``advance``); None: the system clock and ``time.sleep``."""
        with self._lock:
            self._clock = clock or SystemClock()
            self._sleep = sleep or time.sleep
            self._forget()

    def cold_start(self) -> None:
        """Forget the settings and what was built from them, as a new instance would start;
        a clock or part put in place stays."""
        with self._lock:
            self._settings = None
            self._forget()

    def _forget(self) -> None:
        for made in self._parts:
            made.forget()


class Part(Generic[T]):
    """One part of a handler (its service, its engine, its policy): built from the handler's
    context on first use, or the one a test or the local stack put in place (:meth:`use`)."""

    def __init__(self, wired: Wired, build: Callable[[Context], T]) -> None:
        self._wired = wired
        self._build = build
        self._built: list[T] = []  # empty until built (a part may be None: no idempotency)
        self._used: T | None = None

    def __call__(self) -> T:
        if self._used is not None:
            return self._used
        with self._wired._lock:
            if not self._built:
                self._built.append(self._build(self._wired.context()))
            return self._built[0]

    def use(self, part: T | None) -> None:
        """Use ``part`` instead of building one; None: build from the environment again."""
        self._used = part

    def forget(self) -> None:
        self._built.clear()
