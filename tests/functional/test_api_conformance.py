"""schemathesis against the local stack's front in this process: whatever an operation answers
to the requests it generates from the document (valid and not), the document declares, with
the body, headers and content type it says. ``make fuzz`` does the same at length on a running
stack; this runs a few dozen requests an operation in every ``make test``."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import AwsResources
from tests.functional.test_api_answers import local_settings
from timer_service_local.gateway import GatewayApp

EXAMPLES = 20  # an operation: 10 s in all
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    response_headers_conformance,
    content_type_conformance,
]


def test_api_answers_conform_to_its_document(
    aws: AwsResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the keyless local stack's front and the document it serves
    from api.handler import lambda_handler
    from timer_service_local.lambda_context import LocalContext

    local_settings(monkeypatch, aws, keyed=False)

    async def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return lambda_handler(event, LocalContext())

    schema = schemathesis.openapi.from_asgi("/openapi.json", GatewayApp(invoke))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13
    for operation in operations:
        # WHEN it is sent requests generated from the document, valid and not
        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_conform(case: Any) -> None:
            # THEN each answer is declared: status, body, headers and content type
            case.call_and_validate(checks=CHECKS)

        answers_conform()
