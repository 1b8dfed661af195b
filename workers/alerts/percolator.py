"""The Elasticsearch path: saved searches as percolator queries, and each indexed batch percolated.

The bodies come from :mod:`workers.search.elasticsearch.percolator`; this module is their lifecycle: the percolator index
created behind ``<alias>-saved-searches`` when the first search is saved, a stored query per saved search (id =
its name) put and deleted with it, and one batch percolation per indexed batch, paged by saved-search id.
Client errors are translated once, here, by :func:`workers.search.elasticsearch.errors.translate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import elastic_transport
import elasticsearch
from elasticsearch import Elasticsearch

from workers.alerts.store import SavedSearch
from workers.core.models import Article
from workers.search.elasticsearch import percolator as pc
from workers.search.elasticsearch import requests as rq
from workers.search.elasticsearch.errors import translate
from workers.search.elasticsearch.index import ensure_saved_searches_index

__all__ = ["PercolatorAlerts", "matches_from_hits"]

_T = TypeVar("_T")


def matches_from_hits(hits: Sequence[dict[str, Any]], doc_ids: Sequence[str]) -> dict[str, list[str]]:
    """Saved-search name → article ids, from the hits of a batch percolation (``_percolator_document_slot``
    holds the positions, in the percolated list, of the documents each stored query matched)."""
    found: dict[str, list[str]] = {}
    for hit in hits:
        name = hit["_source"]["saved_search"]["name"]
        slots = hit.get("fields", {}).get("_percolator_document_slot", [0])
        found.setdefault(name, []).extend(doc_ids[int(slot)] for slot in slots)
    return found


class PercolatorAlerts:
    def __init__(self, client: Elasticsearch, alias: str, *, page: int = pc.PERCOLATE_PAGE) -> None:
        self.client = client
        self.alias = alias
        self.index = pc.saved_searches_alias(alias)
        self.page = page

    def ensure(self) -> str:
        return _call(lambda: ensure_saved_searches_index(self.client, self.alias), "create the saved-searches index")

    def store(self, saved: SavedSearch) -> None:
        """Put the saved search's compiled query; refreshed, so the next batch is matched against it."""
        self.ensure()
        document = pc.saved_search_document(saved.name, saved.name, saved.search_query(),
                                            created_at=datetime.fromisoformat(saved.created_at))
        _call(lambda: self.client.index(index=self.index, id=saved.name, document=document, refresh=True),
              "store a saved search")

    def sync(self, searches: Sequence[SavedSearch]) -> None:
        """Create the index and put every saved search (puts by id are idempotent): a worker does it once, so
        searches saved before the deployment moved to Elasticsearch, or lost with the index, match again."""
        self.ensure()
        for saved in searches:
            document = pc.saved_search_document(saved.name, saved.name, saved.search_query(),
                                                created_at=datetime.fromisoformat(saved.created_at))
            _call(lambda d=document, n=saved.name: self.client.index(index=self.index, id=n, document=d),  # type: ignore[misc]
                  "store a saved search")
        _call(lambda: self.client.indices.refresh(index=self.index), "refresh the saved searches")

    def remove(self, name: str) -> None:
        _call(lambda: self.client.options(ignore_status=404).delete(index=self.index, id=name, refresh=True),
              "delete a saved search")

    def match(self, articles: Sequence[Article]) -> dict[str, list[str]]:
        """Saved-search name → ids of the articles it matches, in as few requests as there are pages."""
        if not articles:
            return {}
        documents = [rq.document(a) for a in articles]
        ids = [a.id for a in articles]
        found: dict[str, list[str]] = {}
        after: str | None = None
        while True:
            body = pc.percolate_batch_body(documents, size=self.page, search_after=after)
            hits = _call(lambda b=body: self.client.search(index=self.index, body=b).body["hits"]["hits"],  # type: ignore[misc]
                         "percolate a batch")
            for name, matched in matches_from_hits(hits, ids).items():
                found.setdefault(name, []).extend(matched)
            if len(hits) < self.page:
                return found
            after = hits[-1]["_source"]["saved_search"]["id"]


def _call(call: Callable[[], _T], where: str) -> _T:
    try:
        return call()
    except (elasticsearch.ApiError, elastic_transport.TransportError, elasticsearch.UnsupportedProductError) as exc:
        raise translate(exc, where=where) from exc
