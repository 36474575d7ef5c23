"""Page tokens: the last key of a page, opaque to clients, checked when it comes back."""

from __future__ import annotations

import base64
import binascii
import re

from timer_service.errors import InvalidRequestError

__all__ = ["decode_token", "encode_token"]


def encode_token(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode()).decode().rstrip("=")


def decode_token(token: str, *, pattern: re.Pattern[str]) -> str:
    """The key inside ``token``; a 400 naming ``nextToken`` unless it has the key's shape."""
    try:
        last_key = base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        last_key = ""
    if not pattern.match(last_key):
        raise InvalidRequestError("nextToken is not a token this API returned", field="nextToken")
    return last_key
