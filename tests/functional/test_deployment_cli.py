"""`timer-service ... --stack NAME` reads a deployed stack's outputs; `timer-service api` signs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import AwsResources
from timer_service_cli.main import main


@dataclass
class SignedApi:
    """An HTTP server that checks SigV4 signatures as API Gateway would, with botocore; it
    answers what ``bodies`` holds for the path (without its query), else the check's result."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    bodies: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway

            def do_PUT(self) -> None:
                api.answer(self)

            do_GET = do_DELETE = do_POST = do_PUT

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/"

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        headers = dict(request.headers.items())
        valid = verify(request.command, f"http://{headers['Host']}{request.path}", headers, body)
        self.requests.append(
            {
                "method": request.command,
                "path": request.path,
                "headers": headers,
                "body": body,
                "peer": request.client_address,
            }
        )
        status = 200 if valid else 403
        answer = {"signatureValid": valid, "path": request.path}
        if valid:
            answer = self.bodies.get(request.path.split("?")[0], answer)
        payload = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)


def verify(method: str, url: str, headers: dict[str, str], body: bytes) -> bool:
    """Recompute the request's SigV4 signature from its own headers and date."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = headers.get("Authorization", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        return False
    fields = dict(part.split("=", 1) for part in authorization[17:].split(", "))
    signed = fields["SignedHeaders"].split(";")
    copy = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers={k: v for k, v in headers.items() if k.lower() in signed},
    )
    copy.context["timestamp"] = headers["X-Amz-Date"]
    scope = fields["Credential"].split("/")
    signer = SigV4Auth(Credentials("testing", "testing"), scope[3], scope[2])
    canonical = signer.canonical_request(copy)
    expected = signer.signature(signer.string_to_sign(copy, canonical), copy)
    return bool(expected == fields["Signature"])


@pytest.fixture
def signed_api() -> Iterator[SignedApi]:
    api = SignedApi()
    yield api
    api.server.shutdown()


@pytest.fixture
def deployed(aws: AwsResources, signed_api: SignedApi) -> str:
    """A CloudFormation stack (on moto) whose outputs name the test's table and queues."""
    from timer_service.aws import client

    outputs = {
        "ApiUrl": signed_api.url,
        "TableName": aws.table,
        "QueueUrl": aws.dispatch_queue_url,
        "DlqUrl": aws.dlq_url,
        "OutputQueueUrl": aws.output_queue_url,
    }
    template = {
        "Resources": {"Marker": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "m"}}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    cloudformation = client("cloudformation", "us-east-1", aws.endpoint_url)
    cloudformation.create_stack(StackName="Timers-Prod", TemplateBody=json.dumps(template))
    return "Timers-Prod"


def test_shards_commands_work_on_a_deployed_stack(
    deployed: str, aws: AwsResources, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from timer_service.aws import client
    from timer_service.store.dynamodb import DynamoTimerStore

    assert main(["shards", "--state-dir", str(tmp_path), "--stack", deployed, "set", "3"]) == 0
    assert capsys.readouterr().out.strip() == "3 active shards"
    store = DynamoTimerStore(client("dynamodb", "us-east-1", aws.endpoint_url), aws.table)
    assert store.get_registry().active == (0, 1, 2)
    assert main(["shards", "--stack", deployed, "list"]) == 0
    assert capsys.readouterr().out.count("active") == 3


def test_dlq_list_works_on_a_deployed_stack(
    deployed: str, aws: AwsResources, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.functional.conftest import dead_letter_box
    from timer_service.dispatch import Firing

    dead_letter_box(aws).record(Firing("a", "lost", 1, 1700000000), error="HTTP 500", attempts=5)
    assert main(["dlq", "--stack", deployed, "list"]) == 0
    printed = capsys.readouterr().out
    assert "a#lost@2023-11-14T22:13:20Z" in printed
    assert "1 firings in the dead-letter queue" in printed


def test_api_command_signs_calls_to_the_stacks_api(
    deployed: str, signed_api: SignedApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["api", "PUT", "/periodic/nightly", '{"schedule": "rate(1 day)"}', "--stack", deployed]
    )
    assert code == 0
    (request,) = signed_api.requests
    assert (request["method"], request["path"]) == ("PUT", "/v1/periodic/nightly")
    assert json.loads(request["body"]) == {"schedule": "rate(1 day)"}
    assert "/us-east-1/execute-api/aws4_request" in request["headers"]["Authorization"]
    assert json.loads(capsys.readouterr().out)["signatureValid"] is True


def test_api_command_refuses_a_body_that_is_not_json(
    signed_api: SignedApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api", "PUT", "/periodic/x", "{not json", "--url", signed_api.url]) == 2
    assert "not JSON" in capsys.readouterr().err
    assert signed_api.requests == []


def test_api_command_reports_a_refused_call(
    signed_api: SignedApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-right-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    assert main(["api", "GET", "/periodic", "--url", signed_api.url]) == 1
    captured = capsys.readouterr()
    assert "HTTP 403" in captured.err
    assert json.loads(captured.out)["signatureValid"] is False


def _without_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("command", [["shards", "list"], ["dlq", "list"]])
def test_no_local_stack_and_no_credentials_is_one_line_saying_so(
    command: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    _without_aws_credentials(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    state_dir = tmp_path / "not-a-stack"
    assert main([command[0], "--state-dir", str(state_dir), *command[1:]]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"timer-service {command[0]}: no local stack in {state_dir}")
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_api_without_credentials_or_region_or_server_is_one_line_each(
    signed_api: SignedApi,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    _without_aws_credentials(monkeypatch, tmp_path)
    assert main(["api", "GET", "/periodic", "--url", signed_api.url]) == 1
    assert (
        capsys.readouterr().err
        == "timer-service api: no AWS credentials: configure them as for the AWS CLI\n"
    )
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert main(["console", "--stack", "Timers-Prod"]) == 1
    assert "no AWS region" in capsys.readouterr().err
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    signed_api.server.shutdown()
    signed_api.server.server_close()
    assert main(["api", "GET", "/periodic", "--url", signed_api.url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("timer-service api: cannot reach the API: ") and "Traceback" not in err
    assert signed_api.requests == []


def test_shard_counts_past_the_limit_are_refused_before_anything_is_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["shards", "--state-dir", str(tmp_path), "set", "1001"])
    assert exited.value.code == 2
    assert "must be at most 1000" in capsys.readouterr().err


def test_api_command_with_an_api_key_sends_the_key_and_needs_no_aws_credentials(
    signed_api: SignedApi,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    # A stack deployed with apiAuth=API_KEY takes the key alone (found by an outside review:
    # the command demanded AWS credentials and signed anyway).
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = main(["api", "GET", "/periodic", "--url", signed_api.url, "--api-key", "team-key"])
    (request,) = signed_api.requests
    assert request["headers"]["X-Api-Key"] == "team-key"
    assert "Authorization" not in request["headers"]
    assert code == 1  # this stand-in answers 403 to an unsigned request
    assert "HTTP 403" in capsys.readouterr().err
