"""An owner's webhook signing secrets: created, listed, rotated with a grace period and deleted,
on a fixed clock; signatures checked by the ``standardwebhooks`` package, written elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tests.unit.world import T0
from timer_service.clock import FixedClock
from timer_service.errors import (
    SigningSecretConflictError,
    SigningSecretNotFoundError,
    StoreError,
)
from timer_service.signing_secrets import (
    DEFAULT_GRACE_S,
    SECRET_PREFIX,
    OwnerSecrets,
    new_secret,
    sign,
    signature_header,
)
from timer_service.signing_service import SigningSecretCache, SigningSecretService
from timer_service.store.memory import InMemoryTimerStore


def service() -> tuple[SigningSecretService, InMemoryTimerStore, FixedClock]:
    store, clock = InMemoryTimerStore(), FixedClock(T0)
    return SigningSecretService(store=store, clock=clock), store, clock


def test_a_signature_verifies_with_the_reference_implementation() -> None:
    # GIVEN a new secret and a body WHEN the service signs it THEN standardwebhooks verifies it
    secret, body, now_s = (
        new_secret(),
        b'{"timerId":"t","n":"\xc3\xa9"}',
        int(datetime.now(UTC).timestamp()),
    )
    headers = {
        "webhook-id": "alice#t@2026-11-22T12:00:00Z",
        "webhook-timestamp": str(now_s),
        "webhook-signature": sign(secret, "alice#t@2026-11-22T12:00:00Z", now_s, body),
    }
    assert Webhook(secret).verify(body, headers) == {"timerId": "t", "n": "é"}
    # AND a body changed on the way does not
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b'"t"', b'"u"'), headers)
    # AND another secret does not
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_secrets_are_whsec_and_32_random_bytes() -> None:
    import base64

    first, second = new_secret(), new_secret()
    assert first.startswith(SECRET_PREFIX) and first != second
    assert len(base64.b64decode(first.removeprefix(SECRET_PREFIX))) == 32


def test_a_signature_header_carries_one_signature_per_secret_each_verifying() -> None:
    old, new, now_s = new_secret(), new_secret(), int(datetime.now(UTC).timestamp())
    header = signature_header([new, old], "id-1", now_s, b"{}")
    assert len(header.split(" ")) == 2
    headers = {"webhook-id": "id-1", "webhook-timestamp": str(now_s), "webhook-signature": header}
    for secret in (old, new):
        Webhook(secret).verify(b"{}", headers)


def test_create_shows_the_secret_once_and_lists_it_without() -> None:
    secrets, _, _ = service()
    created = secrets.create("alice")
    assert created.secret.startswith("whsec_") and created.state == "active"
    (listed,) = secrets.list("alice").items
    assert listed.id == created.id and listed.state == "active" and listed.retires_at is None
    assert "secret" not in listed.model_dump(by_alias=True)
    assert created.secret not in secrets.list("alice").model_dump_json()
    assert secrets.list("bob").items == []


def test_a_second_active_secret_is_a_conflict_naming_the_first() -> None:
    secrets, store, _ = service()
    first = secrets.create("alice")
    with pytest.raises(SigningSecretConflictError, match=first.id):
        secrets.create("alice")
    assert len(store.get_signing_secrets("alice").secrets) == 1


def test_rotation_keeps_the_old_secret_valid_for_its_grace_then_retires_it() -> None:
    # GIVEN an active secret
    secrets, store, clock = service()
    old = secrets.create("alice")
    cache = SigningSecretCache(store=store, clock=clock, ttl_s=0)
    # WHEN it is rotated
    clock.advance(10)
    new = secrets.rotate("alice", old.id)
    # THEN both are signed with, the new one first, and the list says which retires when
    assert cache.valid("alice") == (new.secret, old.secret)
    listed = {view.id: view for view in secrets.list("alice").items}
    assert listed[new.id].state == "active"
    assert listed[old.id].state == "retiring"
    assert listed[old.id].retires_at == "2026-11-23T12:00:10Z"  # T0 + 10 s + a day
    # AND once its grace has passed only the new one is
    clock.advance(DEFAULT_GRACE_S)
    assert cache.valid("alice") == (new.secret,)
    assert [view.id for view in secrets.list("alice").items] == [new.id]


def test_a_rotation_with_no_grace_retires_the_old_secret_at_once() -> None:
    secrets, store, clock = service()
    old = secrets.create("alice")
    new = secrets.rotate("alice", old.id, grace_s=0)
    assert SigningSecretCache(store=store, clock=clock).valid("alice") == (new.secret,)


def test_one_rotation_at_a_time() -> None:
    secrets, _, _ = service()
    old = secrets.create("alice")
    new = secrets.rotate("alice", old.id)
    with pytest.raises(SigningSecretConflictError, match="retiring"):
        secrets.rotate("alice", old.id)
    with pytest.raises(SigningSecretConflictError, match=old.id):
        secrets.rotate("alice", new.id)
    # a DELETE of the retiring one ends the rotation: the next may start
    secrets.delete("alice", old.id)
    secrets.rotate("alice", new.id)


def test_delete_retires_a_secret_now_and_unknown_ids_are_404s() -> None:
    secrets, store, clock = service()
    created = secrets.create("alice")
    with pytest.raises(SigningSecretNotFoundError) as missing:
        secrets.delete("bob", created.id)  # not bob's
    assert missing.value.field == "id"
    with pytest.raises(SigningSecretNotFoundError):
        secrets.rotate("alice", "key_0000000000000000")
    assert secrets.delete("alice", created.id) == created.id
    assert secrets.list("alice").items == []
    assert SigningSecretCache(store=store, clock=clock).valid("alice") == ()
    # AND with none left a new one may be created
    secrets.create("alice")


def test_the_callbacks_read_an_owners_secrets_once_a_minute() -> None:
    # GIVEN an owner with a secret, and the callbacks' cache
    secrets, store, clock = service()
    created = secrets.create("alice")
    cache = SigningSecretCache(store=store, clock=clock)
    reads = store.reads
    # WHEN 500 firings of that owner sign in one minute
    for _ in range(500):
        assert cache.valid("alice") == (created.secret,)
        clock.advance(0.1)
    # THEN the store was read once; after the minute, once more
    assert store.reads - reads == 1
    clock.advance(60)
    cache.valid("alice")
    assert store.reads - reads == 2


def test_writes_that_lose_a_race_are_made_again_from_what_won() -> None:
    # GIVEN a store where another request writes first, once
    secrets, store, _ = service()
    created = secrets.create("alice")
    put = store.put_signing_secrets
    raced = []

    def racing(written: OwnerSecrets, *, expected_version: int) -> bool:
        if not raced:
            raced.append(1)
            return False  # another request's write came first
        return put(written, expected_version=expected_version)

    store.put_signing_secrets = racing  # type: ignore[method-assign]
    # WHEN a rotation meets it THEN it is made again and holds
    new = secrets.rotate("alice", created.id)
    assert {v.id for v in secrets.list("alice").items} == {created.id, new.id}


def test_a_store_that_keeps_refusing_is_a_store_error() -> None:
    secrets, store, _ = service()
    store.put_signing_secrets = lambda written, *, expected_version: False  # type: ignore[method-assign]
    with pytest.raises(StoreError):
        secrets.create("alice")
