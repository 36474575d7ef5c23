"""A synthesized template's IAM as the AWS-call check reads it: each function's statements (with
the permissions CloudFormation implies: an event source's polling, log writing), and IAM's
matching of actions and resources (see tests/infra/iam_policy.py for the sources)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

__all__ = [
    "JOB_TYPE_SID_PREFIX",
    "Function",
    "Permission",
    "Statement",
    "Template",
    "action_matches",
    "resource_matches",
]

JOB_TYPE_SID_PREFIX = "JobType"
THIS_ACCOUNT = "${AWS::AccountId}"
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
