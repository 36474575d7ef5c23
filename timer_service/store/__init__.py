"""Storage port and its adapters (DynamoDB, in-memory)."""

from timer_service.store.base import TimerStore
from timer_service.store.dynamodb import DynamoTimerStore
from timer_service.store.memory import InMemoryTimerStore

__all__ = ["DynamoTimerStore", "InMemoryTimerStore", "TimerStore"]
