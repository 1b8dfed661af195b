"""The broker's view of delivery: messages handed to workers and not yet acknowledged.

Kombu's Redis transport keeps them in ``<namespace>:unacked`` until the
worker acknowledges, and gives them back only after the visibility timeout.
When we own the embedded Redis nobody else can be working on them, so at
start-up they go straight back to their queues instead of waiting an hour.
"""

from __future__ import annotations

from celery import Celery
from redis import Redis

from workers.celery_app import QUEUES
from workers.state import Keys

__all__ = ["backlog", "queue_depths", "restore_unacked", "unacked_count"]


def queue_depths(redis: Redis, keys: Keys) -> dict[str, int]:
    """Messages waiting in each stage's queue."""
    pipe = redis.pipeline(transaction=False)
    for name in QUEUES:
        pipe.llen(keys.queue(name))
    return dict(zip(QUEUES, (int(n) for n in pipe.execute()), strict=True))


def unacked_count(redis: Redis, keys: Keys) -> int:
    return int(redis.hlen(keys.unacked))


def backlog(redis: Redis, keys: Keys) -> int:
    """Messages waiting in every stage's queue plus those held by workers."""
    return sum(queue_depths(redis, keys).values()) + unacked_count(redis, keys)


def restore_unacked(app: Celery, redis: Redis, keys: Keys) -> int:
    """Put every unacknowledged message back at the head of its queue; returns how many."""
    # Kombu's prefixing client does not prefix HKEYS, so the tags are read with our own client.
    tags = list(redis.hkeys(keys.unacked))
    with app.connection_for_write() as connection:
        qos = connection.default_channel.qos
        for tag in tags:
            qos.restore_by_tag(tag, leftmost=True)
    return len(tags)
