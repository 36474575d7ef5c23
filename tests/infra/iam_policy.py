"""Checks recorded AWS calls against the function roles of a synthesized CloudFormation template.

A recorded call (:mod:`timer_service_local.aws_calls`) becomes the IAM permissions it needs, as
the AWS Service Authorization Reference and the services' guides map API operations to actions:

- SQS batch operations are authorised as their single forms (``SendMessageBatch`` needs
  ``sqs:SendMessage``; "Amazon SQS batch actions", SQS Developer Guide:
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-batch-api.html);
- DynamoDB ``TransactWriteItems`` needs ``PutItem``/``UpdateItem``/``DeleteItem``/
  ``ConditionCheckItem`` on each item's table, ``TransactGetItems`` ``GetItem`` ("Using IAM with
  DynamoDB transactions":
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html);
  ``BatchGetItem``/``BatchWriteItem`` are actions of their own, on each table; a ``Query`` or
  ``Scan`` of an index is authorised on the index ARN ``<table ARN>/index/<name>``;
- Lambda ``Invoke`` is ``lambda:InvokeFunction`` (Service Authorization Reference, AWS Lambda:
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html);
  ``HeadObject`` is ``s3:GetObject`` and ``ListObjectsV2`` ``s3:ListBucket`` on the bucket.

A resource the function's environment names (``TIMER_TABLE``, ``DISPATCH_QUEUE_URL``, ...) is
one of the service's own: the local name is mapped to the template resource that the same
environment variable names on that function (its ``Ref``), and so to that resource's ARN as the
template writes it (``${TimersTable0C93E2D8.Arn}``). Anything else (a job type's topic, queue,
function, bus, instances, role) is resolved to a concrete ARN and checked apart: against the
``callback_policy_statements`` a user adds for their job types (statements whose ``Sid``
starts with ``JobType``); the service's own resources are checked against the service's own
statements only.

Permissions no call makes but the template implies are checked too: an SQS event source
mapping polls with the function's role (``sqs:ReceiveMessage``, ``sqs:DeleteMessage``,
``sqs:GetQueueAttributes``: "Configuring an Amazon SQS queue to trigger an AWS Lambda
function", SQS Developer Guide), and the Lambda service writes the function's logs with it.

Policies are evaluated as IAM does for one identity policy: an explicit ``Deny`` wins, then any
``Allow`` whose ``Action`` and ``Resource`` (or ``NotAction``/``NotResource``) match. Actions
match case-insensitively with ``*`` and ``?``; resources with ``*`` and ``?`` inside an ARN
segment, a ``*`` that ends a segment also matching across colons ("IAM JSON policy elements:
Resource", IAM User Guide). Conditions are not evaluated: a conditional Allow counts as an
allow and is listed as such.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlparse

__all__ = [
    "JOB_TYPE_SID_PREFIX",
    "Check",
    "Function",
    "Permission",
    "Statement",
    "Template",
    "action_matches",
    "check",
    "permissions_of",
    "resource_matches",
]

JOB_TYPE_SID_PREFIX = "JobType"
TESTS_LISTED = 3  # of the tests that made a denied call
THIS_ACCOUNT = "${AWS::AccountId}"
SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
S3_ACTIONS = {"HeadObject": "GetObject", "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket"}
IAM_PREFIX = {"stepfunctions": "states", "elbv2": "elasticloadbalancing"}  # boto3 name: prefix
ESM_SQS_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
_LOGICAL_ID_HASH = re.compile(r"[0-9A-F]{8}(?=$|\.)")


# --- matching ---------------------------------------------------------------------------


@cache
def _action_pattern(pattern: str) -> re.Pattern[str]:
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower()
    )
    return re.compile(regex)


def action_matches(pattern: str, action: str) -> bool:
    """``sqs:Send*`` matches ``sqs:SendMessage``; IAM actions are case-insensitive."""
    return _action_pattern(pattern).fullmatch(action.lower()) is not None


@cache
def _resource_pattern(pattern: str) -> re.Pattern[str]:
    parts = []
    for n, c in enumerate(pattern):
        if c == "*":
            ends_segment = n + 1 == len(pattern) or pattern[n + 1] == ":"
            parts.append(".*" if ends_segment else "[^:]*")
        elif c == "?":
            parts.append("[^:]")
        else:
            parts.append(re.escape(c))
    return re.compile("".join(parts))


def resource_matches(pattern: str, resource: str) -> bool:
    """IAM's resource wildcards: ``*`` and ``?`` within an ARN segment; a ``*`` that ends a
    segment may span colons (``arn:aws:lambda:*:*:function:*`` covers a qualified ARN)."""
    return _resource_pattern(pattern).fullmatch(resource) is not None


# --- the template -----------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One policy statement, its resources rendered as strings (see :meth:`Template.render`)."""

    effect: str
    actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    sid: str | None = None
    conditional: bool = False

    @property
    def job_type(self) -> bool:
        return (self.sid or "").startswith(JOB_TYPE_SID_PREFIX)

    def covers_action(self, action: str) -> bool:
        if self.not_actions:
            return not any(action_matches(p, action) for p in self.not_actions)
        return any(action_matches(p, action) for p in self.actions)

    def covers_resource(self, resource: str) -> bool:
        if self.not_resources:
            return not any(resource_matches(p, resource) for p in self.not_resources)
        return any(resource_matches(p, resource) for p in self.resources)

    def covers(self, action: str, resource: str) -> bool:
        return self.covers_action(action) and self.covers_resource(resource)


