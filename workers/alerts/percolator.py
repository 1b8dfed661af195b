"""The Elasticsearch path: saved searches as percolator queries, and each indexed batch percolated.

The bodies come from :mod:`workers.search.elasticsearch.percolator`; this module is their lifecycle: the
percolator index created behind ``<alias>-saved-searches`` when the first search is saved, a stored query per
saved search (id = its name) put and deleted with it, and one batch percolation per indexed batch, paged by
saved-search id. Client errors become ours in :func:`workers.search.elasticsearch.errors.es_errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from elasticsearch import Elasticsearch

from workers.alerts.store import SavedSearch
from workers.core.dates import parse_iso
from workers.core.models import Article
from workers.search.elasticsearch import percolator as pc
from workers.search.elasticsearch import requests as rq
from workers.search.elasticsearch.errors import CLIENT_ERRORS, es_errors
from workers.search.elasticsearch.index import (
    ensure_saved_searches_index,
    next_saved_searches_index,
    saved_searches_status,
    swap_alias,
)

__all__ = ["PercolatorAlerts", "matches_from_hits"]


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
        # Only the client's errors: ensure_saved_searches_index raises ours (a ConfigError naming the fix) itself.
        with es_errors("create the saved-searches index", catch=CLIENT_ERRORS):
            return ensure_saved_searches_index(self.client, self.alias)

    def store(self, saved: SavedSearch) -> None:
        """Put the saved search's compiled query; refreshed, so the next batch is matched against it."""
        self.ensure()
        document = pc.saved_search_document(saved.name, saved.name, saved.search_query(),
                                            created_at=parse_iso(saved.created_at))
        with es_errors("store a saved search", catch=CLIENT_ERRORS):
            self.client.index(index=self.index, id=saved.name, document=document, refresh=True)

    def sync(self, searches: Sequence[SavedSearch]) -> None:
        """Create the index and put every saved search (puts by id are idempotent): a worker does it once, so
        searches saved before the deployment moved to Elasticsearch, or lost with the index, match again."""
        self.ensure()
        with es_errors("store the saved searches", catch=CLIENT_ERRORS):
            self._put_all(self.index, searches)

    def migrate(self, searches: Callable[[], Sequence[SavedSearch]]) -> dict[str, Any]:
        """Move the saved searches to a new index of today's articles mapping, if the live one is older.

        Every search is stored in the new index before the alias moves, so matching never sees it half full;
        ``searches`` is read again after the move and put once more, so one saved in between is not lost
        (puts by id are idempotent). The old index is kept, like the articles' old versions.
        """
        with es_errors("read the saved-searches index", catch=CLIENT_ERRORS):
            status = saved_searches_status(self.client, self.alias)
        if not status["needs_migrate"]:
            return {**status, "migrated": False, "stored": 0}
        with es_errors("migrate the saved searches", catch=CLIENT_ERRORS):
            new = next_saved_searches_index(self.client, self.alias)
            stored = self._put_all(new, searches())
            swap_alias(self.client, self.index, status["index"], new)
            stored = max(stored, self._put_all(self.index, searches()))
        return {**status, "migrated": True, "from": status["index"], "created": new, "stored": stored}

    def _put_all(self, index: str, searches: Sequence[SavedSearch]) -> int:
        for saved in searches:
            document = pc.saved_search_document(saved.name, saved.name, saved.search_query(),
                                                created_at=parse_iso(saved.created_at))
            self.client.index(index=index, id=saved.name, document=document)
        self.client.indices.refresh(index=index)
        return len(searches)

    def remove(self, name: str) -> None:
        with es_errors("delete a saved search", catch=CLIENT_ERRORS):
            self.client.options(ignore_status=404).delete(index=self.index, id=name, refresh=True)

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
            with es_errors("percolate a batch", catch=CLIENT_ERRORS):
                hits = self.client.search(index=self.index, body=body).body["hits"]["hits"]
            for name, matched in matches_from_hits(hits, ids).items():
                found.setdefault(name, []).extend(matched)
            if len(hits) < self.page:
                return found
            after = hits[-1]["_source"]["saved_search"]["id"]

