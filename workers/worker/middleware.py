"""What every task runs inside, written once: reason codes, retry or dead letter, poison counting, outages.

A task body calls a pipeline function and hands its failure here; no task decides on its own whether an
error is worth another try (the error's class does: ``Retryable``), how its dead letter looks (always with
the traceback's tail), or what a message that keeps killing its worker is called.

- :class:`StageTask` is the app's task class: a task ended by an outage (Redis or the broker away) rejects
  its message back to the queue instead of acknowledging it, and a task declared with ``counted=``
  (:class:`Counted`) has its deliveries counted and its poison messages handled before its body runs.
- :func:`retry_or_dead_letter` retries transient errors through the delayed set (workers/worker/retries.py)
  and records everything else with :func:`dead_letter`.
- Poison messages: each stage counts the deliveries it *started* per item and clears the count when it ends
  the message in a controlled way (done, retry scheduled, dead-lettered); a count above ``max_deliveries``
  means the earlier ones all died (a parser crash, the OOM killer, a hard time limit), so the item is
  dead-lettered as ``<stage>.poison`` (``feed.poison`` for a poll) instead of delivered forever.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from celery import Task
from celery.exceptions import Reject, SoftTimeLimitExceeded

from workers.broker.outage import OUTAGE, before_giving_back, retry_through_outage
from workers.core.errors import (
    ExtractionError,
    FeedError,
    FetchError,
    IndexingError,
    NewsworkersError,
    Retryable,
)
from workers.core.logs import get_logger
from workers.runtime import Runtime
from workers.state import DeadLetter
from workers.worker.retries import backoff_s, retry_later

__all__ = ["Counted", "StageTask", "dead_letter", "delivered", "given_back_on_outage", "is_poison", "poison_error",
           "poisoned", "reason_for", "retry_or_dead_letter"]

log = get_logger(__name__)

# What a poison message is, per stage: the error class, its reason, what was delivered and what it kills.
_POISON: dict[str, tuple[type[NewsworkersError], str, str, str]] = {
    "poll": (FeedError, "feed.poison", "poll", "its worker"),
    "fetch": (FetchError, "fetch.poison", "page", "its worker"),
    "extract": (ExtractionError, "extract.poison", "page", "its worker"),
    "index": (IndexingError, "index.poison", "document", "the index worker"),
}


@dataclass(frozen=True, slots=True)
class Counted:
    """How a one-item task's deliveries are counted: its stage, the item a message is about, and what a poison
    message of it becomes (a dead letter, unless the task says otherwise)."""

    stage: str
    key: Callable[[dict[str, Any]], str]
    """The item a message is about (its delivery count's key)."""
    letter: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]] | None = None
    """The URL and the payload a poison message's dead letter keeps."""
    on_poison: Callable[[Runtime, dict[str, Any], NewsworkersError], Any] | None = None
    """Instead of a dead letter: what the task does with a poison message (a poll records it on its feed)."""


