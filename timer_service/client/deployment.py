"""A deployed stack as a client finds it: its CloudFormation outputs, read with the usual AWS
credentials and region (environment, profile, SSO...).

A timer-service stack's outputs are ``ApiUrl``, ``TableName``, ``QueueUrl``, ``DlqUrl`` and
``OutputQueueUrl`` (and ``ApiKeyId`` with ``apiAuth=API_KEY``); the client needs ``ApiUrl``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from timer_service.client.errors import DeploymentError

__all__ = ["Deployment", "region_of_url"]

_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


def region_of_url(url: str | httpx.URL) -> str | None:
    """The region in an execute-api URL's host (``abc.execute-api.eu-west-1.amazonaws.com``);
    None for any other host (a custom domain, the local stack)."""
    match = _API_HOST.match(httpx.URL(url).host)
    return match.group(1) if match else None


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
        """Read ``stack``'s outputs in ``region`` (else the environment's or the profile's)."""
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

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
