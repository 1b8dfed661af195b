"""The Celery side of alerts: matching after each index batch, and the webhook delivery task.

Delivery runs on the I/O pool (the ``fetch`` queue's threads: a POST is a network wait, like a page), never
inside the index batch, so a slow hook cannot hold the index writer. It is retried with the project's backoff
through the delayed set (never a broker countdown) and dead-lettered as stage ``alert`` when the hook keeps
failing, both by :func:`workers.worker.middleware.retry_or_dead_letter`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any

import httpx
from celery import Celery, Task

from workers.alerts.service import Alerts
from workers.alerts.store import AlertStore, FeedEntry
from workers.alerts.webhook import post
from workers.broker.outage import OUTAGE
from workers.core.logs import get_logger
from workers.core.models import Article
from workers.core.stages import ALERT_WEBHOOK_TASK
from workers.net.http import make_client
from workers.runtime import Runtime
from workers.worker.middleware import reason_for, retry_or_dead_letter

__all__ = ["AlertHooks", "alert_store", "register_alert_tasks"]

log = get_logger(__name__)


def alert_store(runtime: Runtime) -> AlertStore:
    return AlertStore(runtime.redis, runtime.keys, matches_max=runtime.settings.alert_matches_max)


class AlertHooks:
    """What the index task calls once a batch is in the index."""

    def __init__(self, runtime: Runtime, deliver: Task) -> None:
        self.runtime = runtime
        self.deliver = deliver

    @functools.cached_property
    def alerts(self) -> Alerts:
        return Alerts(alert_store(self.runtime), self.runtime.settings, lambda: self.runtime.index_writer)

    def indexed(self, articles: Sequence[Article]) -> None:
        """Match the batch. A failure here costs alerts, never the batch: it is logged and counted, since the
        articles are in the index and going back to the queue would index them again for nothing. But for
        an outage (Redis away): the batch goes back, is matched again, and each pair still fires once."""
        try:
            new = self.alerts.match_batch(articles, lambda message: self.deliver.apply_async((message,)))
        except OUTAGE:
            raise
        except Exception as exc:
            reason = reason_for(exc, "alert")
            log.error("alert matching failed", reason=reason, error=str(exc)[:500], documents=len(articles))
            self.runtime.stats.incr("alert", "failed", reason=reason)
            return
        if new:
            self.runtime.stats.incr("alert", "matched", new)


def register_alert_tasks(app: Celery) -> AlertHooks:
    runtime: Runtime = app.runtime  # type: ignore[attr-defined]
    settings = runtime.settings

    @functools.cache
    def client() -> httpx.Client:
        # Guarded like every outbound request (workers/net/addresses.py); no redirects are followed.
        return make_client(settings, timeout_s=settings.alert_webhook_timeout_s)

    @app.task(name=ALERT_WEBHOOK_TASK, bind=True, shared=False)
    def alert_webhook(self: Task, message: dict[str, Any]) -> str:
        alert, entry = str(message.get("alert")), FeedEntry(**message["entry"])
        store = alert_store(runtime)
        if store.delivered(alert, entry.id):
            return "delivered before"
        saved = store.get(alert)
        if saved is None or not saved.webhook:  # removed, or its hook dropped, since the match
            return "no webhook"
        try:
            post(client(), saved.webhook, alert, entry)
        except Exception as exc:  # retried later (backoff, through the delayed set), else dead-lettered
            retry_or_dead_letter(self, runtime, exc, stage="alert", key=f"alert:{alert}:{entry.id}",
                                 url=saved.webhook, payload=message, max_retries=settings.alert_webhook_max_retries,
                                 letter_task=ALERT_WEBHOOK_TASK, finished=[])
            return "failed"
        store.mark_delivered(alert, entry.id, time.time())
        runtime.stats.incr("alert", "ok")
        return "delivered"

    return AlertHooks(runtime, alert_webhook)

