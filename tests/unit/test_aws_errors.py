"""Which AWS errors a firing retries: the codes and statuses AWS documents as client faults fail
again on every retry, throttles and server faults do not (AWS SDKs' retry behavior:
https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html, and botocore's
standard mode, botocore/retries/standard.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError

from timer_service.aws_errors import is_permanent


def client_error(code: str, status: int) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "Publish")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("AccessDenied", 403),  # SQS, S3
        ("AccessDeniedException", 400),  # Lambda, EventBridge
        ("AuthorizationError", 403),  # SNS
        ("UnauthorizedOperation", 403),  # EC2
        ("AWS.SimpleQueueService.NonExistentQueue", 400),
        ("QueueDoesNotExist", 400),
        ("NotFound", 404),  # SNS topic
        ("ResourceNotFoundException", 404),  # Lambda function
        ("InvalidParameterValue", 400),
        ("ValidationException", 400),
        ("KMS.DisabledException", 400),
    ],
)
def test_client_faults_are_permanent(code: str, status: int) -> None:
    assert is_permanent(client_error(code, status))


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("Throttling", 400),
        ("ThrottlingException", 400),
        ("TooManyRequestsException", 429),
        ("RequestLimitExceeded", 503),
        ("ProvisionedThroughputExceededException", 400),
        ("RequestThrottled", 403),  # SQS's throttle answers 403
        ("ExpiredToken", 400),  # assumed-role credentials: a new session cures it
        ("InternalError", 500),
        ("ServiceUnavailable", 503),
        ("SomethingNew", 429),
    ],
)
def test_throttles_expired_credentials_and_server_faults_are_retried(
    code: str, status: int
) -> None:
    assert not is_permanent(client_error(code, status))


def test_parameters_botocore_refuses_before_sending_are_permanent() -> None:
    assert is_permanent(ParamValidationError(report="MessageBody is required"))


def test_an_unreachable_endpoint_is_retried() -> None:
    assert not is_permanent(EndpointConnectionError(endpoint_url="https://sqs.example"))


def test_a_denied_aws_call_in_any_job_is_dead_lettered_at_once() -> None:
    # GIVEN an sqs job whose queue the callback role may not send to (AccessDenied, 403)
    import boto3
    from botocore.stub import Stubber

    from timer_service.testing import JobHarness

    sqs = boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    stub = Stubber(sqs)
    stub.add_client_error("send_message", "AccessDenied", "not authorized", 403)
    stub.activate()
    harness = JobHarness(clients=lambda service, **_: sqs)
    harness.put("t", jobType="sqs", job={"queueUrl": "https://sqs.us-east-1.amazonaws.com/1/q"})
    # WHEN it fires for the first time
    run = harness.fire("t", attempt=1)
    # THEN it is not retried: the run says it goes to the dead-letter queue
    assert run is not None and run.outcome == "error"
    assert "AccessDenied" in run.summary
    assert run.summary.endswith("(attempt 1; to the dead-letter queue)")
