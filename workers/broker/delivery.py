"""The broker's view of delivery: messages waiting, held by workers, or delayed.

Kombu's Redis transport keeps handed-out messages in ``<namespace>:unacked``
until the worker acknowledges, and gives them back only after the visibility
timeout. When we own the embedded Redis nobody else can be working on them, so
at start-up they go straight back to their queues instead of waiting an hour.

With RabbitMQ as broker the waiting counts come from the broker itself (a
passive queue declare through kombu); RabbitMQ does not tell a client how many
messages are unacknowledged, so :func:`unacked_count` answers None there
(unknown), and callers that need "nothing held anywhere" must not take None for
0. RabbitMQ gives a dead consumer's messages back at once, so nothing waits
there for a visibility timeout.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import Counter

from celery import Celery
from kombu import Connection
from redis import Redis

from workers.core.stages import BACKFILL_QUEUES, QUEUES
from workers.state import Keys

__all__ = ["amqp_queue_depths", "backlog", "delayed_count", "inflight_per_queue", "queue_depths", "restore_unacked",
           "unacked_count"]


def queue_depths(redis: Redis, keys: Keys, *, broker_url: str | None = None) -> dict[str, int]:
    """Messages waiting in each stage's queue (read from RabbitMQ when ``broker_url`` is AMQP)."""
    if broker_url and broker_url.startswith(("amqp", "pyamqp")):
        return amqp_queue_depths(broker_url, keys.namespace)
    pipe = redis.pipeline(transaction=False)
    for name in QUEUES:
        pipe.llen(keys.queue(name))
    return dict(zip(QUEUES, (int(n) for n in pipe.execute()), strict=True))


def amqp_queue_depths(broker_url: str, namespace: str) -> dict[str, int]:
    """Ready messages per stage on RabbitMQ, for the queues named ``<namespace>.<stage>``."""
    # One reader at a time: an AMQP channel is not thread-safe, and the poll pool's threads all check the
    # backlog; two replies read by the wrong threads leave one of them blocked on the socket for good.
    with _AMQP_LOCK:
        channel = _amqp_connection(broker_url).default_channel
        depths = {}
        for name in QUEUES:
            try:
                depths[name] = int(channel.queue_declare(f"{namespace}.{name}", passive=True).message_count)
            except Exception:  # not declared yet (no worker started): nothing waits in it
                _amqp_connection.cache_clear()  # a failed passive declare closes the channel
                channel = _amqp_connection(broker_url).default_channel
                depths[name] = 0
        return depths


_AMQP_LOCK = threading.Lock()


@functools.cache
def _amqp_connection(broker_url: str) -> Connection:
    # One connection per process, reused: the runner asks several times a second.
    return Connection(broker_url, connect_timeout=5)


def unacked_count(redis: Redis, keys: Keys, *, broker_url: str | None = None) -> int | None:
    """Messages handed to workers and not acknowledged; None when the broker cannot say (AMQP)."""
    if broker_url and broker_url.startswith(("amqp", "pyamqp")):
        return None
    return int(redis.hlen(keys.unacked))


def inflight_per_queue(redis: Redis, keys: Keys) -> dict[str, int]:
    """Messages delivered to a worker and not yet acknowledged, per queue (from kombu's unacked hash)."""
    counts: Counter[str] = Counter()
    for raw in redis.hvals(keys.unacked):
        try:
            _message, exchange, routing_key = json.loads(raw)
        except (ValueError, TypeError):
            counts["unknown"] += 1
            continue
        counts[routing_key or exchange or "unknown"] += 1
    return dict(counts)


def delayed_count(redis: Redis, keys: Keys) -> int:
    """Messages held back until due (retries; workers/broker/delayed.py)."""
    return int(redis.zcard(keys.delayed))


def backlog(redis: Redis, keys: Keys, *, broker_url: str | None = None) -> int | None:
    """Messages waiting in every stage's queue (backfill's too), held by workers or delayed; None when unknowable
    (AMQP)."""
    unacked = unacked_count(redis, keys, broker_url=broker_url)
    waiting = sum(queue_depths(redis, keys, broker_url=broker_url).values()) + delayed_count(redis, keys)
    if unacked is not None:
        waiting += sum(int(redis.llen(keys.queue(name))) for name in BACKFILL_QUEUES.values())
    return None if unacked is None else waiting + unacked


def restore_unacked(app: Celery, redis: Redis, keys: Keys) -> int:
    """Put every unacknowledged message back at the head of its queue; returns how many (Redis broker only)."""
    # Kombu's prefixing client does not prefix HKEYS, so the tags are read with our own client.
    tags = list(redis.hkeys(keys.unacked))
    with app.connection_for_write() as connection:
        qos = connection.default_channel.qos
        for tag in tags:
            qos.restore_by_tag(tag, leftmost=True)
    return len(tags)
