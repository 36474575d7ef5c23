"""Header fields a job sends, checked when the timer is written rather than at firing time.

RFC 9110 5.1: a field name is a token. 5.5: a field value is visible characters, with spaces
and tabs only between them; obs-text (bytes over 0x7F) is left out because httpx sends header
values as ASCII. What h11 (httpx's HTTP/1.1) refuses at firing time could only be retried until
the dead-letter queue, so the PUT refuses it, naming ``job.headers.<Name>``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["HeaderName", "HeaderValue"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"(?:[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)?")


def _header_name(name: str) -> str:
    if _TOKEN.fullmatch(name) is None:
        raise ValueError(
            "a header name is 1 or more of A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~"
            " (an RFC 9110 token)"
        )
    return name


def _header_value(value: str) -> str:
    if _FIELD_VALUE.fullmatch(value) is None:
        raise ValueError(
            "a header value is visible ASCII with spaces or tabs only between characters"
            " (RFC 9110 field-value): no CR, LF or other control characters"
        )
    return value


HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[str, AfterValidator(_header_value)]
