"""Retries without a broker countdown: backoff with jitter, the message held in Redis until due.

The decision to retry or dead-letter is :func:`workers.worker.middleware.retry_or_dead_letter`'s.
"""

from __future__ import annotations

import random
import time
from typing import Any

from celery import Task

from workers.runtime import Runtime

__all__ = ["backoff_s", "retry_later"]


def backoff_s(runtime: Runtime, retries: int) -> float:
    """Exponential backoff with full jitter, capped; so retries of a burst spread out."""
    settings = runtime.settings
    ceiling = min(settings.retry_backoff_max_s, settings.retry_backoff_s * 2**retries)
    return random.uniform(ceiling / 2, ceiling)


def retry_later(task: Task, runtime: Runtime, delay_s: float, *, note: dict[str, Any] | None = None) -> None:
    """Hold this task's message for ``delay_s`` in Redis (workers/broker/delayed.py), then return so it is acked.

    Never ``task.retry(countdown=...)``: that leaves the message unacknowledged in a worker for the whole
    delay, and past the visibility timeout the Redis transport hands it to a second worker.
    """
    request = task.request
    options = {"retries": int(request.retries or 0) + 1}
    if request.id:
        options["task_id"] = request.id
    runtime.delayed.hold(task.name, list(request.args or ()), due_at=time.time() + delay_s, options=options,
                         note=note)
