"""The TimerStore contract for webhook signing secrets, on both stores: an owner's secrets are
one record, read whole, replaced only from the version it was read at."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.contract.conftest import T0
from timer_service.signing_secrets import OwnerSecrets, SigningSecret
from timer_service.store.base import TimerStore

ACTIVE = SigningSecret("key_00000000000000a1", "whsec_" + "A" * 44, T0)
RETIRING = SigningSecret("key_00000000000000b2", "whsec_" + "B" * 44, T0 - 60, T0 + 86400)


def test_an_owner_without_secrets_has_none_at_version_0(store: TimerStore) -> None:
    assert store.get_signing_secrets("alice") == OwnerSecrets("alice")


def test_secrets_round_trip_whole(store: TimerStore) -> None:
    # GIVEN an active and a retiring secret written over none
    written = OwnerSecrets("alice", (ACTIVE, RETIRING), version=1)
    assert store.put_signing_secrets(written, expected_version=0)
    # WHEN they are read THEN they are as written, and another owner's are not there
    assert store.get_signing_secrets("alice") == written
    assert store.get_signing_secrets("bob") == OwnerSecrets("bob")


def test_a_write_from_a_stale_version_changes_nothing(store: TimerStore) -> None:
    first = OwnerSecrets("alice", (ACTIVE,), version=1)
    assert store.put_signing_secrets(first, expected_version=0)
    # a second create, made from the "none" it read before the first was written
    assert not store.put_signing_secrets(
        OwnerSecrets("alice", (RETIRING,), version=1), expected_version=0
    )
    assert store.get_signing_secrets("alice") == first
    # a change from the version read is taken, and can empty the record
    assert store.put_signing_secrets(OwnerSecrets("alice", (), version=2), expected_version=1)
    assert store.get_signing_secrets("alice") == OwnerSecrets("alice", (), version=2)


def test_of_writes_racing_from_one_version_one_wins(store: TimerStore) -> None:
    # GIVEN eight writers that all read version 0 WHEN they write at once
    candidates = [
        OwnerSecrets("alice", (SigningSecret(f"key_{n:016x}", ACTIVE.secret, T0),), version=1)
        for n in range(8)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(lambda c: store.put_signing_secrets(c, expected_version=0), candidates))
    # THEN exactly one is stored
    assert won.count(True) == 1
    assert store.get_signing_secrets("alice") == candidates[won.index(True)]
