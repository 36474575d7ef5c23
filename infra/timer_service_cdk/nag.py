"""cdk-nag AwsSolutions checks, and the findings this design accepts, each with its reason.

The construct acknowledges each accepted finding on the construct that causes it (never
stack-wide), so an app that runs cdk-nag over a ``TimerService`` sees a clean report.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

__all__ = ["NAG_SUPPRESSIONS", "acknowledge", "add_nag_checks"]

NAG_SUPPRESSIONS: dict[str, str] = {
    "IAM5": "Wildcards only where AWS requires or scopes them: X-Ray's PutTraceSegments takes "
    "no resource (Resource::*); html_monitor snapshot objects live under one key prefix; the "
    "scheduler role may invoke the ticker's versions (<arn>:*). Data actions are listed one "
    "by one, on named tables, queues and the owner index.",
    "IAM4": "AWS managed policies only in roles CDK makes for itself: the AwsCustomResource "
    "provider that writes the shard registry (AWSLambdaBasicExecutionRole) and API Gateway's "
    "account-level CloudWatch role (AmazonAPIGatewayPushToCloudWatchLogs). The service's own "
    "functions have roles without managed policies.",
    "L1": "Python 3.13 is a current Lambda runtime (supported into 2029) and the one the bundle's "
    "wheels are built and tested for; pass runtime=Runtime.PYTHON_3_14 to move on. The "
    "AwsCustomResource provider's Node.js runtime is chosen by CDK.",
    "APIG2": "Requests are validated in the API function (pydantic models, the same ones its "
    "OpenAPI document is generated from), with errors naming the field; a proxy integration "
    "has no API Gateway models to validate against.",
    "APIG3": "WAF is optional for an API behind IAM (SigV4) or API keys with a usage plan; attach "
    "a web ACL to the stage if the API is exposed more widely.",
    "APIG4": "With api_auth=API_KEY, callers are identified by API keys and limited by the usage "
    "plan (throttle and quota): the chosen mode, not an oversight. A heartbeat timer's ping "
    "(/ping/{token}) takes neither IAM nor a key: a cron job's plain curl has none; the 256-bit "
    "token in the URL is its credential, checked by the function (only its SHA-256 is kept), "
    "and the stage's throttling applies.",
    "COG4": "Callers authenticate with IAM (SigV4) or API keys by design; no Cognito user pool.",
    "SQS3": "The output queue is where the sqs job type delivers for the user's own consumer; "
    "its redrive policy is that consumer's to choose. The dispatch queue has its DLQ.",
    "SMG4": "The message signing key is internal to the service (no person or client uses it); "
    "rotating it would make the callbacks drop the messages in flight signed with the old key. "
    "Rotate it by replacing the secret's value during a quiet minute, or redeploy.",
    "S1": "The snapshot bucket holds only html_monitor text snapshots, read and written by the "
    "callback function's role alone; enable CloudTrail data events for an audit trail.",
}


def acknowledge(construct: IConstruct, rule: str, finding: str | None = None) -> None:
    """Acknowledge AwsSolutions-``rule`` (one ``finding`` of it, when given) on ``construct``."""
    rule_id = f"AwsSolutions::AwsSolutions-{rule}" + (f"[{finding}]" if finding else "")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=NAG_SUPPRESSIONS[rule]))


def add_nag_checks(app: App) -> None:
    """Run the AwsSolutions pack when ``app`` synthesises: a finding fails the synthesis."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
