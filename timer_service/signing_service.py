"""Webhook signing secrets as the API manages them and the callbacks sign with them.

:class:`SigningSecretService` holds the rules of :mod:`timer_service.signing_secrets` (one
active secret, one rotation at a time, retirement after the grace period): each change reads the
owner's record, applies the rule and writes it back conditionally on the version read, again
from the new state when another request wrote first. :class:`SigningSecretCache` is the
callbacks' read: an owner's record at most once a minute per process (``ttl_s``), whatever the
number of firings, so a rotation reaches deliveries within a minute, and a DELETE stops a
secret's signatures within a minute (a retirement at the end of a grace period is exact: it is
decided at each signing).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from timer_service.camel import CamelModel
from timer_service.clock import Clock, format_utc
from timer_service.errors import SigningSecretConflictError, SigningSecretNotFoundError, StoreError
from timer_service.signing_secrets import (
    DEFAULT_GRACE_S,
    MAX_GRACE_S,
    OwnerSecrets,
    SigningSecret,
    SigningSecretState,
)
from timer_service.store.base import TimerStore

__all__ = [
    "CACHE_S",
    "NewSigningSecretView",
    "RotateRequest",
    "SigningSecretCache",
    "SigningSecretPage",
    "SigningSecretService",
    "SigningSecretView",
]

CACHE_S = 60.0  # the callbacks read an owner's secrets at most this often
CACHED_OWNERS = 10_000
WRITE_TRIES = 3  # a change lost to another request's write is made again from what it wrote

Change = Callable[[tuple[SigningSecret, ...], int], tuple[tuple[SigningSecret, ...], str]]


class SigningSecretView(CamelModel):
    """A signing secret as ``GET /signing-secrets`` lists it: never its value."""

    id: str
    state: SigningSecretState = Field(
        description="active: signs every delivery; retiring: signs them too until retiresAt"
    )
    created_at: str
    retires_at: str | None = Field(
        default=None, description="a retiring secret's: when deliveries stop carrying its signature"
    )

    @classmethod
    def of(cls, secret: SigningSecret) -> SigningSecretView:
        return cls(**_fields(secret))


class NewSigningSecretView(SigningSecretView):
    """A secret just made: its value, in this answer only."""

    secret: str = Field(
        description="whsec_ and base64: give it to your receiver; it is never shown again"
    )

    @classmethod
    def of(cls, secret: SigningSecret) -> NewSigningSecretView:
        return cls(**_fields(secret), secret=secret.secret)


class SigningSecretPage(CamelModel):
    """The caller's signing secrets, the active one first."""

    items: list[SigningSecretView]


