"""Poison messages: a message that never finishes is dead-lettered, not delivered forever.

A message that kills its worker (a parser crash, the OOM killer, a hard time
limit) is handed out again: by ``reject_on_worker_lost``, by RabbitMQ when the
connection drops, by the Redis transport after the visibility timeout. Each
stage counts, per item, the deliveries it *started* and clears the count when
it ends the message in a controlled way (done, retry scheduled, dead-lettered);
a count above ``max_deliveries`` means the earlier ones all died, so the item is
dead-lettered as ``<stage>.poison`` instead.
"""

from __future__ import annotations

from workers.runtime import Runtime

__all__ = ["delivered", "is_poison"]


def is_poison(runtime: Runtime, stage: str, key: str) -> bool:
    """Count this delivery of ``key`` at ``stage``; True when the earlier ones never finished too often."""
    return runtime.tracker.count_delivery(stage, key) > runtime.settings.max_deliveries


def delivered(runtime: Runtime, stage: str, *keys: str) -> None:
    """The stage ended these items' messages (done, retried or dead-lettered): their counts start over."""
    if keys:
        runtime.redis.hdel(runtime.keys.deliveries, *(f"{stage}:{key}" for key in keys))