class StageTask(Task):  # type: ignore[misc]
    """The app's task class: a task ended by an outage rejects its message back to the queue.

    With ``acks_late`` and ``task_acks_on_failure_or_timeout`` a failed task's message is acknowledged, which
    is right for a task's own failures (recorded before it ends) and wrong for an outage. Waiting for Redis
    first makes the reject land, so the message is redelivered at once rather than after the visibility
    timeout.

    A task declared with ``counted=Counted(...)`` counts each delivery it starts and clears the count however
    its message ends, so only deaths in a row make an item poison (copies a broker restart redelivers, each
    finished, are not deaths); a poison message is handled here and the body never runs.
    """

    counted: Counted | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            if self.counted is None:
                return super().__call__(*args, **kwargs)
            return self._counted_call(self.counted, *args, **kwargs)
        except OUTAGE as exc:
            before_giving_back(self, exc, "message")
            raise Reject(f"{type(exc).__name__}: {exc}", requeue=True) from exc

    def _counted_call(self, counted: Counted, message: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        runtime: Runtime = self.app.runtime
        key = counted.key(message)
        try:
            if not is_poison(runtime, counted.stage, key):
                return super().__call__(message, *args, **kwargs)
            error = poison_error(runtime, counted.stage)
            if counted.on_poison is not None:
                return counted.on_poison(runtime, message, error)
            url, payload = counted.letter(message) if counted.letter is not None else ("", message)
            dead_letter(runtime, error, stage=counted.stage, key=key, url=url, payload=payload,
                        attempts=int(self.request.retries or 0) + 1)
            return None
        finally:
            delivered(runtime, counted.stage, key)


def reason_for(exc: BaseException, stage: str) -> str:
    """The reason code a failure is recorded and counted under."""
    if isinstance(exc, NewsworkersError):
        return exc.reason
    if isinstance(exc, SoftTimeLimitExceeded):
        return f"{stage}.timeout"  # a page that hangs the parser: its fault, recorded, the worker goes on
    if isinstance(exc, MemoryError):
        return f"{stage}.memory"  # the child's heap cap (extract_max_alloc_mb) stopped a runaway page
    return f"{stage}.crash"


def dead_letter(runtime: Runtime, exc: BaseException, *, stage: str, key: str, url: str, payload: dict[str, Any],
                attempts: int, reason: str | None = None, letter_task: str | None = None,
                finished: Iterable[str] | None = None) -> None:
    """Record a failure for good: the letter (with the traceback's tail), the items' marks, the count.

    ``finished`` are the item ids whose in-flight marks end here (default: ``key``); an alert delivery is
    no item and passes none. ``letter_task`` names the failed task where the stage alone does not.
    """
    reason = reason or reason_for(exc, stage)
    runtime.dead_letters.record(DeadLetter(
        stage=stage, key=key, url=url, reason=reason, error=f"{type(exc).__name__}: {exc}"[:2000],
        attempts=attempts, traceback_tail="".join(traceback.format_exception(exc)[-3:])[-2000:],
        payload=payload, task=letter_task,
    ))
    done = [key] if finished is None else list(finished)
    if done:
        runtime.tracker.finish(done)
    runtime.stats.incr(stage, "failed", reason=reason)


def retry_or_dead_letter(task: Task, runtime: Runtime, exc: BaseException, *, stage: str, key: str, url: str,
                         payload: dict[str, Any], max_retries: int | None = None, **letter: Any) -> None:
    """Retry later (transient errors, up to ``max_retries``, default the setting) or dead-letter ``exc``.

    An outage is no fault of the item: it is raised again, and the task gives its message back.
    """
    if isinstance(exc, OUTAGE):
        raise exc
    reason = reason_for(exc, stage)
    retries = int(task.request.retries or 0)
    limit = runtime.settings.max_retries if max_retries is None else max_retries
    if isinstance(exc, Retryable) and retries < limit:
        runtime.stats.incr(stage, "retried", reason=reason)
        # A server's Retry-After is a floor: asking again sooner only earns another refusal.
        asked = min(getattr(exc, "retry_after_s", None) or 0.0, runtime.settings.retry_backoff_max_s)
        delay = max(backoff_s(runtime, retries), asked)
        log.info("retry", stage=stage, reason=reason, url=url, attempt=retries + 1, delay_s=round(delay, 1))
        retry_later(task, runtime, delay, note={"stage": stage, "url": url, "reason": reason,
                                                "attempts_left": limit - retries})
        return
    dead_letter(runtime, exc, stage=stage, key=key, url=url, payload=payload, attempts=retries + 1, reason=reason,
                **letter)


def poison_error(runtime: Runtime, stage: str) -> NewsworkersError:
    """The error a poison message of ``stage`` is dead-lettered with."""
    cls, reason, what, kills = _POISON[stage]
    return cls(f"the {what} was delivered {runtime.settings.max_deliveries} times without finishing; it keeps "
               f"killing {kills}", reason=reason)


def is_poison(runtime: Runtime, stage: str, key: str) -> bool:
    """Count this delivery of ``key`` at ``stage``; True when the earlier ones never finished too often."""
    return runtime.tracker.count_delivery(stage, key) > runtime.settings.max_deliveries


def poisoned(runtime: Runtime, stage: str, keys: list[str]) -> set[str]:
    """:func:`is_poison` for a batch's distinct keys, counted in one round trip."""
    distinct = list(dict.fromkeys(keys))
    counts = runtime.tracker.count_deliveries(stage, distinct) if distinct else []
    return {key for key, count in zip(distinct, counts, strict=True) if count > runtime.settings.max_deliveries}


def delivered(runtime: Runtime, stage: str, *keys: str) -> None:
    """The stage ended these items' messages (done, retried, dead-lettered, or given back by an outage): their
    counts start over. Through an outage it waits for Redis, or a restart would count against the items."""
    if keys:
        fields = [f"{stage}:{key}" for key in keys]
        retry_through_outage(runtime.redis, lambda: runtime.redis.hdel(runtime.keys.deliveries, *fields))


@contextlib.contextmanager
def given_back_on_outage(runtime: Runtime, stage: str, keys: Iterable[str]) -> Iterator[None]:
    """A batch that an outage stops goes back whole (workers/worker/batches.py) with its counts started over:
    no worker died on these items."""
    try:
        yield
    except OUTAGE:
        delivered(runtime, stage, *keys)
        raise
