"""Deletions applied in the index: a :class:`Selection` of documents removed from any backend.

A selection names what goes: document ids (a URL under every id version), or a domain (with its
subdomains) and/or a published_at bound. :func:`delete_selected` removes it and takes the documents'
near-duplicate fingerprints out of Redis, so a deleted story anchors no cluster, and re-upserts the
members left behind with their new cluster. :func:`apply_deletion_message` is the index worker's side of
a takedown or a prune sent on the index queue (see :mod:`workers.ops.takedown`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workers.core.dates import parse_iso
from workers.core.logs import get_logger
from workers.neardup.clusters import ClusterStore
from workers.runtime import Runtime
from workers.search.backend import SearchBackend
from workers.search.model import SearchQuery

__all__ = ["Selection", "apply_deletion", "apply_deletion_message", "delete_selected", "domain_values",
           "selected_ids"]

REPLY_TTL_S = 600
"""Seconds a deletion's answer waits on its reply list for the sender."""
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
        before = parse_iso(data["before"]) if data.get("before") else None
        return cls(ids=[str(i) for i in data.get("ids") or []], urls=[str(u) for u in data.get("urls") or []],
                   domain=data.get("domain"), before=before)

    @property
    def by_query(self) -> bool:
        return self.domain is not None or self.before is not None


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
        pipe.expire(reply, REPLY_TTL_S)
        pipe.execute()
