"""Saved searches end to end: add and remove them (with their first matches), and match each indexed batch.

Used by the CLI, the HTTP router and the index worker alike, so all three mean the same thing:

- :meth:`Alerts.add` validates, stores, puts the percolator query (Elasticsearch), then runs **one search** for
  the articles already indexed and records them as its first matches. Those fire no webhook: a hook hears of
  articles indexed after it was saved, and recording them now also keeps them from firing if re-indexed.
- :meth:`Alerts.match_batch` runs in the index worker once a batch is in the index: every saved search
  against every article of the batch (the in-memory matcher, or the percolator), matches recorded, and a
  webhook delivery enqueued for each (alert, article) pair recorded for the first time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from workers.alerts.matcher import BatchMatcher
from workers.alerts.percolator import PercolatorAlerts
from workers.alerts.store import (
    AlertStore,
    FeedEntry,
    SavedSearch,
    entry_of,
    entry_of_hit,
    validate_saved_search,
)
from workers.core.errors import NewsworkersError
from workers.core.models import Article
from workers.search.backend import SearchBackend
from workers.settings import Settings

__all__ = ["AlertExists", "Alerts", "UnknownAlert", "delivery_message"]

Enqueue = Callable[[dict[str, Any]], None]


class AlertExists(NewsworkersError):
    """Raised when a saved search is added under a name already taken."""

    default_reason = "alert.exists"


class UnknownAlert(NewsworkersError):
    """Raised when a saved search named by the user does not exist."""

    default_reason = "alert.not_found"


def delivery_message(alert: str, entry: FeedEntry) -> dict[str, Any]:
    """The message of one webhook delivery task (the entry travels, so the task needs no search)."""
    return {"alert": alert, "entry": entry.to_json()}


class Alerts:
    def __init__(self, store: AlertStore, settings: Settings, backend: Callable[[], SearchBackend]) -> None:
        self.store = store
        self.settings = settings
        self._backend = backend  # called only when needed: the index worker's writer, or a reader
        self._matcher: BatchMatcher | None = None
        self._synced = False  # the percolator holds every saved search (Elasticsearch; once per process)

    def _percolator(self) -> PercolatorAlerts | None:
        if not self.settings.elasticsearch_url:
            return None
        backend = self._backend()
        return PercolatorAlerts(backend.client, backend.alias)  # type: ignore[attr-defined]

    # -- saved searches ----------------------------------------------------------------------------------
    def add(self, name: str, query: str, filters: dict[str, list[str]] | None = None,
            webhook: str | None = None) -> tuple[SavedSearch, int]:
        """Save a search; returns it and how many articles already indexed it starts with."""
        saved = validate_saved_search(name, query, filters, webhook)
        if not self.store.add(saved):
            raise AlertExists(f"a saved search named {name!r} exists; remove it first or pick another name")
        try:
            percolator = self._percolator()
            if percolator is not None:
                percolator.store(saved)
            # Stored first, searched second: an article indexed in between is matched by its batch, or
            # found here, or both (recorded once either way).
            found = self._backend().search(saved.search_query(limit=self.settings.alert_matches_max))
            self.store.record(saved.name, [entry_of_hit(hit) for hit in found.hits])
        except BaseException:
            with contextlib.suppress(Exception):  # the first error is the one to report
                self.remove(saved.name)  # no half-saved search that never matched its past
            raise
        return saved, self.store.match_count(saved.name)

    def remove(self, name: str) -> None:
        if self.store.get(name) is None:
            raise UnknownAlert(f"no saved search named {name!r}")
        percolator = self._percolator()
        if percolator is not None:
            percolator.remove(name)
        self.store.remove(name)

    def migrate_percolator(self) -> dict[str, Any] | None:
        """After the articles index moved to a new schema: the saved searches moved too (Elasticsearch only)."""
        percolator = self._percolator()
        return None if percolator is None else percolator.migrate(self.store.all)

    # -- index time ----------------------------------------------------------------------------------------
    def match_batch(self, articles: Sequence[Article], enqueue: Enqueue) -> int:
        """Match a freshly indexed batch; returns the number of new (alert, article) pairs."""
        searches = self.store.all()
        if not searches or not articles:
            return 0
        percolator = self._percolator()
        if percolator is not None:
            if not self._synced:
                percolator.sync(searches)
                self._synced = True
            matched = percolator.match(articles)
        else:
            if self._matcher is None:
                self._matcher = BatchMatcher()
            matched = self._matcher.match(articles, searches)
        by_id = {a.id: a for a in articles}
        by_name = {s.name: s for s in searches}
        new_pairs = 0
        for name, ids in matched.items():
            saved = by_name.get(name)
            if saved is None:  # a stored query whose search was removed meanwhile
                continue
            new = self.store.record(name, [entry_of(by_id[i]) for i in dict.fromkeys(ids) if i in by_id])
            new_pairs += len(new)
            if saved.webhook:
                for entry in new:
                    enqueue(delivery_message(name, entry))
        return new_pairs
