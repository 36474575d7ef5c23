"""How the DynamoDB adapters answer DynamoDB's errors, on botocore's Stubber (no endpoint):
throttles and server faults are a StoreError (retry later), a missing table a configuration
error nobody should retry, other client faults are raised as they came; a conditional write's
conflict names the version DynamoDB returned with it; a batch's unprocessed part is tried again
after a full-jitter wait, a bounded number of times.

Sources: botocore's standard retry mode (botocore/retries/standard.py); DynamoDB API Reference,
PutItem/TransactWriteItems ``ReturnValuesOnConditionCheckFailure`` and BatchGetItem
``UnprocessedKeys`` ("we strongly recommend that you use an exponential backoff algorithm");
AWS Architecture Blog, "Exponential Backoff And Jitter" (full jitter)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from timer_service.errors import StoreError, StoreMisconfiguredError, VersionConflictError
from timer_service.firing import Firing
from timer_service.models import Timer
from timer_service.store.codecs import timer_item
from timer_service.store.dead_letters import DeadLetterRecord, DynamoDeadLetterStore
from timer_service.store.dynamodb import DynamoTimerStore
from timer_service.store.table import Backoff

TABLE = "timers-prod"
T0 = 1_795_348_800


@pytest.fixture
def stub() -> Iterator[Stubber]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


class Waits:
    """A Backoff that records its waits instead of sleeping: (the cap drawn under, the wait)."""

    def __init__(self) -> None:
        self.draws: list[tuple[float, float]] = []
        self.slept: list[float] = []

    def backoff(self, attempts: int = 4) -> Backoff:
        def jitter(low: float, high: float) -> float:
            self.draws.append((low, high))
            return high / 2

        return Backoff(
            attempts=attempts, base_s=0.1, cap_s=0.3, sleep=self.slept.append, jitter=jitter
        )


def store(stub: Stubber, waits: Waits | None = None) -> DynamoTimerStore:
    backoff = (waits or Waits()).backoff()
    return DynamoTimerStore(stub.client, TABLE, backoff=backoff)  # type: ignore[arg-type]


def a_timer(version: int = 1) -> Timer:
    return Timer(
        owner="alice",
        id="t",
        shard=0,
        schedule="rate(5 minutes)",
        version=version,
        created_s=T0,
        updated_s=T0,
    )


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ProvisionedThroughputExceededException", 400),
        ("ThrottlingException", 400),
        ("RequestLimitExceeded", 400),
        ("InternalServerError", 500),
        ("ServiceUnavailable", 503),
        ("SomethingNew", 502),  # any 5xx: botocore's transient status codes
    ],
)
def test_dynamo_store_throttle_or_server_fault_is_a_store_error(
    stub: Stubber, code: str, status: int
) -> None:
    stub.add_client_error("get_item", code, "slow down", status)
    with pytest.raises(StoreError, match=f"{TABLE}.*{code}"):
        store(stub).get_timer("alice", "t")


def test_dynamo_store_missing_table_is_misconfigured_and_not_retryable(stub: Stubber) -> None:
    stub.add_client_error("get_item", "ResourceNotFoundException", "Requested resource not found")
    with pytest.raises(StoreMisconfiguredError, match=f"table '{TABLE}' does not exist") as raised:
        store(stub).get_timer("alice", "t")
    assert not isinstance(raised.value, StoreError)  # StoreError means: retry later


def test_dynamo_store_denied_call_is_misconfigured(stub: Stubber) -> None:
    stub.add_client_error("query", "AccessDeniedException", "not authorized", 400)
    with pytest.raises(StoreMisconfiguredError, match=TABLE):
        store(stub).query_index("S#0#M#1")


def test_dynamo_store_other_client_fault_is_raised_unchanged(stub: Stubber) -> None:
    stub.add_client_error("put_item", "ValidationException", "Item size has exceeded", 400)
    with pytest.raises(ClientError) as raised:
        store(stub).put_job_state("alice", "t", {"a": 1})
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_dynamo_store_transaction_conflict_is_a_store_error(stub: Stubber) -> None:
    # Another transaction held an item: "TransactionConflict" in the cancellation reasons
    reasons = [{"Code": "None"}, {"Code": "TransactionConflict", "Message": "conflict"}]
    stub.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        "Transaction cancelled",
        modeled_fields={"CancellationReasons": reasons},
    )
    with pytest.raises(StoreError, match="TransactionConflict"):
        store(stub).delete_timer("alice", "t", expected_version=1, remove=[])


def test_move_timer_meeting_another_write_is_a_retry_later(stub: Stubber) -> None:
    # The rebalancer tries a busy move again after a wait: a conflict is such a move
    reasons = [{"Code": "TransactionConflict", "Message": "conflict"}, {"Code": "None"}]
    stub.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        "Transaction cancelled",
        modeled_fields={"CancellationReasons": reasons},
    )
    moved = store(stub).move_timer(
        a_timer(), target=1, remove=[], entries=[], old_claimed=None, first_minute=None, base=None
    )
    assert moved is False


def test_save_timer_conflict_names_the_version_returned_with_it(stub: Stubber) -> None:
    # GIVEN DynamoDB refuses the put and returns the item as it is (ALL_OLD): no read follows
    stub.add_client_error(
        "put_item",
        "ConditionalCheckFailedException",
        "The conditional request failed",
        expected_params=None,
        modeled_fields={"Item": timer_item(a_timer(version=7))},
    )
    with pytest.raises(VersionConflictError) as raised:
        store(stub).save_timer(a_timer(2), expected_version=1, remove=[], index=None)
    assert raised.value.actual == 7


def test_delete_timer_conflict_names_the_version_of_the_cancellation_reason(
    stub: Stubber,
) -> None:
    reasons: list[dict[str, Any]] = [
        {"Code": "ConditionalCheckFailed", "Item": timer_item(a_timer(version=4))},
        {"Code": "None"},
        {"Code": "None"},
    ]
    stub.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        "Transaction cancelled",
        modeled_fields={"CancellationReasons": reasons},
    )
    with pytest.raises(VersionConflictError) as raised:
        store(stub).delete_timer("alice", "t", expected_version=3, remove=[])
    assert (raised.value.expected, raised.value.actual) == (3, 4)


def key_of(timer_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"T#alice#{timer_id}"}, "sk": {"S": "T"}}


def item_of(timer_id: str) -> dict[str, Any]:
    return timer_item(a_timer().model_copy(update={"id": timer_id}))


def test_get_timers_unprocessed_keys_are_retried_after_full_jitter_waits(stub: Stubber) -> None:
    # GIVEN BatchGetItem answers part of the keys twice, then the rest
    answers = [(["a"], ["b", "c"]), (["b"], ["c"]), (["c"], [])]
    for found, left in answers:
        response: dict[str, Any] = {"Responses": {TABLE: [item_of(i) for i in found]}}
        if left:
            response["UnprocessedKeys"] = {
                TABLE: {"Keys": [key_of(i) for i in left], "ConsistentRead": True}
            }
        stub.add_response("batch_get_item", response)
    waits = Waits()
    # WHEN the three timers are read
    found_timers = store(stub, waits).get_timers([("alice", "a"), ("alice", "b"), ("alice", "c")])
    # THEN all are found, after two waits drawn under 0.1 s then 0.2 s
    assert sorted(i for _, i in found_timers) == ["a", "b", "c"]
    assert waits.draws == [(0.0, 0.1), (0.0, 0.2)]
    assert waits.slept == [0.05, 0.1]


def test_get_timers_keys_never_processed_is_a_store_error_after_bounded_tries(
    stub: Stubber,
) -> None:
    left = {TABLE: {"Keys": [key_of("a")], "ConsistentRead": True}}
    for _ in range(4):
        stub.add_response("batch_get_item", {"Responses": {TABLE: []}, "UnprocessedKeys": left})
    waits = Waits()
    with pytest.raises(StoreError, match=f"{TABLE}.*UnprocessedKeys after 4 tries"):
        store(stub, waits).get_timers([("alice", "a")])
    assert [high for _, high in waits.draws] == [0.1, 0.2, 0.3]  # capped at 0.3


def letter() -> DeadLetterRecord:
    firing = Firing(owner="alice", timer_id="t", version=1, scheduled_s=T0)
    return DeadLetterRecord(firing=firing, error="boom", attempts=3, dead_s=T0)


def dead_letters(stub: Stubber, waits: Waits) -> DynamoDeadLetterStore:
    return DynamoDeadLetterStore(stub.client, TABLE, backoff=waits.backoff())  # type: ignore[arg-type]


def test_dead_letter_delete_unprocessed_items_are_retried_then_a_store_error(
    stub: Stubber,
) -> None:
    request = {
        "DeleteRequest": {"Key": {"pk": {"S": letter().key.pk}, "sk": {"S": letter().key.sk}}}
    }
    for _ in range(4):
        stub.add_response("batch_write_item", {"UnprocessedItems": {TABLE: [request]}})
    waits = Waits()
    with pytest.raises(StoreError, match="UnprocessedItems after 4 tries"):
        dead_letters(stub, waits).delete([letter()])
    assert len(waits.slept) == 3


@pytest.mark.parametrize(
    ("code", "status", "raised"),
    [
        ("ResourceNotFoundException", 400, StoreMisconfiguredError),
        ("ThrottlingException", 400, StoreError),
        ("ValidationException", 400, ClientError),
    ],
)
def test_dead_letter_store_translates_errors_like_the_timer_store(
    stub: Stubber, code: str, status: int, raised: type[Exception]
) -> None:
    stub.add_client_error("put_item", code, "m", status)
    with pytest.raises(raised) as error:
        dead_letters(stub, Waits()).put(letter(), expires_s=T0 + 86400)
    assert type(error.value) is raised
