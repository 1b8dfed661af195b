"""The Celery app: broker, serialization, delivery guarantees and routing.

Four queues, one per stage, so each worker pool fits its work (threads for
I/O, prefork for CPU, one solo consumer for the index writer). Delivery is
at-least-once: a message is acknowledged after its task finished, and a
worker that dies mid-task gives its message back.

Celery's documented gaps on the Redis transport, and where each is closed:
a message unacknowledged for longer than the visibility timeout is delivered
again (the timeout is a setting; no task carries a countdown or ETA, see
workers/broker/delayed.py); a message that keeps killing its worker would loop
forever (workers/worker/middleware.py counts deliveries per stage and item); Celery's
time limits do not apply to thread pools (poll and fetch downloads carry
their own wall-clock deadline, ``download_deadline_s``, in workers/net/http.py).
"""

from __future__ import annotations

import functools
import resource
from pathlib import Path

from celery import Celery
from celery.signals import worker_init, worker_process_init

from workers.broker.message_repr import SummarizingAMQP
from workers.broker.routing import (
    backfill_route,
    broker_is_redis,
    broker_url,
    celery_queues,
    celery_routes,
    plain_redis,
    queue_name,
)
from workers.core.errors import ConfigError
from workers.core.logs import configure_logging
from workers.core.stages import BACKFILL_QUEUES, EXTRACT, POLL
from workers.net.politeness import domain_of
from workers.pipeline.extract.batch import warm_up
from workers.runtime import Runtime
from workers.settings import Settings
from workers.state.keys import Keys
from workers.worker.metrics import install_metrics
from workers.worker.middleware import StageTask
from workers.worker.tasks import register_tasks

__all__ = ["cap_heap_growth", "create_app"]


def create_app(settings: Settings) -> Celery:
    if not settings.redis_url:
        raise ConfigError("no broker: set REDIS_URL, or use `newsworkers run`, which starts an embedded Redis")
    configure_logging(settings)
    # StageTask: a task ended by Redis or the broker being away gives its message back (worker/middleware.py).
    app = Celery("newsworkers", set_as_current=False, amqp=SummarizingAMQP, task_cls=StageTask)
    transport_options: dict[str, object] = {}
    if broker_is_redis(settings):
        transport_options = {
            # Our namespace prefixes the broker's keys too, so deployments can share a Redis.
            "global_keyprefix": Keys(settings.namespace).prefix,
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
        broker_transport="workers.broker.transport:Transport" if plain_redis(settings) else None,
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
        task_queues=celery_queues(settings),
        task_default_queue=queue_name(settings, POLL.name),
        # History first finds its backfill queue; every task has its queue in the stage table.
        task_routes=[functools.partial(backfill_route, settings), celery_routes(settings)],
        worker_send_task_events=False,
        task_send_sent_event=False,
        enable_utc=True,
    )
    app.runtime = Runtime(settings)  # type: ignore[attr-defined]
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
    extract_queues = {queue_name(runtime.settings, EXTRACT.name),
                      queue_name(runtime.settings, BACKFILL_QUEUES[EXTRACT.name])}
    if not extract_queues & set(queues.consume_from):
        return
    warm_up(runtime.settings, runtime.ner)
