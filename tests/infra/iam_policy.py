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
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.infra.iam_calls import permissions_of
from tests.infra.iam_template import (
    JOB_TYPE_SID_PREFIX,
    Function,
    Permission,
    Statement,
    Template,
    action_matches,
    resource_matches,
)

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

TESTS_LISTED = 3  # of the tests that made a denied call

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
