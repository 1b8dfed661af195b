"""The Celery app: broker, serialization, delivery guarantees and routing.

Four queues, one per stage, so each worker pool fits its work (threads for
I/O, prefork for CPU, one solo consumer for the index writer). Delivery is
at-least-once: a message is acknowledged after its task finished, and a
worker that dies mid-task gives its message back.

Celery's documented gaps on the Redis transport, and where each is closed:
a message unacknowledged for longer than the visibility timeout is delivered
again (the timeout is a setting; no task carries a countdown or ETA, see
workers/broker/delayed.py); a message that keeps killing its worker would loop
forever (workers/worker/poison.py counts deliveries per stage and item); Celery's
time limits do not apply to thread pools (poll and fetch downloads carry
their own wall-clock deadline, ``download_deadline_s``, in workers/net/http.py).
"""

from __future__ import annotations

import functools
import resource
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init
from kombu import Queue

from workers.broker.message_repr import SummarizingAMQP
from workers.broker.outage import RequeueOnOutage
from workers.core.errors import ConfigError
from workers.core.logs import configure_logging
from workers.net.politeness import domain_of
from workers.runtime import Runtime
from workers.settings import Settings
from workers.worker.metrics import install_metrics

__all__ = ["BACKFILL_QUEUES", "QUEUES", "backfill_route", "broker_is_redis", "broker_url", "create_app", "queue_name"]

QUEUES = ("poll", "fetch", "extract", "index")
# History (``newsworkers backfill``) waits on queues of its own, which the fetch and extract workers read only
# while their live queue is empty (or, with backfill_own_worker, a worker of its own at the lowest CPU priority
# extracts it; see workers/worker/pools.py), so live news never queues behind it.
BACKFILL_QUEUES = {"fetch": "backfill_fetch", "extract": "backfill_extract"}


def broker_url(settings: Settings) -> str | None:
    return settings.broker_url or settings.redis_url


def broker_is_redis(settings: Settings) -> bool:
    return (broker_url(settings) or "redis:").startswith(("redis:", "rediss:", "unix:"))


def _plain_redis(settings: Settings) -> bool:
    return (broker_url(settings) or "").startswith("redis://")


def queue_name(settings: Settings, stage: str) -> str:
    """The broker's name of a stage's queue.

    Redis: the stage name (kombu's ``global_keyprefix`` puts our namespace before it). AMQP has no key
    prefix, so the namespace goes into the name, and deployments (or test runs) sharing a RabbitMQ vhost
    keep apart.
    """
    return stage if broker_is_redis(settings) else f"{settings.namespace}.{stage}"


def backfill_route(settings: Settings, name: str, args: Any, kwargs: Any, options: Any, task: Any = None,
                   **_: Any) -> dict[str, str] | None:
    """Celery router: an item sent by a backfill (``FeedItem.backfill`` set) goes to the backfill queue of its
    stage, wherever it is sent from (the backfill, the fetch task, a retry, a re-sent lost item)."""
    stage = {"newsworkers.fetch": "fetch", "newsworkers.extract": "extract",
             "newsworkers.extract_batch": "extract"}.get(name)
    if stage is None or not args or not isinstance(args[0], dict):
        return None
    item = args[0] if stage == "fetch" else args[0].get("item")
    if isinstance(item, dict) and item.get("backfill"):
        return {"queue": queue_name(settings, BACKFILL_QUEUES[stage])}
    return None


