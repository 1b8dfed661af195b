"""The Celery app: broker, serialization, delivery guarantees and routing.

Four queues, one per stage, so each worker pool fits its work (threads for
I/O, prefork for CPU, one solo consumer for the index writer). Delivery is
at-least-once: a message is acknowledged after its task finished, and a
worker that dies mid-task gives its message back.
"""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_init
from kombu import Queue

from workers.errors import ConfigError
from workers.logs import configure_logging
from workers.metrics import install_metrics
from workers.runtime import Runtime
from workers.settings import Settings

__all__ = ["QUEUES", "create_app"]

QUEUES = ("poll", "fetch", "extract", "index")


def create_app(settings: Settings) -> Celery:
    if not settings.redis_url:
        raise ConfigError("no broker: set REDIS_URL, or use `newsworkers run`, which starts an embedded Redis")
    configure_logging(settings)
    app = Celery("newsworkers", set_as_current=False)
    app.conf.update(
        broker_url=settings.redis_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # Our namespace prefixes the broker's keys too, so deployments can share a Redis.
            "global_keyprefix": f"{settings.namespace}:",
            "visibility_timeout": settings.visibility_timeout_s,
        },
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
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="poll",
        task_routes={f"newsworkers.{name}": {"queue": name} for name in QUEUES},
        worker_send_task_events=False,
        task_send_sent_event=False,
        enable_utc=True,
    )
    app.runtime = Runtime(settings)  # type: ignore[attr-defined]
    from workers.tasks import register_tasks

    register_tasks(app)
    install_metrics(app)
    worker_init.connect(_warm_up, sender=None, weak=False)
    return app


def _warm_up(sender: object = None, **_: object) -> None:
    """Load the NER model in the extract worker's parent, before its pool forks.

    The children then share the model's memory (copy on write) and the first
    article in each child does not wait for a model load.
    """
    worker_app = getattr(sender, "app", None)
    queues = getattr(getattr(worker_app, "amqp", None), "queues", None)
    if worker_app is None or queues is None or "extract" not in queues.consume_from:
        return
    runtime: Runtime = worker_app.runtime  # type: ignore[attr-defined]
    _ = runtime.ner.nlp
