"""Webhook signing secrets: their format, their life, and the Standard Webhooks signature.

Standard Webhooks (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/
standard-webhooks.md): a delivery carries ``webhook-id`` (the firing id: the same on every
retry, so a receiver dedupes on it), ``webhook-timestamp`` (integer seconds of the attempt) and
``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, one for each
valid secret, separated by spaces. A secret is ``whsec_`` and the base64 of 32 random bytes (the
key is those bytes).

An owner has at most one ``active`` secret and, during a rotation, one ``retiring`` secret too:

- create: a first (or, after a DELETE, a new) active secret, shown once;
- rotate the active one: a new active secret (shown once), and the old one ``retiring`` for a
  grace period (``graceSeconds``, default a day), during which deliveries carry both
  signatures; once its ``retiresAt`` passes it is retired: no longer signed with nor listed;
- delete: retired now, active or retiring.

The secrets live in the service's table, one item per owner (encrypted at rest, as the table
is); they are never answered again after the request that made them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_GRACE_S",
    "MAX_GRACE_S",
    "SECRET_ID_PATTERN",
    "SECRET_PREFIX",
    "OwnerSecrets",
    "SigningSecret",
    "SigningSecretState",
    "new_secret",
    "sign",
    "signature_header",
]

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SECRET_ID_PATTERN = r"^key_[0-9a-f]{16}$"
DEFAULT_GRACE_S = 86400  # a rotation's old secret is still signed with for a day
MAX_GRACE_S = 7 * 86400

SigningSecretState = Literal["active", "retiring"]


def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, message_id: str, timestamp_s: int, body: bytes) -> str:
    """``v1,<base64>``: HMAC-SHA256, keyed by the secret's bytes, of ``{id}.{timestamp}.{body}``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp_s}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_header(
    secrets_in_use: Sequence[str], message_id: str, timestamp_s: int, body: bytes
) -> str:
    """``webhook-signature``: a signature by each secret, space separated."""
    return " ".join(sign(secret, message_id, timestamp_s, body) for secret in secrets_in_use)


@dataclass(frozen=True)
class SigningSecret:
    """One signing secret of an owner: active, or retiring until ``retires_at_s``."""

    id: str
    secret: str
    created_s: int
    retires_at_s: int | None = None

    @classmethod
    def new(cls, now_s: int) -> SigningSecret:
        return cls(id=f"key_{secrets.token_hex(8)}", secret=new_secret(), created_s=now_s)

    @property
    def state(self) -> SigningSecretState:
        return "active" if self.retires_at_s is None else "retiring"

    def valid_at(self, now_s: float) -> bool:
        """Signed with at ``now_s``: active, or retiring and not retired yet."""
        return self.retires_at_s is None or now_s < self.retires_at_s


@dataclass(frozen=True)
class OwnerSecrets:
    """An owner's signing secrets as stored: one item, written at ``version`` (0: never)."""

    owner: str
    secrets: tuple[SigningSecret, ...] = ()
    version: int = 0

    def valid_at(self, now_s: float) -> tuple[SigningSecret, ...]:
        """The secrets signed with at ``now_s``: the active one first, then newest first."""
        valid = [s for s in self.secrets if s.valid_at(now_s)]
        return tuple(sorted(valid, key=lambda s: (s.retires_at_s is not None, -s.created_s, s.id)))