def create_app(settings: Settings) -> Celery:
    if not settings.redis_url:
        raise ConfigError("no broker: set REDIS_URL, or use `newsworkers run`, which starts an embedded Redis")
    configure_logging(settings)
    # RequeueOnOutage: a task ended by Redis or the broker being away gives its message back (workers/broker/outage.py).
    app = Celery("newsworkers", set_as_current=False, amqp=SummarizingAMQP, task_cls=RequeueOnOutage)
    transport_options: dict[str, object] = {}
    if broker_is_redis(settings):
        transport_options = {
            # Our namespace prefixes the broker's keys too, so deployments can share a Redis.
            "global_keyprefix": f"{settings.namespace}:",
            # Longer than any task may take (tasks never carry a countdown: see workers/broker/delayed.py), or a
            # message still being worked on is handed to a second worker.
            "visibility_timeout": settings.visibility_timeout_s,
            # Kombu looks for messages past their visibility timeout every 10 s but, by default, acts on
            # only every 10th look: up to 100 s more before a dead worker's messages come back.
            "unacked_restore_interval": min(10, settings.visibility_timeout_s // 2),
            "unacked_restore_throttle": 1,
            # A worker reads its queues in the order listed, always from the first: live before backfill.
            "queue_order_strategy": "priority",
        }
    else:
        # AMQP's publish is fire-and-forget: a message the broker refused or never got would be lost
        # without an error, and a sent item is marked in flight. Publisher confirms make every publish
        # wait for RabbitMQ's ack, so a send that returned is in the queue.
        transport_options = {"confirm_publish": True}
    app.conf.update(
        broker_url=broker_url(settings),
        # Kombu's Redis transport with one client kept per channel (workers/broker/transport.py).
        broker_transport="workers.broker.transport:Transport" if _plain_redis(settings) else None,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        result_backend=None,
        task_ignore_result=True,
        task_store_errors_even_if_ignored=False,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_queues=[Queue(queue_name(settings, name)) for name in (*QUEUES, *BACKFILL_QUEUES.values())],
        task_default_queue=queue_name(settings, "poll"),
        task_routes=[functools.partial(backfill_route, settings), {
            **{f"newsworkers.{name}": {"queue": queue_name(settings, name)} for name in QUEUES},
            # Extract pages in batches for nlp.pipe: the same queue and pool as one-page extract.
            "newsworkers.extract_batch": {"queue": queue_name(settings, "extract")},
            # Alert webhooks are network waits: the I/O pool's threads, beside the page fetches.
            "newsworkers.alert_webhook": {"queue": queue_name(settings, "fetch")},
        }],
        worker_send_task_events=False,
        task_send_sent_event=False,
        enable_utc=True,
    )
    app.runtime = Runtime(settings)  # type: ignore[attr-defined]
    from workers.worker.tasks import register_tasks

    register_tasks(app)
    install_metrics(app)
    worker_init.connect(_warm_up, sender=None, weak=False)
    if settings.extract_max_alloc_mb:
        cap = settings.extract_max_alloc_mb * 2**20
        worker_process_init.connect(lambda **_: cap_heap_growth(cap), sender=None, weak=False)
    return app


def cap_heap_growth(extra_bytes: int) -> None:
    """Let this process's data segment grow by at most ``extra_bytes``.

    Runs in each prefork child (only the extract pool forks). A page that makes the parser allocate without
    bound then gets a MemoryError (dead-lettered as ``extract.memory``) instead of growing until the kernel's
    OOM killer takes the child, or a neighbour. RLIMIT_DATA counts private heap and anonymous mappings,
    not the model the child shares with its parent, so a normal article is far from it.
    """
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
        status = dict(line.split(":", 1) for line in lines if ":" in line)
        data_bytes = int(status["VmData"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return  # not Linux: the per-child memory ceiling (max_memory_per_child) still applies
    limit = data_bytes + extra_bytes
    resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.getrlimit(resource.RLIMIT_DATA)[1]))


def _warm_up(sender: object = None, **_: object) -> None:
    """Load what the worker's stages load on first use, before its threads start or its pool forks.

    The public-suffix table (every fetch and poll names its domain): loaded once here, not by each of
    the pool's threads racing on the first pages. The extract stage's models: loaded in the parent, so the
    children share their memory (copy on write) and no child loads them on its first article.
    """
    worker_app = getattr(sender, "app", None)
    queues = getattr(getattr(worker_app, "amqp", None), "queues", None)
    if worker_app is None or queues is None:
        return
    domain_of("http://www.example.co.uk/")
    runtime: Runtime = worker_app.runtime  # type: ignore[attr-defined]
    extract_queues = {queue_name(runtime.settings, "extract"), queue_name(runtime.settings, BACKFILL_QUEUES["extract"])}
    if not extract_queues & set(queues.consume_from):
        return
    from workers.pipeline.extract.batch import warm_up

    warm_up(runtime.settings, runtime.ner)
