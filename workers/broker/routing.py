"""The stage table (:mod:`workers.core.stages`) as the broker sees it: which broker, queue names, routes.

Redis names a queue by its stage (kombu's ``global_keyprefix`` puts our namespace before it). AMQP has no
key prefix, so the namespace goes into the name, and deployments (or test runs) sharing a RabbitMQ vhost
keep apart.
"""

from __future__ import annotations

from typing import Any

from kombu import Queue

from workers.core.stages import BACKFILL_QUEUES, QUEUES, TASKS
from workers.settings import Settings

__all__ = ["backfill_route", "broker_is_redis", "broker_url", "celery_queues", "celery_routes", "plain_redis",
           "queue_name"]

_BACKFILL_STAGE_OF_TASK = {task.name: task.stage for task in TASKS if task.stage in BACKFILL_QUEUES}


def broker_url(settings: Settings) -> str | None:
    return settings.broker_url or settings.redis_url


def broker_is_redis(settings: Settings) -> bool:
    return (broker_url(settings) or "redis:").startswith(("redis:", "rediss:", "unix:"))


def plain_redis(settings: Settings) -> bool:
    """A ``redis://`` broker, which our per-channel transport (broker/transport.py) serves."""
    return (broker_url(settings) or "").startswith("redis://")


def queue_name(settings: Settings, queue: str) -> str:
    """The broker's name of a queue (a stage's, or a backfill queue)."""
    return queue if broker_is_redis(settings) else f"{settings.namespace}.{queue}"


def celery_queues(settings: Settings) -> list[Queue]:
    """Every queue a worker may consume: each stage's live queue, then the backfill queues."""
    names = [*QUEUES, *BACKFILL_QUEUES.values()]
    return [Queue(queue_name(settings, name)) for name in names]


def celery_routes(settings: Settings) -> dict[str, dict[str, str]]:
    """Each task's queue, from the task table."""
    return {task.name: {"queue": queue_name(settings, task.queue)} for task in TASKS}


def backfill_route(settings: Settings, name: str, args: Any, kwargs: Any, options: Any, task: Any = None,
                   **_: Any) -> dict[str, str] | None:
    """Celery router: an item sent by a backfill (``FeedItem.backfill`` set) goes to the backfill queue of its
    stage, wherever it is sent from (the backfill, the fetch task, a retry, a re-sent lost item)."""
    stage = _BACKFILL_STAGE_OF_TASK.get(name)
    if stage is None or not args or not isinstance(args[0], dict):
        return None
    item = args[0] if stage == "fetch" else args[0].get("item")
    if isinstance(item, dict) and item.get("backfill"):
        return {"queue": queue_name(settings, BACKFILL_QUEUES[stage])}
    return None
