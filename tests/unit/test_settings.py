"""The settings model: the one place that names each environment variable and default limit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from timer_service.settings import DEFAULT_REGION, Settings

ROOT = Path(__file__).resolve().parents[2]
# What a deployed function's environment holds: the names are the construct's contract with the
# handlers (infra/README.md lists them), so they are spelled here, as outside truth.
DEPLOYED = {
    "TIMER_TABLE": "Timers-Table",
    "DISPATCH_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dispatch",
    "DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
    "OUTPUT_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/output",
    "AWS_REGION": "eu-west-1",
    "IDEMPOTENCY_TABLE": "Timers-Idempotency",
    "SNAPSHOT_BUCKET": "timers-snapshots",
    "MAX_ATTEMPTS": "3",
    "LOOKAHEAD_MINUTES": "2",
    "MESSAGE_SIGNING_KEY_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbCdEf",
    "API_AUTH": "API_KEY",
    "SERVICE_FUNCTIONS": "Timers-Api,Timers-Ticker",
    "ALLOW_PRIVATE_TARGETS": "false",
}


def test_settings_from_a_deployed_environment_name_its_resources() -> None:
    settings = Settings.from_env(DEPLOYED)
    assert settings.table_name == "Timers-Table"
    assert settings.dlq_url == DEPLOYED["DLQ_URL"]
    assert (settings.region, settings.max_attempts, settings.lookahead_minutes) == (
        "eu-west-1",
        3,
        2,
    )
    assert settings.service_functions == ("Timers-Api", "Timers-Ticker")
    assert settings.api_auth == "API_KEY" and settings.allow_private_targets is False


def test_settings_written_to_the_environment_read_back_the_same() -> None:
    # GIVEN settings with every field away from its default
    settings = Settings.from_env(DEPLOYED).model_copy(
        update={
            "endpoint_url": "http://127.0.0.1:4566",
            "max_body_bytes": 1000,
            "allow_private_targets": True,
            "pack_deflate": True,
            "webhook_signing_secret": "w",
            "retry_base_s": 2,
            "catch_up_window_s": 60,
            "run_history_days": 7,
            "max_timers_per_owner": 3,
            "max_firings_per_minute": 120,
            "message_signing_key": "k" * 32,
            "webhook_signing_secret_arn": "arn:aws:ssm:eu-west-1:123456789012:parameter/w",
            "dead_letter_days": 3,
            "open_paths": ("/health", "/openapi.json"),
            "browser_function": "Timers-Browser",
        }
    )
    assert {
        f for f in Settings.model_fields if getattr(settings, f) == Settings.model_fields[f].default
    } == set()
    # WHEN they are written as an environment and read back THEN nothing is lost
    environment = settings.to_env(every=True)
    assert Settings.from_env(environment) == settings
    assert set(environment) >= set(DEPLOYED)


def test_to_env_writes_only_the_fields_given() -> None:
    assert Settings(table_name="t", max_attempts=3, allow_private_targets=True).to_env() == {
        "TIMER_TABLE": "t",
        "ALLOW_PRIVATE_TARGETS": "true",
        "MAX_ATTEMPTS": "3",
    }
    assert Settings(dlq_url=None).to_env() == {}  # None: the variable is not set


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),  # as the AWS CLI reads it
        ({"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
        ({}, None),
    ],
)
def test_region_is_aws_region_else_aws_default_region_else_the_default(
    environment: dict[str, str], named: str | None
) -> None:
    assert Settings.region_from_env(environment) == named
    assert Settings.from_env(environment).region == (named or DEFAULT_REGION)


def test_an_empty_variable_is_unset() -> None:
    settings = Settings.from_env(
        {"AWS_ENDPOINT_URL": "", "SERVICE_FUNCTIONS": ",", "TIMER_TABLE": ""}
    )
    assert settings == Settings()


def test_a_bad_value_names_its_field() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        Settings.from_env({"MAX_ATTEMPTS": "0"})


def spelled_names(path: Path, names: set[str]) -> list[int]:
    """Lines of ``path`` with a string literal that is one of ``names`` (``__all__`` aside)."""
    tree = ast.parse(path.read_text())
    exported = {
        id(element)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", "") == "__all__" for t in node.targets)
        for element in ast.walk(node.value)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in names and id(node) not in exported
    ]


def test_only_the_settings_spell_the_services_environment_variables() -> None:
    # The AWS_* ones are also the SDK's (credentials, region, endpoint), set for boto3 itself.
    names = {
        name
        for field in Settings.model_fields
        for name in (Settings.env_name(field),)
        if not name.startswith("AWS_")
    }
    allowed = {ROOT / "timer_service" / "settings.py", Path(__file__)}
    spelled = {}
    for directory in ("api", "ticker", "callbacks", "infra", "loadtest", "tests", "examples"):
        for path in (ROOT / directory).rglob("*.py"):
            if path not in allowed and (lines := spelled_names(path, names)):
                spelled[str(path.relative_to(ROOT))] = lines
    for path in ROOT.glob("timer_service*/**/*.py"):
        if path not in allowed and (lines := spelled_names(path, names)):
            spelled[str(path.relative_to(ROOT))] = lines
    assert spelled == {}
