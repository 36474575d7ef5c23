"""A deployed stack as the command line sees it: its outputs, and SigV4-signed API calls.

``timer-service ... --stack NAME`` reads the stack's CloudFormation outputs (``ApiUrl``,
``TableName``, ``QueueUrl``, ``DlqUrl``, ``OutputQueueUrl``) with the usual AWS credentials
and region (environment, profile, SSO...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ClientError

from timer_service.errors import TimerServiceError

__all__ = ["Deployment", "DeploymentError", "api_region", "parse_body", "signed_call"]

_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")


class DeploymentError(TimerServiceError):
    """The stack is missing, or lacks the outputs the command needs."""

    code = "deployment_error"


@dataclass(frozen=True)
class Deployment:
    """The outputs of a deployed timer-service stack."""

    stack: str
    region: str
    outputs: Mapping[str, str]

    @classmethod
    def load(
        cls, stack: str, *, region: str | None = None, endpoint_url: str | None = None
    ) -> Deployment:
        from timer_service.settings import Settings

        region = region or Settings.region_from_env()
        session: Any = boto3.session.Session(region_name=region)
        if session.region_name is None:
            raise DeploymentError("no AWS region: set AWS_REGION or a profile with a region")
        client = session.client("cloudformation", endpoint_url=endpoint_url)
        try:
            described = client.describe_stacks(StackName=stack)["Stacks"][0]
        except (ClientError, BotoCoreError) as exc:
            raise DeploymentError(f"stack {stack!r}: {exc}") from exc
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        return cls(stack=stack, region=session.region_name, outputs=outputs)

    def output(self, name: str) -> str:
        try:
            return self.outputs[name]
        except KeyError:
            raise DeploymentError(
                f"stack {self.stack!r} has no output {name!r}: is it a timer-service stack?"
            ) from None


def api_region(url: str, default: str) -> str:
    """The region in an execute-api URL's host, else ``default``."""
    host = httpx.URL(url).host
    match = _API_HOST.match(host)
    return match.group(1) if match else default


def signed_call(
    method: str,
    base_url: str,
    path: str,
    *,
    body: str | None = None,
    region: str,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
) -> httpx.Response:
    """Call the API with a SigV4 signature (service ``execute-api``) from the usual credentials,
    or, with ``api_key``, with that key alone (a stack deployed with API keys takes no
    signature); ``headers`` are sent (and signed) too, e.g. ``If-Match``."""
    url = urljoin(base_url if base_url.endswith("/") else base_url + "/", path.lstrip("/"))
    headers = dict(headers or {})
    if body is not None:
        headers["Content-Type"] = "application/json"
    if api_key is not None:
        headers["X-Api-Key"] = api_key
    else:
        credentials = boto3.session.Session().get_credentials()
        if credentials is None:
            raise DeploymentError("no AWS credentials: configure them as for the AWS CLI")
        request = AWSRequest(method=method.upper(), url=url, data=body or b"", headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        headers = dict(request.headers.items())
    with httpx.Client(timeout=timeout_s) as client:
        return client.request(
            method.upper(),
            url,
            content=body.encode() if body is not None else None,
            headers=headers,
        )


def parse_body(text: str | None) -> str | None:
    """A request body from the command line: JSON text, ``@file`` or None; checked as JSON."""
    if text is None:
        return None
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as handle:
            text = handle.read()
    json.loads(text)  # a mistake is the caller's to see before anything is sent
    return text
