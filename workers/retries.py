"""What happens when a stage fails: retry transient errors with backoff,
dead-letter everything else with its reason.

One policy for every task, so no task decides on its own whether an error
is worth another try: the error's class does (``Retryable``).
"""

from __future__ import annotations

import random
import traceback
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from workers.errors import NewsworkersError, Retryable
from workers.logs import get_logger
from workers.runtime import Runtime
from workers.state import DeadLetter

__all__ = ["backoff_s", "fail"]

log = get_logger(__name__)


def backoff_s(runtime: Runtime, retries: int) -> float:
    """Exponential backoff with full jitter, capped; so retries of a burst spread out."""
    settings = runtime.settings
    ceiling = min(settings.retry_backoff_max_s, settings.retry_backoff_s * 2**retries)
    return random.uniform(ceiling / 2, ceiling)


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
    """Retry (raises celery.exceptions.Retry) or dead-letter ``exc``; never returns silently on a retry."""
    if isinstance(exc, NewsworkersError):
        reason = exc.reason
    elif isinstance(exc, SoftTimeLimitExceeded):
        reason = f"{stage}.timeout"  # a page that hangs the parser: its fault, recorded, the worker goes on
    else:
        reason = f"{stage}.crash"
    retries = int(task.request.retries or 0)
    if isinstance(exc, Retryable) and retries < runtime.settings.max_retries:
        runtime.stats.incr(stage, "retried", reason=reason)
        delay = backoff_s(runtime, retries)
        log.info("retry", stage=stage, reason=reason, url=url, attempt=retries + 1, delay_s=round(delay, 1))
        raise task.retry(exc=exc, countdown=delay)
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
