"""Cached boto3 client factories; nothing is built at import time."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from timer_service import dynamodb_parse
from timer_service.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

__all__ = ["Clients", "client", "dynamodb_client", "sqs_client"]

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32)


@lru_cache(maxsize=32)
def client(service: str, region: str, endpoint_url: str | None) -> Any:
    """One shared client per service, region and endpoint (clients are thread-safe)."""
    session: Any = boto3.session.Session()
    made = session.client(service, region_name=region, endpoint_url=endpoint_url, config=_CONFIG)
    if service == "dynamodb":
        dynamodb_parse.install(made)
    return made


def dynamodb_client(settings: Settings) -> DynamoDBClient:
    return client("dynamodb", settings.region, settings.endpoint_url)  # type: ignore[no-any-return]


def sqs_client(settings: Settings) -> SQSClient:
    return client("sqs", settings.region, settings.endpoint_url)  # type: ignore[no-any-return]


class Clients:
    """boto3 clients for job types: shared ones, or fresh ones with assumed-role credentials.

    Every client goes to the settings' endpoint (the emulator locally, AWS otherwise).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def __call__(
        self, service: str, *, region: str | None = None, credentials: dict[str, str] | None = None
    ) -> Any:
        region_name = region or self._settings.region
        if credentials is None:
            return client(service, region_name, self._settings.endpoint_url)
        session: Any = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials.get("SessionToken"),
        )
        return session.client(
            service,
            region_name=region_name,
            endpoint_url=self._settings.endpoint_url,
            config=_CONFIG,
        )
