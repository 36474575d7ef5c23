"""Builds the service's parts from settings and a clock: the one place the handlers, the local
stack and the CLI assemble them (AWS clients from :mod:`timer_service.aws`)."""

from __future__ import annotations

from timer_service.aws import Clients, dynamodb_client, sqs_client
from timer_service.clock import Clock
from timer_service.dead_letters import DeadLetters
from timer_service.dispatch import SqsDispatchQueue
from timer_service.errors import TimerServiceError
from timer_service.messages import MessageSigner
from timer_service.secrets import read_secret, secret_service
from timer_service.settings import Settings
from timer_service.store.dead_letters import DynamoDeadLetterStore
from timer_service.store.dynamodb import DynamoTimerStore

__all__ = [
    "ConfigurationError",
    "dead_letters",
    "dispatch_queue",
    "message_signer",
    "resolved",
    "timer_store",
]


class ConfigurationError(TimerServiceError):
    """A setting the function needs is missing."""

    code = "configuration_error"


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
        raise ConfigurationError(
            "MESSAGE_SIGNING_KEY (or MESSAGE_SIGNING_KEY_ARN) is not set: the service signs"
            " every message it queues"
        )
    return MessageSigner(settings.message_signing_key)


def timer_store(settings: Settings) -> DynamoTimerStore:
    return DynamoTimerStore(dynamodb_client(settings), settings.table_name)


def dispatch_queue(settings: Settings, clock: Clock) -> SqsDispatchQueue:
    if settings.dispatch_queue_url is None:
        raise ConfigurationError("DISPATCH_QUEUE_URL is not set")
    return SqsDispatchQueue(
        sqs_client(settings),
        settings.dispatch_queue_url,
        clock=clock,
        signer=message_signer(settings),
    )


def dead_letters(settings: Settings, clock: Clock, *, redrive: bool = True) -> DeadLetters:
    """Dead letters in the table; sent back on the dispatch queue (``redrive``)."""
    return DeadLetters(
        store=DynamoDeadLetterStore(dynamodb_client(settings), settings.table_name),
        queue=dispatch_queue(settings, clock) if redrive else None,
        clock=clock,
        retention_days=settings.dead_letter_days,
    )
