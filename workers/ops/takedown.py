"""Removing documents from the index: takedowns (``newsworkers delete``) and pruning by age.

A :class:`Selection` names what goes (see :mod:`workers.pipeline.index.deletion`,
which applies it).

Who writes: Elasticsearch takes deletes from anyone. The embedded Tantivy
index has one writer, so :func:`execute` opens it only when it can take the
data directory (nothing runs there) and the writer; otherwise it sends the
selection on the index queue as a delete message (``newsworkers.index_delete``),
which the index worker holding the writer applies between batches, and waits
for its answer on a Redis list.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from celery import Celery

from workers.broker.routing import queue_name
from workers.core.errors import RetryableIndexingError
from workers.core.stages import INDEX, INDEX_DELETE_TASK
from workers.pipeline.index.deletion import Selection, apply_deletion, selected_ids
from workers.runtime import Runtime
from workers.settings import Settings
from workers.state.ownership import DataDirLock, owned_redis, redis_for_command
from workers.worker.app import create_app

__all__ = ["DeletionReport", "Selection", "execute", "selected_ids", "send_deletion"]


@dataclass(slots=True)
class DeletionReport:
    deleted: int
    where: str  # "here" (this process wrote), "index worker" (sent on the index queue), "elasticsearch"
    queued: bool = False  # sent, and not applied within the wait



def send_deletion(runtime: Runtime, selection: Selection, *, reply: str | None = None,
                  app: Celery | None = None) -> None:
    """Put the selection on the index queue for the index worker (through ``app``, or an app made for it)."""
    sender = app or create_app(runtime.settings)
    try:
        sender.send_task(INDEX_DELETE_TASK, args=({"selection": selection.to_json(), "reply": reply},),
                         queue=queue_name(runtime.settings, INDEX.name))
    finally:
        if app is None:
            sender.close()


def _through_index_worker(runtime: Runtime, selection: Selection, wait_s: float) -> DeletionReport:
    reply = runtime.keys.deletion_reply(uuid.uuid4().hex)
    send_deletion(runtime, selection, reply=reply)
    answer = runtime.redis.blpop([reply], timeout=max(1, round(wait_s))) if wait_s > 0 else None
    if answer is None:
        return DeletionReport(deleted=0, where="index worker", queued=True)
    return DeletionReport(deleted=int(json.loads(answer[1])["deleted"]), where="index worker")


def execute(settings: Settings, selection: Selection, *, wait_s: float) -> DeletionReport:
    """Delete the selection now: directly where this process may write, else through the index worker."""
    if settings.elasticsearch_url:
        with redis_for_command(settings) as url:
            runtime = Runtime(settings.model_copy(update={"redis_url": url}))
            try:
                return DeletionReport(deleted=apply_deletion(runtime, selection), where="elasticsearch")
            finally:
                runtime.close()
    lock = DataDirLock(settings.data_dir)
    if not lock.acquire():  # `newsworkers run` owns the directory: its index worker holds the writer
        with redis_for_command(settings) as url:
            runtime = Runtime(settings.model_copy(update={"redis_url": url}))
            try:
                return _through_index_worker(runtime, selection, wait_s)
            finally:
                runtime.close()
    try:
        with owned_redis(settings, lock) as url:
            runtime = Runtime(settings.model_copy(update={"redis_url": url}))
            try:
                try:
                    _ = runtime.index_writer
                except RetryableIndexingError:  # a deployment's index worker holds it
                    return _through_index_worker(runtime, selection, wait_s)
                return DeletionReport(deleted=apply_deletion(runtime, selection), where="here")
            finally:
                runtime.close()
    finally:
        lock.release()

