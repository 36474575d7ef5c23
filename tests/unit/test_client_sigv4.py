"""The client's SigV4: AWS's own signing test suite, and botocore's signer reading it back.

The vectors are the AWS Signature Version 4 test suite's (credentials AKIDEXAMPLE, 2015-08-30
12:36:00 UTC, us-east-1, service ``service``), transcribed from awslabs/aws-c-auth
``tests/aws-signing-test-suite/v4/<case>/header-signed-request.txt`` and ``context.json``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from botocore.credentials import Credentials

from timer_service.client import ApiKeyAuth, SigV4Auth

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_TIME = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)
SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
SESSION_TOKEN = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"

# (case, method, url, session token, signed headers, signature)
SUITE = [
    (
        "get-vanilla",
        "GET",
        "https://example.amazonaws.com/",
        None,
        "host;x-amz-date",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ),
    (
        "post-vanilla",
        "POST",
        "https://example.amazonaws.com/",
        None,
        "host;x-amz-date",
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    ),
    (
        "get-vanilla-query-order-key-case",
        "GET",
        "https://example.amazonaws.com/?Param2=value2&Param1=value1",
        None,
        "host;x-amz-date",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ),
    (
        "get-vanilla-with-session-token",
        "GET",
        "https://example.amazonaws.com/",
        SESSION_TOKEN,
        "host;x-amz-date;x-amz-security-token",
        "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
    ),
]


def signed(auth: httpx.Auth, request: httpx.Request) -> httpx.Request:
    """``request`` as ``auth`` sends it (what httpx does before the request goes out)."""
    request.read()
    return next(auth.sync_auth_flow(request))


@pytest.mark.parametrize(("case", "method", "url", "token", "names", "signature"), SUITE)
def test_sigv4_on_the_aws_test_suite_gives_its_authorization(
    case: str, method: str, url: str, token: str | None, names: str, signature: str
) -> None:
    # GIVEN the suite's credentials and time, and an httpx request as the client builds it
    # (httpx adds Accept, Accept-Encoding, Connection, User-Agent: none is signed)
    auth = SigV4Auth(
        region="us-east-1",
        service="service",
        credentials=Credentials(ACCESS_KEY, SECRET_KEY, token),
        now=lambda: SUITE_TIME,
    )
    with httpx.Client() as client:
        request = client.build_request(method, url)
    # WHEN it is signed THEN its Authorization is the suite's
    sent = signed(auth, request)
    assert sent.headers["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders={names}, Signature={signature}"
    )
    assert sent.headers["X-Amz-Date"] == "20150830T123600Z"
    assert sent.headers.get("X-Amz-Security-Token") == token


def test_sigv4_signature_of_a_conditional_put_is_what_botocore_computes() -> None:
    from tests.functional.test_deployment_cli import verify

    # GIVEN a PUT with a body, a query and an If-Match, signed for execute-api now
    auth = SigV4Auth(region="eu-west-1", credentials=Credentials("testing", "testing"))
    with httpx.Client() as client:
        request = client.build_request(
            "PUT",
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/periodic/order:42?b=2&a=1",
            content=b'{"schedule":"rate(5 minutes)"}',
            headers={"Content-Type": "application/json", "If-Match": '"3"'},
        )
    sent = signed(auth, request)
    # THEN botocore's signer, given the headers it names, finds the same signature
    headers = {name.decode(): value.decode() for name, value in sent.headers.raw}  # as sent
    assert verify("PUT", str(sent.url), headers, sent.content)
    assert "SignedHeaders=content-type;host;if-match;x-amz-date," in headers["Authorization"]
    assert "/eu-west-1/execute-api/aws4_request" in headers["Authorization"]
    # AND a changed body no longer matches it
    assert not verify("PUT", str(sent.url), headers, b'{"schedule":"rate(1 minute)"}')


def test_api_key_auth_sends_the_key_and_no_signature() -> None:
    with httpx.Client() as client:
        request = client.build_request("GET", "https://api.example.com/periodic")
    sent = signed(ApiKeyAuth("s3cret"), request)
    assert sent.headers["X-Api-Key"] == "s3cret"
    assert "Authorization" not in sent.headers


def test_both_clients_send_a_signature_botocore_accepts() -> None:
    import asyncio

    from tests.functional.test_deployment_cli import verify
    from timer_service.client import AsyncTimerClient, TimerClient

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"redriven": 0, "more": False})

    url = "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
    auth = SigV4Auth(region="us-east-1", credentials=Credentials("testing", "testing"))
    with TimerClient(url, auth=auth, transport=httpx.MockTransport(answer)) as client:
        client.redrive(["f1"])

    async def redrive() -> None:
        transport = httpx.MockTransport(answer)
        async with AsyncTimerClient(url, auth=auth, transport=transport) as client:
            await client.redrive(["f2"])

    asyncio.run(redrive())
    for request in seen:
        headers = {name.decode(): value.decode() for name, value in request.headers.raw}
        assert verify(request.method, str(request.url), headers, request.content)
    assert [request.content for request in seen] == [
        b'{"firingIds":["f1"]}',
        b'{"firingIds":["f2"]}',
    ]
