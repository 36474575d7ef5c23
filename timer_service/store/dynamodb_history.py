"""A timer's history in the DynamoDB store: its runs, its job type's state, and its completion
(its last firing marks it completed, or deletes it leaving a note of its incarnation for its
runs, once, in one transaction with its owner's counts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from timer_service.keys import PK, SK, IndexKey, completed_key, job_state_key, run_partition
from timer_service.models import Timer
from timer_service.runs import Run
from timer_service.store import expressions, streak_requests
from timer_service.store.codecs import (
    Item,
    job_state_from_item,
    job_state_item,
    run_from_item,
    run_item,
    string,
)
from timer_service.store.table import ConditionFailed, DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DynamoHistory"]


class DynamoHistory:
    """Runs, job state and completion on the store's table (mixed into DynamoTimerStore)."""

    _client: DynamoDBClient
    _table: DynamoTable
    _name: str

    def _get(self, key: IndexKey) -> Item | None: ...  # the store's

    def _write(self, actions: list[dict[str, Any]]) -> None: ...  # the store's

    def complete_timer(
        self,
        timer: Timer,
        *,
        completed_s: int,
        delete: bool,
        remove: Sequence[IndexKey],
        runs_until_s: int,
    ) -> bool:
        actions = expressions.complete_timer(
            self._name,
            timer,
            completed_s=completed_s,
            delete=delete,
            remove=remove,
            runs_until_s=runs_until_s,
        )
        try:
            self._write(actions)
        except ConditionFailed:
            return False
        return True

    def record_failure(self, timer: Timer) -> int | None:
        try:
            with self._table.errors():
                answer = self._client.update_item(
                    **streak_requests.record_failure(self._name, timer)
                )
        except ConditionFailed:
            return None
        return int(answer["Attributes"]["failures"]["N"])

    def clear_failures(self, timer: Timer, *, failures: int) -> bool:
        return self._table.holds(
            self._client.update_item,
            streak_requests.clear_failures(self._name, timer, failures=failures),
        )

    def claim_run(self, timer: Timer, firing_id: str, *, now_s: int, until_s: int) -> bool:
        request = streak_requests.claim_run(
            self._name, timer, firing_id, now_s=now_s, until_s=until_s
        )
        return self._table.holds(self._client.update_item, request)

    def release_run(self, timer: Timer, firing_id: str) -> None:
        self._table.holds(
            self._client.update_item, streak_requests.release_run(self._name, timer, firing_id)
        )

    def completed_incarnation(self, owner: str, timer_id: str) -> int | None:
        item = self._get(completed_key(owner, timer_id))
        return None if item is None else int(item["inc"]["N"])

    def put_run(self, run: Run, *, expires_s: int) -> None:
        with self._table.errors():
            self._client.put_item(TableName=self._name, Item=run_item(run, expires_s=expires_s))

    def list_runs(
        self, owner: str, timer_id: str, *, incarnation: int, limit: int, before: str | None
    ) -> tuple[list[Run], str | None]:
        partition = run_partition(owner, timer_id)
        request: dict[str, Any] = {
            "TableName": self._name,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":p": string(partition),
                ":prefix": string(f"{incarnation:010d}#"),
            },
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if before is not None:
            request["ExclusiveStartKey"] = {PK: string(partition), SK: string(before)}
        with self._table.errors():
            items = self._client.query(**request)["Items"]
        runs = [run_from_item(item, owner, timer_id) for item in items]
        if len(runs) > limit:
            return runs[:limit], runs[limit - 1].sort_key
        return runs, None

    def get_job_state(self, owner: str, timer_id: str) -> dict[str, Any] | None:
        item = self._get(job_state_key(owner, timer_id))
        return None if item is None else job_state_from_item(item)

    def put_job_state(self, owner: str, timer_id: str, state: dict[str, Any]) -> None:
        item = job_state_item(owner, timer_id, state)
        with self._table.errors():
            self._client.put_item(TableName=self._name, Item=item)
