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

import contextlib
from collections.abc import Iterable, Iterator

from workers.broker.outage import OUTAGE, retry_through_outage
from workers.runtime import Runtime

__all__ = ["delivered", "given_back_on_outage", "is_poison", "poisoned"]


def is_poison(runtime: Runtime, stage: str, key: str) -> bool:
    """Count this delivery of ``key`` at ``stage``; True when the earlier ones never finished too often."""
    return runtime.tracker.count_delivery(stage, key) > runtime.settings.max_deliveries


def poisoned(runtime: Runtime, stage: str, keys: list[str]) -> set[str]:
    """:func:`is_poison` for a batch's distinct keys, counted in one round trip."""
    distinct = list(dict.fromkeys(keys))
    counts = runtime.tracker.count_deliveries(stage, distinct) if distinct else []
    return {key for key, count in zip(distinct, counts, strict=True) if count > runtime.settings.max_deliveries}


def delivered(runtime: Runtime, stage: str, *keys: str) -> None:
    """The stage ended these items' messages (done, retried, dead-lettered, or given back by an outage): their
    counts start over. Through an outage it waits for Redis, or a restart would count against the items."""
    if keys:
        fields = [f"{stage}:{key}" for key in keys]
        retry_through_outage(runtime.redis, lambda: runtime.redis.hdel(runtime.keys.deliveries, *fields))


@contextlib.contextmanager
def given_back_on_outage(runtime: Runtime, stage: str, keys: Iterable[str]) -> Iterator[None]:
    """A batch that an outage stops goes back whole (workers/worker/batches.py) with its counts started over:
    no worker died on these items."""
    try:
        yield
    except OUTAGE:
        delivered(runtime, stage, *keys)
        raise
