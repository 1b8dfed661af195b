"""Broker and delivery: the Celery broker, acknowledgement, retries, poison messages and dead letters.

Also the durability of the embedded Redis that holds the broker's messages when no server is named.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["DeliverySettings"]


class DeliverySettings(BaseModel):
    """Broker and delivery: where messages travel, when they are handed again, retried or dead-lettered."""

    broker_url: str | None = Field(
        None,
        description="Celery broker (redis:// or amqp://); unset uses the Redis URL. Feed state stays in Redis.",
    )
    visibility_timeout_s: int = Field(
        3600, ge=10, description="Seconds before an unacknowledged message is handed to another worker."
    )
    max_deliveries: int = Field(
        3, ge=1, description="Deliveries of one message that never finished before it is dead-lettered as poison."
    )
    max_retries: int = Field(4, ge=0, description="Retries of a transient failure before it is dead-lettered.")
    retry_backoff_s: float = Field(2.0, gt=0, description="First retry delay in seconds; doubles each retry.")
    retry_backoff_max_s: float = Field(300.0, gt=0, description="Longest retry delay, in seconds.")
    delayed_lease_s: float = Field(
        60.0, gt=0, description="Seconds a due delayed message is leased to the sender before another may send it."
    )
    dead_letters_max: int = Field(
        100_000, ge=1, description="Dead letters kept in Redis; beyond it the oldest are dropped (and counted)."
    )
    redis_appendfsync: str = Field(
        "everysec",
        pattern=r"^(always|everysec|no)$",
        description="fsync policy of the embedded Redis's append-only file (see bench/aof_fsync.py).",
    )
