"""Removing documents from the index: takedowns (``newsworkers delete``) and pruning by age.

A :class:`Selection` names what goes: document ids (a URL under every id
version), or a domain (with its subdomains) and/or a published_at bound.
:func:`delete_selected` removes it from any backend and takes the documents'
near-duplicate fingerprints out of Redis, so a deleted story anchors no
cluster, and re-upserts the members left behind with their new cluster.

Who writes: Elasticsearch takes deletes from anyone. The embedded Tantivy
index has one writer, so :func:`execute` opens it only when it can take the
data directory (nothing runs there) and the writer; otherwise it sends the
selection on the index queue as a delete message (:data:`DELETE_TASK`),
which the index worker holding the writer applies between batches, and waits
for its answer on a Redis list.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from celery import Celery

from workers.core.errors import RetryableIndexingError
from workers.core.logs import get_logger
from workers.neardup.clusters import ClusterStore
from workers.runtime import Runtime
from workers.search.backend import SearchBackend
from workers.search.model import SearchQuery
from workers.settings import Settings
from workers.state.ownership import DataDirLock, owned_redis, redis_for_command

__all__ = ["DELETE_TASK", "DeletionReport", "Selection", "apply_deletion", "apply_deletion_message",
           "delete_selected", "domain_values", "execute", "selected_ids", "send_deletion"]

DELETE_TASK = "newsworkers.index_delete"
_REPLY_TTL_S = 600
_MAX_DOMAINS = 60_000  # facet buckets read to find a domain's subdomains (below Elasticsearch's max_buckets)

log = get_logger(__name__)


@dataclass(slots=True)
class Selection:
    """What to delete: ``ids``, documents stored under one of ``urls`` (their id may come from a canonical URL),
    and/or the documents of ``domain`` (subdomains included) published at or before ``before``; an empty
    selection selects nothing, never everything."""

    ids: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    domain: str | None = None
    before: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"ids": self.ids, "urls": self.urls, "domain": self.domain,
                "before": self.before.isoformat() if self.before else None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Selection:
        before = datetime.fromisoformat(data["before"]) if data.get("before") else None
        return cls(ids=[str(i) for i in data.get("ids") or []], urls=[str(u) for u in data.get("urls") or []],
                   domain=data.get("domain"), before=before)

    @property
    def by_query(self) -> bool:
        return self.domain is not None or self.before is not None


@dataclass(slots=True)
class DeletionReport:
    deleted: int
    where: str  # "here" (this process wrote), "index worker" (sent on the index queue), "elasticsearch"
    queued: bool = False  # sent, and not applied within the wait


def domain_values(backend: SearchBackend, domain: str) -> list[str]:
    """The indexed ``domain`` facet values that are ``domain`` or one of its subdomains."""
    wanted = domain.lower().strip(".")
    bare = wanted.removeprefix("www.")  # extract stores hosts without www.
    counts = backend.search(SearchQuery(limit=0, facets=["domain"], facet_size=_MAX_DOMAINS)).facets.get("domain", [])
    return sorted({c.value for c in counts
                   if c.value.lower() in (wanted, bare) or c.value.lower().endswith("." + wanted)})


def _query(backend: SearchBackend, selection: Selection) -> SearchQuery | None:
    filters: dict[str, list[str]] = {}
    if selection.domain is not None:
        values = domain_values(backend, selection.domain)
        if not values:
            return None
        filters["domain"] = values
    return SearchQuery(filters=filters, until=selection.before)


def selected_ids(backend: SearchBackend, selection: Selection) -> list[str]:
    """The ids of the indexed documents the selection names."""
    found = [i for i in dict.fromkeys(selection.ids) if backend.get(i) is not None]
    for url in selection.urls:
        if '"' not in url:  # the query syntax's exact url: term; a URL with a quote is found by its ids alone
            found += backend.ids_where(SearchQuery(text=f'url:"{url}"'))
    if selection.by_query:
        query = _query(backend, selection)
        found += backend.ids_where(query) if query is not None else []
    return list(dict.fromkeys(found))


def delete_selected(backend: SearchBackend, clusters: ClusterStore | None, selection: Selection) -> int:
    """Delete the selection from a writable ``backend``; returns how many documents went."""
    ids = selected_ids(backend, selection)
    # Every id version, known or not (unknown ids are ignored), and what was found by URL or query.
    named = list(dict.fromkeys([*selection.ids, *ids]))
    if named:
        backend.delete(named)
    deleted = len(ids)
    if selection.by_query:
        query = _query(backend, selection)
        if query is not None:
            # By query as well as by the ids read above: on Elasticsearch this also takes what another writer
            # indexed meanwhile; only those documents keep a fingerprint until it expires from its window.
            backend.delete_where(query)
    if clusters is not None and ids:
        _forget(backend, clusters, ids)
    return deleted


def _forget(backend: SearchBackend, clusters: ClusterStore, ids: list[str]) -> None:
    left = [a for a in (backend.get(m) for m in clusters.forget(ids)) if a is not None]
    if left:
        changed = clusters.refresh(left, backend)
        backend.upsert([*left, *changed])  # their cluster_id may have been a deleted document


def apply_deletion(runtime: Runtime, selection: Selection) -> int:
    """In the process that holds the writer (this one, or the index worker)."""
    clusters = runtime.clusters if runtime.settings.near_dup_enabled else None
    deleted = delete_selected(runtime.index_writer, clusters, selection)
    log.info("documents deleted", deleted=deleted, domain=selection.domain, ids=len(selection.ids),
             before=selection.before.isoformat() if selection.before else None)
    return deleted


def apply_deletion_message(runtime: Runtime, message: dict[str, Any]) -> None:
    """The index worker's side of :func:`send_deletion`: apply, count, answer."""
    deleted = apply_deletion(runtime, Selection.from_json(message.get("selection") or {}))
    runtime.stats.incr("index", "deleted", deleted)
    reply = message.get("reply")
    if reply:
        pipe = runtime.redis.pipeline()
        pipe.rpush(reply, json.dumps({"deleted": deleted}))
        pipe.expire(reply, _REPLY_TTL_S)
        pipe.execute()


def send_deletion(runtime: Runtime, selection: Selection, *, reply: str | None = None,
                  app: Celery | None = None) -> None:
    """Put the selection on the index queue for the index worker (through ``app``, or an app made for it)."""
    from workers.worker.app import create_app, queue_name  # the app imports the tasks, which import us

    sender = app or create_app(runtime.settings)
    try:
        sender.send_task(DELETE_TASK, args=({"selection": selection.to_json(), "reply": reply},),
                         queue=queue_name(runtime.settings, "index"))
    finally:
        if app is None:
            sender.close()


def _through_index_worker(runtime: Runtime, selection: Selection, wait_s: float) -> DeletionReport:
    reply = f"{runtime.settings.namespace}:deletion-reply:{uuid.uuid4().hex}"
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

