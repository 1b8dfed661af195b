"""The embedded path's percolator: which saved searches each article of a batch matches.

The batch is written to a throw-away Tantivy index in memory, built with the very schema, analyzer and
document builder of the on-disk index (:mod:`workers.search.tantivy.backend`), and each saved search runs on it
through the same :class:`~workers.search.tantivy.query.QueryCompiler` a search uses. So a saved search matches
an article exactly when a search for it would find that article: stemming, phrases, ``field:value`` and
facets agree by construction rather than by a second implementation of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import tantivy

from workers.alerts.store import SavedSearch
from workers.core.errors import NewsworkersError
from workers.core.logs import get_logger
from workers.core.models import Article
from workers.search.languages import group_of
from workers.search.model import SearchQuery
from workers.search.tantivy.analysis import all_analyzers, register_analyzers
from workers.search.tantivy.backend import article_document
from workers.search.tantivy.query import QueryCompiler
from workers.search.tantivy.schema import build_schema

__all__ = ["BatchMatcher"]

log = get_logger(__name__)

# A batch is small (index_batch_size); a modest heap keeps the in-memory writer from reserving much.
_WRITER_HEAP_BYTES = 15 * 2**20


class BatchMatcher:
    """Built once per process (schema and analyzer), used for every batch."""

    def __init__(self) -> None:
        self.schema = build_schema()
        self.analyzers = all_analyzers()
        self.compiler = QueryCompiler(self.schema, self.analyzers)

    def match(self, articles: Sequence[Article], searches: Sequence[SavedSearch]) -> dict[str, list[str]]:
        """Saved-search name → ids of the articles in ``articles`` it matches (names matching none are left out)."""
        if not articles or not searches:
            return {}
        index = tantivy.Index(self.schema)  # no path: in memory, gone with the batch
        register_analyzers(index, self.analyzers)
        writer = index.writer(_WRITER_HEAP_BYTES, 1)
        for article in articles:
            writer.add_document(article_document(article, source=False))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        searcher = index.searcher()
        # One commit of one writer thread makes one segment whose doc ids follow the order of addition, so a
        # hit's address names its article without loading the stored document (most of the cost otherwise).
        in_order = searcher.num_segments == 1 and searcher.num_docs == len(articles)
        found: dict[str, list[str]] = {}
        groups = {group_of(article.language) for article in articles}  # the only fields with text in this batch
        for saved in searches:
            try:
                _, query = self.compiler.compile(SearchQuery(text=saved.query, filters=saved.filters), groups=groups)
            except NewsworkersError as exc:  # validated when saved; a query the grammar no longer takes is skipped
                log.warning("saved search skipped", alert=saved.name, reason=exc.reason, error=str(exc)[:300])
                continue
            hits = searcher.search(query, len(articles)).hits
            if hits:
                found[saved.name] = [articles[address.doc].id if in_order else searcher.doc(address)["id"][0]
                                     for _, address in hits]
        return found
