"""What happens when a stage fails: retry transient errors with backoff,
dead-letter everything else with its reason.

One policy for every task, so no task decides on its own whether an error
is worth another try: the error's class does (``Retryable``).
"""

from __future__ import annotations

import random
import time
import traceback
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from workers.broker.outage import OUTAGE
from workers.core.errors import NewsworkersError, Retryable
from workers.core.logs import get_logger
from workers.runtime import Runtime
from workers.state import DeadLetter

__all__ = ["backoff_s", "fail", "retry_later"]

log = get_logger(__name__)


def backoff_s(runtime: Runtime, retries: int) -> float:
    """Exponential backoff with full jitter, capped; so retries of a burst spread out."""
    settings = runtime.settings
    ceiling = min(settings.retry_backoff_max_s, settings.retry_backoff_s * 2**retries)
    return random.uniform(ceiling / 2, ceiling)


def retry_later(task: Task, runtime: Runtime, delay_s: float) -> None:
    """Hold this task's message for ``delay_s`` in Redis (workers/broker/delayed.py), then return so it is acked.

    Never ``task.retry(countdown=...)``: that leaves the message unacknowledged in a worker for the whole
    delay, and past the visibility timeout the Redis transport hands it to a second worker.
    """
    request = task.request
    options = {"retries": int(request.retries or 0) + 1}
    if request.id:
        options["task_id"] = request.id
    runtime.delayed.hold(task.name, list(request.args or ()), due_at=time.time() + delay_s,
                                   options=options)


def fail(
    task: Task,
    runtime: Runtime,
    exc: BaseException,
    *,
    stage: str,
    key: str,
    url: str,
    payload: dict[str, Any],
) -> None:
    """Retry later (transient errors, up to ``max_retries``) or dead-letter ``exc``.

    An outage is no fault of the item: it is raised again, and the task gives its message back
    (workers/broker/outage.py)."""
    if isinstance(exc, OUTAGE):
        raise exc
    if isinstance(exc, NewsworkersError):
        reason = exc.reason
    elif isinstance(exc, SoftTimeLimitExceeded):
        reason = f"{stage}.timeout"  # a page that hangs the parser: its fault, recorded, the worker goes on
    elif isinstance(exc, MemoryError):
        reason = f"{stage}.memory"  # the child's heap cap (extract_max_alloc_mb) stopped a runaway page
    else:
        reason = f"{stage}.crash"
    retries = int(task.request.retries or 0)
    if isinstance(exc, Retryable) and retries < runtime.settings.max_retries:
        runtime.stats.incr(stage, "retried", reason=reason)
        # A server's Retry-After is a floor: asking again sooner only earns another refusal.
        asked = min(getattr(exc, "retry_after_s", None) or 0.0, runtime.settings.retry_backoff_max_s)
        delay = max(backoff_s(runtime, retries), asked)
        log.info("retry", stage=stage, reason=reason, url=url, attempt=retries + 1, delay_s=round(delay, 1))
        retry_later(task, runtime, delay)
        return
    runtime.dead_letters.record(
        DeadLetter(
            stage=stage,
            key=key,
            url=url,
            reason=reason,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            attempts=retries + 1,
            traceback_tail="".join(traceback.format_exception(exc)[-3:])[-2000:],
            payload=payload,
        )
    )
    runtime.tracker.finish([key])
    runtime.stats.incr(stage, "failed", reason=reason)