class RotateRequest(CamelModel):
    """The body of ``POST /signing-secrets/{id}/rotate`` (optional)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True
    )

    grace_seconds: Annotated[
        int,
        Field(
            ge=0,
            le=MAX_GRACE_S,
            description="how long the old secret still signs deliveries (0: it stops now)",
        ),
    ] = DEFAULT_GRACE_S


def _fields(secret: SigningSecret) -> dict[str, str | None]:
    retires = None if secret.retires_at_s is None else format_utc(secret.retires_at_s)
    return {
        "id": secret.id,
        "state": secret.state,
        "created_at": format_utc(secret.created_s),
        "retires_at": retires,
    }


class SigningSecretService:
    """Create, list, rotate and delete an owner's signing secrets."""

    def __init__(self, *, store: TimerStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def list(self, owner: str) -> SigningSecretPage:
        now_s = self._clock.now()
        valid = self._store.get_signing_secrets(owner).valid_at(now_s)
        return SigningSecretPage(items=[SigningSecretView.of(secret) for secret in valid])

    def create(self, owner: str) -> NewSigningSecretView:
        """A new active secret; a conflict while the owner has one (rotate it instead)."""

        def change(
            valid: tuple[SigningSecret, ...], now_s: int
        ) -> tuple[tuple[SigningSecret, ...], str]:
            active = [s for s in valid if s.state == "active"]
            if active:
                raise SigningSecretConflictError(
                    f"you have an active signing secret, {active[0].id}: rotate it"
                    f" (POST /signing-secrets/{active[0].id}/rotate) or delete it"
                )
            made = SigningSecret.new(now_s)
            return (made, *valid), made.id

        return self._made(owner, change)

    def rotate(
        self, owner: str, secret_id: str, *, grace_s: int = DEFAULT_GRACE_S
    ) -> NewSigningSecretView:
        """A new active secret in place of ``secret_id``, which signs on for ``grace_s``."""

        def change(
            valid: tuple[SigningSecret, ...], now_s: int
        ) -> tuple[tuple[SigningSecret, ...], str]:
            old = _find(valid, secret_id)
            if old.state == "retiring":
                raise SigningSecretConflictError(
                    f"signing secret {secret_id} is retiring already (at"
                    f" {format_utc(old.retires_at_s or now_s)}): rotate the active one"
                )
            retiring = [s for s in valid if s.state == "retiring"]
            if retiring:
                raise SigningSecretConflictError(
                    f"a rotation is under way: {retiring[0].id} retires at"
                    f" {format_utc(retiring[0].retires_at_s or now_s)}; delete it"
                    f" (DELETE /signing-secrets/{retiring[0].id}) to rotate again now"
                )
            made = SigningSecret.new(now_s)
            kept = () if grace_s == 0 else (replace(old, retires_at_s=now_s + grace_s),)
            return (made, *kept), made.id

        return self._made(owner, change)

    def delete(self, owner: str, secret_id: str) -> str:
        """Retire ``secret_id`` now, active or retiring."""

        def change(
            valid: tuple[SigningSecret, ...], now_s: int
        ) -> tuple[tuple[SigningSecret, ...], str]:
            _find(valid, secret_id)
            return tuple(s for s in valid if s.id != secret_id), secret_id

        self._write(owner, change)
        return secret_id

    # --- internals ------------------------------------------------------------------------

    def _made(self, owner: str, change: Change) -> NewSigningSecretView:
        written, made_id = self._write(owner, change)
        (made,) = [s for s in written.secrets if s.id == made_id]
        return NewSigningSecretView.of(made)

    def _write(self, owner: str, change: Change) -> tuple[OwnerSecrets, str]:
        """Apply ``change`` to the owner's valid secrets (the retired ones dropped) and store
        the result at the next version, made again from what another request wrote first."""
        for _ in range(WRITE_TRIES):
            stored = self._store.get_signing_secrets(owner)
            now_s = int(self._clock.now())
            secrets, result = change(stored.valid_at(now_s), now_s)
            written = OwnerSecrets(owner, secrets, stored.version + 1)
            if self._store.put_signing_secrets(written, expected_version=stored.version):
                return written, result
        raise StoreError("the signing secrets changed under every try: try again")


def _find(valid: tuple[SigningSecret, ...], secret_id: str) -> SigningSecret:
    found = next((s for s in valid if s.id == secret_id), None)
    if found is None:
        raise SigningSecretNotFoundError(secret_id)
    return found


class SigningSecretCache:
    """The secrets each owner's deliveries are signed with now, read at most every ``ttl_s``
    per owner (the firings of a batch, and of the next minute, share one read)."""

    def __init__(self, *, store: TimerStore, clock: Clock, ttl_s: float = CACHE_S) -> None:
        self._store = store
        self._clock = clock
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._owner_locks: dict[str, threading.Lock] = {}
        self._read: OrderedDict[str, tuple[float, OwnerSecrets]] = OrderedDict()

    def valid(self, owner: str) -> tuple[str, ...]:
        """The owner's secrets valid now, the active one first; () when it has none."""
        now_s = self._clock.now()
        return tuple(secret.secret for secret in self._secrets(owner, now_s).valid_at(now_s))

    def _secrets(self, owner: str, now_s: float) -> OwnerSecrets:
        with self._lock:
            lock = self._owner_locks.setdefault(owner, threading.Lock())
        with lock:  # the firings of one owner running at once make one read
            with self._lock:
                cached = self._read.get(owner)
            if cached is not None and now_s - cached[0] < self._ttl_s:
                return cached[1]
            read = self._store.get_signing_secrets(owner)
            with self._lock:
                self._read[owner] = (now_s, read)
                self._read.move_to_end(owner)
                while len(self._read) > CACHED_OWNERS:
                    dropped, _ = self._read.popitem(last=False)
                    self._owner_locks.pop(dropped, None)
            return read
