"""Labels: a timer's ``key -> value`` map, the rules a label obeys, and label selectors.

A label key is 1-63 characters of ``a-z 0-9 . _ / -`` starting with a letter or digit; a value is
0-63 characters of ``A-Z a-z 0-9 . _ / : @ + -``; a timer has at most 20 labels. Neither holds
``=`` or ``,``, and a key holds no ``:``: ``team=payments`` (the command line) and
``team:payments`` (the API's ``label`` query parameter) each split at their first separator.

Each label is also one small item of the table (:func:`timer_service.keys.label_key`), written
in the timer's own transaction, so a listing by label reads the timers that have it, not all of
the owner's.

    >>> check_labels({"team": "payments", "tier": ""})
    {'team': 'payments', 'tier': ''}
    >>> parse_selector(["team:payments", "env:prod"])
    {'team': 'payments', 'env': 'prod'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, StrictStr, WithJsonSchema

from timer_service.errors import InvalidRequestError

__all__ = [
    "LABEL_KEY_PATTERN",
    "LABEL_KEY_RULE",
    "LABEL_VALUE_PATTERN",
    "LABEL_VALUE_RULE",
    "MAX_LABELS",
    "LabelMap",
    "check_labels",
    "label_error",
    "matches",
    "parse_pair",
    "parse_selector",
    "relabelled",
]

MAX_LABELS = 20
LABEL_KEY_PATTERN = r"^[a-z0-9][a-z0-9._/-]{0,62}$"
LABEL_VALUE_PATTERN = r"^[A-Za-z0-9._/:@+-]{0,63}$"
LABEL_KEY_RULE = (
    "a label key is 1-63 characters of a-z 0-9 . _ / -, starting with a letter or digit"
)
LABEL_VALUE_RULE = "a label value is 0-63 characters of A-Z a-z 0-9 . _ / : @ + -"
_KEY_RE = re.compile(LABEL_KEY_PATTERN)
_VALUE_RE = re.compile(LABEL_VALUE_PATTERN)


def label_error(key: str, value: object) -> str | None:
    """What is wrong with the label ``key: value``, or None."""
    if not _KEY_RE.fullmatch(key):
        return LABEL_KEY_RULE
    if not isinstance(value, str):
        return "a label value is a string"
    if not _VALUE_RE.fullmatch(value):
        return LABEL_VALUE_RULE
    return None


def check_labels(labels: Mapping[str, object], *, field: str = "labels") -> dict[str, str]:
    """``labels`` when every label obeys the rules; else InvalidRequestError naming the label
    (``labels.team``), or ``labels`` itself when there are too many."""
    if len(labels) > MAX_LABELS:
        raise InvalidRequestError(
            f"{field}: at most {MAX_LABELS} labels, not {len(labels)}", field=field
        )
    for key in sorted(labels):
        problem = label_error(key, labels[key])
        if problem is not None:
            raise InvalidRequestError(f"{field}.{key}: {problem}", field=f"{field}.{key}")
    return {key: str(value) for key, value in labels.items()}


def _labels_obey_the_rules(labels: dict[str, str]) -> dict[str, str]:
    if len(labels) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels, not {len(labels)}")
    return labels


def _key_obeys_the_rules(key: str) -> str:
    if not _KEY_RE.fullmatch(key):
        raise ValueError(LABEL_KEY_RULE)
    return key


def _value_obeys_the_rules(value: str) -> str:
    if not _VALUE_RE.fullmatch(value):
        raise ValueError(LABEL_VALUE_RULE)
    return value


_SCHEMA: dict[str, Any] = {
    "type": "object",
    "maxProperties": MAX_LABELS,
    "propertyNames": {"type": "string", "pattern": LABEL_KEY_PATTERN, "maxLength": 63},
    "additionalProperties": {"type": "string", "pattern": LABEL_VALUE_PATTERN, "maxLength": 63},
    "description": f"at most {MAX_LABELS} labels; {LABEL_KEY_RULE}; {LABEL_VALUE_RULE}",
    "examples": [{"team": "payments", "env": "prod"}],
}
#: A label map in a request body: a refused label's error names it (``labels.team``).
LabelMap = Annotated[
    dict[
        Annotated[str, AfterValidator(_key_obeys_the_rules)],
        Annotated[StrictStr, AfterValidator(_value_obeys_the_rules)],
    ],
    AfterValidator(_labels_obey_the_rules),
    WithJsonSchema(_SCHEMA),
]


def parse_pair(text: str, *, separator: str, field: str) -> tuple[str, str]:
    """``key<separator>value`` as a checked pair; InvalidRequestError naming ``field``."""
    key, found, value = text.partition(separator)
    if not found:
        raise InvalidRequestError(
            f"{field}: {text!r} is not key{separator}value (e.g. team{separator}payments)",
            field=field,
        )
    problem = label_error(key, value)
    if problem is not None:
        raise InvalidRequestError(f"{field}: {text!r}: {problem}", field=field)
    return key, value


def parse_selector(
    pairs: Iterable[str], *, separator: str = ":", field: str = "label"
) -> dict[str, str]:
    """Label pairs (``team:payments``) as a selector: a timer matches when it has every pair.
    A key given twice with two values matches no timer, so it is refused."""
    selector: dict[str, str] = {}
    for text in pairs:
        key, value = parse_pair(text, separator=separator, field=field)
        if selector.get(key, value) != value:
            raise InvalidRequestError(
                f"{field}: {key} is given twice, with two values: no timer has both", field=field
            )
        selector[key] = value
    if len(selector) > MAX_LABELS:
        raise InvalidRequestError(f"{field}: at most {MAX_LABELS} pairs", field=field)
    return selector


def matches(labels: Mapping[str, str], selector: Mapping[str, str]) -> bool:
    """Whether ``labels`` has every pair of ``selector``."""
    return all(labels.get(key) == value for key, value in selector.items())


def relabelled(
    labels: Mapping[str, str], *, put: Mapping[str, str], remove: Iterable[str]
) -> dict[str, str]:
    """``labels`` without the keys ``remove``, then with ``put`` over them."""
    gone = set(remove)
    return {k: v for k, v in labels.items() if k not in gone} | dict(put)
