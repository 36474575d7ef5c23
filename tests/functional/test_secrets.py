"""Secrets named by ARN, as a deployed stack passes them: the message signing key from Secrets
Manager, the webhook signing secret from an SSM SecureString parameter (or Secrets Manager)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from loadtest.stack import WebhookReceiver
from tests.conftest import ApiCall, AwsResources, cold_start_handlers, set_settings
from tests.functional.conftest import consume, webhook_timer
from timer_service.settings import Settings


def client(aws: AwsResources, service: str) -> Any:
    from timer_service.aws import client as make

    return make(service, "us-east-1", aws.endpoint_url)


def test_a_stack_configured_with_secret_arns_signs_and_delivers(
    pipeline: AwsResources,
    call_api: ApiCall,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from timer_service.secrets import read_secret

    # GIVEN the signing key in Secrets Manager and the webhook secret in an SSM SecureString
    # parameter, as a deployed stack has them (infra/README.md)
    key_arn = client(pipeline, "secretsmanager").create_secret(
        Name="signing", SecretString="k" * 48
    )["ARN"]
    client(pipeline, "ssm").put_parameter(
        Name="/timers/webhook", Value="from-ssm", Type="SecureString"
    )
    webhook_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/timers/webhook"
    monkeypatch.delenv(Settings.env_name("message_signing_key"))
    monkeypatch.delenv(Settings.env_name("webhook_signing_secret"))
    read_secret.cache_clear()
    set_settings(
        monkeypatch, message_signing_key_arn=key_arn, webhook_signing_secret_arn=webhook_arn
    )
    # WHEN a timer is triggered through the API and delivered by the callbacks
    webhook_timer(call_api, receiver, "secret-hook")
    assert call_api("POST", "/periodic/secret-hook/trigger").status == 202
    consume(pipeline)
    # THEN the firing ran (the message was signed and checked with the same key) and the
    # webhook carries the signature made with the secret from the parameter
    (request,) = receiver.requests
    expected = hmac.new(b"from-ssm", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Timer-Signature"] == f"sha256={expected}"
    cold_start_handlers()
    read_secret.cache_clear()


def test_a_webhook_secret_in_secrets_manager_is_read(pipeline: AwsResources) -> None:
    from timer_service.secrets import read_secret

    arn = client(pipeline, "secretsmanager").create_secret(
        Name="webhook", SecretString="from-secrets-manager"
    )["ARN"]
    assert read_secret(arn, client(pipeline, "secretsmanager")) == "from-secrets-manager"


def test_a_secret_that_cannot_be_read_names_it(pipeline: AwsResources) -> None:
    from timer_service.secrets import SecretUnavailableError, read_secret

    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    with pytest.raises(SecretUnavailableError, match="missing"):
        read_secret(arn, client(pipeline, "secretsmanager"))