@dataclass
class Function:
    """A Lambda function of the template: its handler, environment and role's statements."""

    logical_id: str
    handler: str
    environment: dict[str, Any]
    statements: list[Statement] = field(default_factory=list)
    managed_policies: list[str] = field(default_factory=list)
    implied: list[Permission] = field(default_factory=list)  # the event source, the logs


@dataclass(frozen=True)
class Permission:
    """An action on a resource that a call needs: the service's own resource or another's."""

    action: str
    resource: str
    own: bool
    why: str = ""  # for permissions no call made: what in the template needs them


class Template:
    """The Lambda functions of a CloudFormation template, with their roles' statements."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        self.resources: dict[str, Any] = dict(template.get("Resources", {}))
        roles: dict[str, list[Statement]] = defaultdict(list)
        managed: dict[str, list[str]] = defaultdict(list)
        for logical_id, resource in self.resources.items():
            properties = resource.get("Properties", {})
            if resource["Type"] == "AWS::IAM::Policy":
                statements = self._statements(properties["PolicyDocument"])
                for role in properties.get("Roles", []):
                    roles[_ref(role)] += statements
            elif resource["Type"] == "AWS::IAM::Role":
                for policy in properties.get("Policies", []):
                    roles[logical_id] += self._statements(policy["PolicyDocument"])
                managed[logical_id] += [
                    self.render(a) for a in properties.get("ManagedPolicyArns", [])
                ]
        self.functions: dict[str, Function] = {}
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            properties = resource["Properties"]
            role = _get_att(properties["Role"])
            function = Function(
                logical_id=logical_id,
                handler=properties.get("Handler", ""),
                environment=dict(properties.get("Environment", {}).get("Variables", {})),
                statements=roles.get(role, []),
                managed_policies=managed.get(role, []),
            )
            function.implied = self._implied(function, properties)
            self.functions[function.handler] = function

    def render(self, value: Any) -> str:
        """A string as IAM would see it, CloudFormation intrinsics kept as ``${Logical.Attr}``
        (``AWS::Partition`` and ``AWS::URLSuffix`` filled in)."""
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref":
                return {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}.get(
                    argument, f"${{{argument}}}"
                )
            if name == "Fn::GetAtt":
                logical_id, attribute = (
                    argument if isinstance(argument, list) else argument.split(".", 1)
                )
                return f"${{{logical_id}.{attribute}}}"
            if name == "Fn::Join":
                separator, parts = argument
                return separator.join(self.render(part) for part in parts)
            if name == "Fn::Sub" and isinstance(argument, str):
                return argument.replace("${AWS::Partition}", "aws")
        raise ValueError(f"cannot render {value!r}")

    def arn_named_by(self, value: Any) -> str | None:
        """The ARN of the resource an environment value names (``{"Ref": "Table..."}``: the
        table's), None for a literal."""
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in self.resources:
            kind = self.resources[value["Ref"]]["Type"]
            ref_is_arn = kind in ("AWS::SNS::Topic", "AWS::SecretsManager::Secret")
            return f"${{{value['Ref']}}}" if ref_is_arn else f"${{{value['Ref']}.Arn}}"
        if isinstance(value, dict) and set(value) & {"Fn::GetAtt", "Fn::Join"}:
            return self.render(value)
        if isinstance(value, str) and value.startswith("arn:"):  # an imported resource's ARN
            return value
        return None

    def pretty(self, resource: str) -> str:
        """``${TimersDispatchQueueD22151AA.Arn}`` as ``TimersDispatchQueue``."""

        def name(match: re.Match[str]) -> str:
            return _LOGICAL_ID_HASH.sub("", match.group(1)).removesuffix(".Arn")

        return re.sub(r"\$\{([^}]+)\}", name, resource)

    def _statements(self, document: Mapping[str, Any]) -> list[Statement]:
        statements = document.get("Statement", [])
        return [
            Statement(
                effect=s["Effect"],
                actions=tuple(_listed(s.get("Action"))),
                resources=tuple(self.render(r) for r in _listed(s.get("Resource"))),
                not_actions=tuple(_listed(s.get("NotAction"))),
                not_resources=tuple(self.render(r) for r in _listed(s.get("NotResource"))),
                sid=s.get("Sid"),
                conditional=bool(s.get("Condition")),
            )
            for s in (statements if isinstance(statements, list) else [statements])
        ]

    def _implied(self, function: Function, properties: Mapping[str, Any]) -> list[Permission]:
        implied = []
        for resource in self.resources.values():
            mapping = resource.get("Properties", {})
            if resource["Type"] == "AWS::Lambda::EventSourceMapping" and mapping.get(
                "FunctionName"
            ) == {"Ref": function.logical_id}:
                source = mapping["EventSourceArn"]
                if self._is_queue(source):
                    why = "its SQS event source mapping polls with the function's role"
                    queue = self.render(source)
                    implied += [Permission(a, queue, own=True, why=why) for a in ESM_SQS_ACTIONS]
        log_group = properties.get("LoggingConfig", {}).get("LogGroup")
        if log_group is not None:
            arn = self.arn_named_by(log_group)
            if arn is not None:
                why = "Lambda writes the function's logs with its role"
                implied += [Permission(a, arn, own=True, why=why) for a in LOG_ACTIONS]
        if properties.get("TracingConfig", {}).get("Mode") == "Active":
            why = "active tracing sends segments with the function's role"
            implied += [Permission(a, "*", own=True, why=why) for a in XRAY_ACTIONS]
        return implied

    def _is_queue(self, arn: Any) -> bool:
        if isinstance(arn, str):
            return arn.startswith("arn:") and arn.split(":")[2] == "sqs"
        logical_id = _get_att(arn) if isinstance(arn, dict) and "Fn::GetAtt" in arn else None
        return self.resources.get(logical_id, {}).get("Type") == "AWS::SQS::Queue"


def _ref(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    raise ValueError(f"not a Ref: {value!r}")


def _get_att(value: Any) -> str:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise ValueError(f"not a GetAtt: {value!r}")


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- calls -> permissions ---------------------------------------------------------------


@dataclass(frozen=True)
class _Need:
    """An action on a resource named ``identifier`` (a local name, maybe one of the service's
    own) plus ``suffix``; ``external`` is its ARN when it is not the service's."""

    action: str
    identifier: str | None
    suffix: str
    external: str


def _needs(call: Mapping[str, Any]) -> list[_Need]:
    service, operation = call["service"], call["operation"]
    params: Mapping[str, Any] = call.get("params", {})
    region = call.get("region") or "${AWS::Region}"
    if service == "dynamodb":
        return _dynamodb_needs(operation, params, region)
    if service == "sqs":
        action = f"sqs:{SQS_BATCH.get(operation, operation)}"
        if "QueueUrl" in params:
            url = params["QueueUrl"]
            return [_Need(action, url, "", _queue_arn(url, region))]
        if "QueueName" in params:
            account = params.get("QueueOwnerAWSAccountId", THIS_ACCOUNT)
            arn = f"arn:aws:sqs:{region}:{account}:{params['QueueName']}"
            return [_Need(action, params["QueueName"], "", arn)]
        return [_Need(action, None, "", "*")]
    if service == "sns" and operation in ("Publish", "PublishBatch"):
        topic = params.get("TopicArn") or params.get("TargetArn")
        return [_Need("sns:Publish", topic, "", topic or "*")]
    if service == "lambda" and operation in ("Invoke", "InvokeAsync"):
        name = params["FunctionName"]
        return [_Need("lambda:InvokeFunction", name, "", _function_arn(name, params, region))]
    if service == "events" and operation == "PutEvents":
        buses = params.get("EventBusNames") or ["default"]
        return [_Need("events:PutEvents", bus, "", _bus_arn(bus, region)) for bus in set(buses)]
    if service == "secretsmanager" and operation == "GetSecretValue":
        secret = params["SecretId"]
        return [_Need("secretsmanager:GetSecretValue", secret, "", secret)]
    if service == "ssm" and operation == "GetParameter":
        name = params["Name"]
        path = name if name.startswith("/") else f"/{name}"
        arn = (
            name
            if name.startswith("arn:")
            else f"arn:aws:ssm:{region}:{THIS_ACCOUNT}:parameter{path}"
        )
        return [_Need("ssm:GetParameter", name, "", arn)]
    if service == "sts" and operation == "AssumeRole":
        return [_Need("sts:AssumeRole", params["RoleArn"], "", params["RoleArn"])]
    if service == "ec2" and "InstanceIds" in params and not operation.startswith("Describe"):
        return [
            _Need(f"ec2:{operation}", None, "", f"arn:aws:ec2:{region}:{THIS_ACCOUNT}:instance/{i}")
            for i in params["InstanceIds"]
        ]
    if service == "s3" and "Bucket" in params:
        action = f"s3:{S3_ACTIONS.get(operation, operation)}"
        bucket = params["Bucket"]
        key = "" if action == "s3:ListBucket" or "Key" not in params else f"/{params['Key']}"
        return [_Need(action, bucket, key, f"arn:aws:s3:::{bucket}{key}")]
    return [_Need(f"{IAM_PREFIX.get(service, service)}:{operation}", None, "", "*")]


def _dynamodb_needs(operation: str, params: Mapping[str, Any], region: str) -> list[_Need]:
    def table(name: str, action: str, suffix: str = "") -> _Need:
        arn = (
            name
            if name.startswith("arn:")
            else (f"arn:aws:dynamodb:{region}:{THIS_ACCOUNT}:table/{name}")
        )
        return _Need(f"dynamodb:{action}", name, suffix, arn + suffix)

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [table(name, operation) for name in params.get("RequestItems", [])]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            table(name, TRANSACT_ACTIONS[kind])
            for item in params.get("TransactItems", [])
            for kind, name in item.items()
        ]
    if "TableName" in params:
        suffix = f"/index/{params['IndexName']}" if params.get("IndexName") else ""
        return [table(params["TableName"], operation, suffix)]
    return [_Need(f"dynamodb:{operation}", None, "", "*")]


def _queue_arn(url: str, region: str) -> str:
    account, name = urlparse(url).path.strip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _function_arn(name: str, params: Mapping[str, Any], region: str) -> str:
    qualifier = f":{params['Qualifier']}" if params.get("Qualifier") else ""
    if name.startswith("arn:"):
        return name + qualifier
    if ":function:" in name:  # 123456789012:function:name
        return f"arn:aws:lambda:{region}:{name}{qualifier}"
    return f"arn:aws:lambda:{region}:{THIS_ACCOUNT}:function:{name}{qualifier}"


def _bus_arn(bus: str, region: str) -> str:
    return (
        bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{THIS_ACCOUNT}:event-bus/{bus}"
    )


def permissions_of(
    call: Mapping[str, Any], function: Function, template: Template
) -> list[Permission]:
    """What ``call`` needs of ``function``'s role: the service's own resources as the template
    names them, through the environment variable that held their local name."""
    environment: Mapping[str, str] = call.get("env", {})
    needed = []
    for need in _needs(call):
        own = sorted(
            {
                arn + need.suffix
                for name, value in environment.items()
                if value == need.identifier and name in function.environment
                if (arn := template.arn_named_by(function.environment[name])) is not None
            }
        )
        if own:
            needed += [Permission(need.action, arn, own=True) for arn in own]
        else:
            needed.append(Permission(need.action, need.external, own=False))
    return needed


# --- the check --------------------------------------------------------------------------


@dataclass
class Verdict:
    """A permission, whether the role allows it, and the calls that needed it."""

    function: str
    permission: Permission
    allowed: bool
    conditional: bool
    calls: int
    operations: tuple[str, ...]
    tests: tuple[str, ...] = ()  # the tags of the calls (the tests that made them), a few


@dataclass
class Check:
    """The outcome: every permission needed, by function, and the grants none used."""

    template: Template
    verdicts: list[Verdict]
    unused: dict[str, list[tuple[str, str]]]  # function: (action, resource) pairs
    unused_job_type: dict[str, list[tuple[str, str]]]
    calls: Counter[str]  # recorded calls by function
    other_credentials: Counter[tuple[str, str]]  # (function, service:operation)
    unknown_functions: Counter[str]
    expected: tuple[str, ...] = ()  # the functions that should have made calls

    @property
    def denied(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.allowed]

    def report(self) -> str:
        """What a reader needs to fix a role: denied first, then what was seen and unused."""
        pretty = self.template.pretty
        lines = [
            f"{sum(self.calls.values())} AWS calls recorded from the Lambda handlers: "
            + (", ".join(f"{name} {n}" for name, n in sorted(self.calls.items())) or "none")
        ]
        silent = sorted(set(self.expected or self.template.functions) - set(self.calls))
        if silent:
            lines.append(f"no calls recorded (their roles were not checked): {', '.join(silent)}")
        if self.unknown_functions:
            lines.append(f"calls from handlers not in the template: {dict(self.unknown_functions)}")
        denied = self.denied
        table = [("function", "action", "resource", "calls", "operations")]
        table += [
            (
                v.function,
                v.permission.action,
                pretty(v.permission.resource)
                + ("" if v.permission.own else " (not the service's: job-type grants)"),
                str(v.calls) if v.calls else "-",
                ", ".join(v.operations) or v.permission.why,
            )
            for v in denied
        ]
        if denied:
            lines += ["", f"DENIED: {len(denied)} permissions the code needs that its role lacks:"]
            lines += _columns(table)
            made_by = [(v, test) for v in denied for test in v.tests]
            if made_by:
                lines += ["made by (e.g.):"]
                lines += [
                    f"  {v.permission.action} {pretty(v.permission.resource)}: {test}"
                    for v, test in made_by
                ]
        else:
            lines += ["", "every recorded call is allowed by its function's role"]
        external = [v for v in self.verdicts if not v.permission.own and v.allowed]
        if external:
            lines += ["", "calls to resources not the service's, allowed by job-type grants:"]
            lines += [
                f"  {v.function}  {v.permission.action}  {v.permission.resource}  calls: {v.calls}"
                for v in external
            ]
        conditional = [v for v in self.verdicts if v.conditional]
        if conditional:
            lines += ["", "allowed only by statements with conditions (not evaluated):"]
            lines += [
                f"  {v.function}  {v.permission.action}  {pretty(v.permission.resource)}"
                for v in conditional
            ]
        if self.other_credentials:
            lines += ["", "calls made with other credentials (an assumed role; not checked):"]
            lines += [
                f"  {f}  {op}  calls: {n}" for (f, op), n in sorted(self.other_credentials.items())
            ]
        for title, unused in (
            ("unused grants (granted, no recorded call used them)", self.unused),
            ("unused job-type grants", self.unused_job_type),
        ):
            if any(unused.values()):
                lines += ["", f"{title}:"]
                for function, pairs in sorted(unused.items()):
                    for action, resource in pairs:
                        lines.append(f"  {function}  {action}  {pretty(resource)}")
        return "\n".join(lines)


def _columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _decide(statements: Iterable[Statement], permission: Permission) -> tuple[bool, bool]:
    """(allowed, only by a conditional statement): an explicit Deny wins."""
    matching = [s for s in statements if s.covers(permission.action, permission.resource)]
    if any(s.effect == "Deny" and not s.conditional for s in matching):
        return False, False
    allows = [s for s in matching if s.effect == "Allow"]
    return bool(allows), bool(allows) and all(s.conditional for s in allows)


def check(
    calls: Iterable[Mapping[str, Any]], template: Template, *, expected: Sequence[str] = ()
) -> Check:
    """Every permission the calls need, decided by their function's role in ``template``; the
    service's own resources by the service's statements, others by the job-type statements.
    ``expected``: the handlers whose silence the report should mention (default: all)."""
    counted: Counter[str] = Counter()
    other: Counter[tuple[str, str]] = Counter()
    unknown: Counter[str] = Counter()
    distinct: Counter[str] = Counter()  # the same call made again needs nothing new
    samples: dict[str, Mapping[str, Any]] = {}
    tags: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        key = json.dumps({k: v for k, v in call.items() if k != "tag"}, sort_keys=True)
        distinct[key] += 1
        samples.setdefault(key, call)
        if call.get("tag"):
            tags[key].add(call["tag"])
    needed: dict[tuple[str, Permission], Counter[str]] = defaultdict(Counter)
    needed_by: dict[tuple[str, Permission], set[str]] = defaultdict(set)
    for key, n in distinct.items():
        call = samples[key]
        name = call["function"]
        function = template.functions.get(name)
        if function is None:
            unknown[name] += n
            continue
        counted[name] += n
        if call.get("credentials") == "other":
            other[(name, f"{call['service']}:{call['operation']}")] += n
            continue
        for permission in permissions_of(call, function, template):
            needed[(name, permission)][call["operation"]] += n
            needed_by[(name, permission)] |= tags[key]
    for function in template.functions.values():
        if counted[function.handler]:
            for permission in function.implied:
                needed.setdefault((function.handler, permission), Counter())
    verdicts = []
    for (name, permission), operations in sorted(
        needed.items(), key=lambda item: (item[0][0], item[0][1].action, item[0][1].resource)
    ):
        statements = [
            s for s in template.functions[name].statements if not (permission.own and s.job_type)
        ]
        allowed, conditional = _decide(statements, permission)
        verdicts.append(
            Verdict(
                name,
                permission,
                allowed,
                conditional,
                sum(operations.values()),
                tuple(sorted(operations)),
                tuple(sorted(needed_by[(name, permission)])[:TESTS_LISTED]),
            )
        )
    unused: dict[str, list[tuple[str, str]]] = {}
    unused_job_type: dict[str, list[tuple[str, str]]] = {}
    for name in counted:
        used = [v.permission for v in verdicts if v.function == name and v.allowed]
        for statement in template.functions[name].statements:
            if statement.effect != "Allow":
                continue
            target = unused_job_type if statement.job_type else unused
            for action in statement.actions or ("NotAction",):
                for resource in statement.resources or ("NotResource",):
                    pair = (action, resource)
                    if pair not in target.get(name, []) and not any(
                        action_matches(action, p.action) and resource_matches(resource, p.resource)
                        for p in used
                    ):
                        target.setdefault(name, []).append(pair)
    return Check(
        template, verdicts, unused, unused_job_type, counted, other, unknown, tuple(expected)
    )
