"""The heartbeat deadlines' part of the DynamoDB store: one item per heartbeat, keyed by its
ping token's hash (a ping is one conditional UpdateItem)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from timer_service.errors import StoreError
from timer_service.heartbeat import HeartbeatState
from timer_service.keys import heartbeat_key
from timer_service.store import expressions
from timer_service.store.codecs import heartbeat_from_item, key_item
from timer_service.store.table import BATCH_GET_SIZE, ConditionFailed, DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DynamoHeartbeats"]


class DynamoHeartbeats:
    """Heartbeat states on the store's table (mixed into :class:`DynamoTimerStore`)."""

    _client: DynamoDBClient
    _table: DynamoTable
    _name: str

    def put_heartbeat(self, state: HeartbeatState) -> None:
        try:
            with self._table.errors():
                self._client.update_item(**expressions.put_heartbeat(self._name, state))
        except ConditionFailed as failed:
            raise StoreError("no heartbeat state to change") from failed

    def get_heartbeats(self, ping_hashes: Sequence[str]) -> dict[str, HeartbeatState]:
        found: dict[str, HeartbeatState] = {}
        unique = list(dict.fromkeys(ping_hashes))
        for start in range(0, len(unique), BATCH_GET_SIZE):
            keys = [key_item(heartbeat_key(h)) for h in unique[start : start + BATCH_GET_SIZE]]
            for item in self._table.batch_get(keys):
                state = heartbeat_from_item(item)
                found[state.ping_hash] = state
        return found

    def ping_heartbeat(self, ping_hash: str, *, now_s: int) -> HeartbeatState | None:
        request = expressions.ping_heartbeat(self._name, ping_hash, now_s=now_s)
        try:
            with self._table.errors():
                response = self._client.update_item(**request)
        except ConditionFailed:
            return None
        return heartbeat_from_item(response["Attributes"])

    def mark_heartbeat_missed(self, ping_hash: str, *, deadline_s: int) -> bool:
        request = expressions.mark_heartbeat_missed(self._name, ping_hash, deadline_s=deadline_s)
        return self._table.holds(self._client.update_item, request)

    def clear_heartbeat_idle(self, ping_hash: str, *, idle_since_s: int) -> None:
        request = expressions.clear_heartbeat_idle(self._name, ping_hash, idle_since_s=idle_since_s)
        try:
            with self._table.errors():
                self._client.update_item(**request)
        except ConditionFailed:
            pass  # another ping cleared it, or a miss set it again: either is right
