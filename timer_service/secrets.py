"""Secret values named by ARN: a Secrets Manager secret or an SSM parameter, read once."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from timer_service.errors import TimerServiceError

__all__ = ["SecretUnavailableError", "read_secret", "secret_service"]


class SecretUnavailableError(TimerServiceError):
    """A configured secret could not be read: the function cannot work without it."""

    code = "secret_unavailable"


@lru_cache(maxsize=8)
def read_secret(arn: str, client: Any) -> str:
    """The value behind ``arn`` (``arn:aws:secretsmanager:...`` or ``arn:aws:ssm:...:parameter/
    name``), read with ``client`` (a boto3 client of that service), cached for the process."""
    from botocore.exceptions import BotoCoreError, ClientError

    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    try:
        if service == "secretsmanager":
            return str(client.get_secret_value(SecretId=arn)["SecretString"])
        if service == "ssm":  # GetParameter takes the ARN as the name
            response = client.get_parameter(Name=arn, WithDecryption=True)
            return str(response["Parameter"]["Value"])
    except (ClientError, BotoCoreError, KeyError) as exc:
        raise SecretUnavailableError(f"cannot read the secret {arn}: {exc}") from exc
    raise SecretUnavailableError(f"{arn} is neither a Secrets Manager secret nor an SSM parameter")


def secret_service(arn: str) -> str:
    """The boto3 service name that reads ``arn``."""
    return "ssm" if arn.split(":")[2:3] == ["ssm"] else "secretsmanager"
