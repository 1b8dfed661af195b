"""The one small interface every search backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from workers.core.models import Article
from workers.search.model import SearchQuery, SearchResult
from workers.settings import Settings

__all__ = ["SearchBackend", "open_backend"]


@runtime_checkable
class SearchBackend(Protocol):
    def ensure_index(self) -> None:
        """Create the index (schema, mappings) when it does not exist yet."""

    def upsert(self, articles: Sequence[Article]) -> None:
        """Insert or replace documents by id; visible to searches once it returns."""

    def delete(self, ids: Sequence[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""

    def ids_where(self, query: SearchQuery) -> list[str]:
        """The id of every document ``query`` finds (text, filters, dates), all of them: no page, no limit."""

    def delete_where(self, query: SearchQuery) -> int:
        """Remove every document ``query`` finds; returns how many went. Visible to searches once it returns."""

    def search(self, query: SearchQuery) -> SearchResult: ...

    def get(self, doc_id: str) -> Article | None: ...

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are indexed: one batched lookup (the seen window's answer past its end)."""

    def count(self) -> int: ...

    def health(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


def open_backend(settings: Settings, *, writer: bool = False) -> SearchBackend:
    """Elasticsearch when ELASTICSEARCH_URL is set, else the embedded Tantivy index; ``writer`` opens it for
    indexing (one writer per Tantivy index, any number with Elasticsearch)."""
    if settings.elasticsearch_url:
        from workers.search.elasticsearch.backend import ElasticsearchBackend

        return ElasticsearchBackend(settings, writer=writer)
    from workers.search.tantivy.backend import TantivyBackend

    return TantivyBackend(settings.index_dir, writer=writer)
