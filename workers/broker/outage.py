"""Redis or the broker out of reach in the middle of a task: the message goes back, whole.

An outage (Redis restarting, a network cut to the broker) is no fault of the
page, feed or article in hand. Caught as any other error it would be recorded
against the item (a dead letter for a healthy page once Redis is back), or
the task would end in failure and Celery would acknowledge its message,
losing the work until the in-flight TTL sends it again.

So an outage error passes every stage's error handling untouched, and a task
that ends on one waits a little for Redis to answer, so what it clears and
rejects reaches Redis, then gives its message back to the queue
(:class:`workers.worker.middleware.StageTask`). Batch tasks do the same through
:mod:`workers.worker.batches`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from celery import Task
from kombu.exceptions import OperationalError
from redis import Redis
from redis import exceptions as redis_errors

from workers.core.logs import get_logger

__all__ = ["OUTAGE", "OUTAGE_WAIT_S", "before_giving_back", "retry_through_outage",
           "wait_for_redis"]

log = get_logger(__name__)

# BusyLoadingError (Redis reading its append-only file after a restart) is a ConnectionError. Kombu raises
# OperationalError when a publish could not reach the broker after its own short retries.
OUTAGE: tuple[type[BaseException], ...] = (redis_errors.ConnectionError, redis_errors.TimeoutError, OperationalError)

# Long enough for a restart (a kill, 2 s, reading the append-only file); short beside any task's time limit.
# Past it the message is still not lost: the broker hands it out again after the visibility timeout.
OUTAGE_WAIT_S = 15.0

T = TypeVar("T")


def wait_for_redis(redis: Redis, timeout_s: float = OUTAGE_WAIT_S) -> bool:
    """Ping until Redis answers (True) or ``timeout_s`` passes (False)."""
    give_up = time.monotonic() + timeout_s
    while True:
        try:
            redis.ping()
            return True
        except OUTAGE:
            if time.monotonic() >= give_up:
                return False
            time.sleep(0.5)


def retry_through_outage(redis: Redis, call: Callable[[], T]) -> T:
    """``call()``, once more after Redis is back if an outage stopped it (raises if Redis stays away)."""
    try:
        return call()
    except OUTAGE:
        if not wait_for_redis(redis):
            raise
        return call()


def before_giving_back(task: Task, exc: BaseException, what: str) -> None:
    """Wait for Redis (so the reject that follows lands) and say that ``task`` gives back ``what``."""
    runtime = getattr(task.app, "runtime", None)
    back = runtime is not None and wait_for_redis(runtime.redis)
    log.warning(f"outage: {what} given back", task=task.name, error=f"{type(exc).__name__}: {exc}"[:300],
                redis_back=back)
