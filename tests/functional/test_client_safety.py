"""The client's guards, against a small scripted HTTP server on 127.0.0.1: which auth it sends
where (none on loopback, never credentials over plain http off the machine), how it finds a
deployed stack, and the answers and ids it refuses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import AwsResources
from tests.functional.test_client_errors import TIMER, Answer, ScriptedApi, api, client
from tests.functional.test_deployment_cli import SignedApi, deployed, signed_api
from timer_service.client import (
    AsyncTimerClient,
    BadRequestError,
    ClientConfigError,
    Deployment,
    SigV4Auth,
    TimerClient,
    UnexpectedResponseError,
)

__all__ = ["api", "deployed", "signed_api"]  # fixtures used here


def test_client_auth_is_none_on_loopback_a_key_when_given_else_sigv4(api: ScriptedApi) -> None:
    api.script("GET /health", Answer(200, {"status": "ok"}))
    with client(api) as plain, client(api, api_key="k1") as keyed:
        plain.health()
        keyed.health()
    bare, key = api.seen("GET /health")
    assert "Authorization" not in bare.headers and "X-Api-Key" not in bare.headers
    assert key.headers["X-Api-Key"] == "k1"
    deployed_url = "https://abc123.execute-api.ap-south-1.amazonaws.com/prod"
    with TimerClient(deployed_url) as remote:
        auth = remote.options.auth
        assert isinstance(auth, SigV4Auth) and auth.region == "ap-south-1"
    with TimerClient(deployed_url, auth="none") as unsigned:
        assert unsigned.options.auth is None
    with (
        TimerClient("http://[::1]:8080") as v6,
        TimerClient("https://localhost.example.com") as named,
    ):
        assert v6.options.auth is None and isinstance(named.options.auth, SigV4Auth)
    with TimerClient(deployed_url, auth="sigv4", api_key="plan-key") as both:
        # an IAM stack whose usage plan wants a key too: signed, and the key sent
        assert isinstance(both.options.auth, SigV4Auth)
        assert both.options.headers["X-Api-Key"] == "plan-key"


def test_for_stack_reads_the_api_url_from_the_stack_and_signs_for_its_region(
    aws: AwsResources, deployed: str, signed_api: SignedApi
) -> None:
    # GIVEN a stack on moto's CloudFormation whose ApiUrl is a server that checks SigV4
    with TimerClient.for_stack(deployed) as timers:
        answered = timers.health()
    # THEN the call went there, signed for the stack's region
    assert answered == {"signatureValid": True, "path": "/v1/health"}
    (request,) = signed_api.requests
    assert "/us-east-1/execute-api/aws4_request" in request["headers"]["Authorization"]


def test_for_stack_takes_an_injected_lookup_and_an_api_key(api: ScriptedApi) -> None:
    api.script("GET /health", Answer(200, {"status": "ok"}))
    seen: list[tuple[str, Any]] = []

    def lookup(stack: str, **where: Any) -> Deployment:
        seen.append((stack, where))
        return Deployment(stack=stack, region="eu-west-3", outputs={"ApiUrl": api.url})

    with TimerClient.for_stack("Prod", api_key="k9", region="eu-west-3", lookup=lookup) as timers:
        assert timers.health() == {"status": "ok"}
    assert seen == [("Prod", {"region": "eu-west-3", "endpoint_url": None})]
    assert api.seen("GET /health")[0].headers["X-Api-Key"] == "k9"


@pytest.mark.parametrize(
    "options", [{"api_key": "k"}, {"auth": "sigv4"}, {"auth": SigV4Auth(region="us-east-1")}]
)
def test_client_refuses_to_send_credentials_over_plain_http_off_the_machine(
    options: dict[str, Any],
) -> None:
    with pytest.raises(
        ClientConfigError, match=r"https required to send credentials to 192\.0\.2\.2"
    ):
        TimerClient("http://192.0.2.2:8080", **options)
    with pytest.raises(ClientConfigError, match="https required"):
        TimerClient("http://example.com")  # auto: SigV4 off loopback
    with pytest.raises(ClientConfigError, match="https required"):
        AsyncTimerClient("http://example.com", api_key="k")
    TimerClient("https://192.0.2.2", **options).close()
    TimerClient("http://127.0.0.2:1", **options).close()
    TimerClient("http://192.0.2.2", auth="none").close()


def test_client_refuses_a_url_with_user_info() -> None:
    with pytest.raises(ClientConfigError, match="user"):
        TimerClient("https://user:pass@example.com/prod")


def test_for_stack_refuses_a_plain_http_api_url_off_the_machine() -> None:
    def lookup(stack: str, **where: Any) -> Deployment:
        return Deployment(stack=stack, region="eu-west-3", outputs={"ApiUrl": "http://x.test/p"})

    with pytest.raises(ClientConfigError, match=r"https required to send credentials to x\.test"):
        TimerClient.for_stack("Prod", lookup=lookup)


@pytest.mark.parametrize(
    "answer", [Answer(200, None), Answer(204), Answer(200, ["x"]), Answer(200, "ok")]
)
def test_health_and_job_types_check_what_they_are_answered(
    api: ScriptedApi, answer: Answer
) -> None:
    api.script("GET /health", answer)
    api.script("GET /job-types", answer if answer.body != ["x"] else Answer(200, {"a": 1}))
    with client(api) as timers:
        with pytest.raises(UnexpectedResponseError):
            timers.health()
        with pytest.raises(UnexpectedResponseError):
            timers.job_types()


@pytest.mark.parametrize("timer_id", [".", "..", "", "a b", "x" * 129])
def test_client_refuses_an_id_the_api_refuses_before_sending(
    api: ScriptedApi, timer_id: str
) -> None:
    with client(api) as timers, pytest.raises(BadRequestError) as raised:
        timers.get(timer_id)
    assert (raised.value.status, raised.value.code, raised.value.field) == (
        400,
        "invalid_request",
        "id",
    )
    assert raised.value.message.startswith("id: must be 1-128 characters")

    async def calls() -> None:
        async with AsyncTimerClient(api.url) as timers:
            with pytest.raises(BadRequestError):
                await timers.runs(timer_id)

    asyncio.run(calls())
    assert api.requests == []


def test_iter_timers_stops_on_a_repeated_next_token(api: ScriptedApi) -> None:
    api.script("GET /periodic", Answer(200, {"items": [TIMER], "nextToken": "a"}))
    api.script("GET /periodic/a/runs", Answer(200, {"items": [], "nextToken": "t"}))
    with client(api) as timers, pytest.raises(UnexpectedResponseError, match="again"):
        list(timers.iter_timers())
    with client(api) as timers, pytest.raises(UnexpectedResponseError, match="again"):
        list(timers.iter_runs("a"))

    async def calls() -> None:
        async with AsyncTimerClient(api.url) as timers:
            with pytest.raises(UnexpectedResponseError, match="again"):
                [t async for t in timers.iter_timers()]

    asyncio.run(calls())


def test_client_refuses_an_answer_over_its_size_limit(api: ScriptedApi) -> None:
    from timer_service.client.base import MAX_RESPONSE_BYTES

    big = TIMER | {"timerCallbackData": "x" * MAX_RESPONSE_BYTES}
    api.script("GET /periodic/a", Answer(200, big))
    with client(api) as timers, pytest.raises(UnexpectedResponseError, match="larger than"):
        timers.get("a")

    async def calls() -> None:
        async with AsyncTimerClient(api.url) as timers:
            with pytest.raises(UnexpectedResponseError, match="larger than"):
                await timers.get("a")

    asyncio.run(calls())
