"""The service's Lambda functions as the construct makes them: each with a log group and a role
of its own, allowed to write those logs and nothing else (no managed policy, no wildcard)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from timer_service_cdk.front import LOG_RETENTION
from timer_service_cdk.nag import acknowledge

__all__ = ["Functions"]


@dataclass(frozen=True)
class Functions:
    """Makes the functions in ``scope``: one runtime and code, X-Ray tracing on or off."""

    scope: Construct
    runtime: lambda_.Runtime
    code: lambda_.Code
    tracing: bool

    def make(
        self,
        construct_id: str,
        handler: str,
        environment: Mapping[str, str],
        timeout: Duration,
        memory_mb: int,
        *,
        code: lambda_.Code | None = None,
        architecture: lambda_.Architecture = lambda_.Architecture.ARM_64,
        ephemeral_storage_mb: int | None = None,
    ) -> lambda_.Function:
        """A function named ``construct_id`` (its logs ``...Logs``, its role ``...Role``)."""
        log_group = logs.LogGroup(
            self.scope,
            f"{construct_id}Logs",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self.scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"timer-service {construct_id}",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self.scope,
            construct_id,
            runtime=self.runtime,
            architecture=architecture,
            handler=handler,
            code=code or self.code,
            timeout=timeout,
            memory_size=memory_mb,
            environment=dict(environment),
            tracing=lambda_.Tracing.ACTIVE if self.tracing else lambda_.Tracing.DISABLED,
            log_group=log_group,
            role=role,
            ephemeral_storage_size=None
            if ephemeral_storage_mb is None
            else Size.mebibytes(ephemeral_storage_mb),
        )
        if self.tracing:
            acknowledge(role, "IAM5", "Resource::*")
        if self.runtime.name != lambda_.Runtime.PYTHON_3_14.name:
            acknowledge(function, "L1")
        return function
