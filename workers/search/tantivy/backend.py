"""The embedded search backend: a Tantivy index on disk under the data directory.

Exactly one process opens the writer (the index queue's single consumer);
Tantivy's own lock file refuses a second one, which we report as a
retryable ``index.locked``. Readers may open the index anywhere, at any time,
and see every committed batch after :meth:`reload`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy

from workers.core.errors import IndexingError, RetryableIndexingError
from workers.core.models import Article
from workers.search.geofilter import cell_terms
from workers.search.languages import GROUPS, group_of
from workers.search.model import (
    ENTITY_FACETS,
    FACETS,
    DateBucket,
    FacetCount,
    Hit,
    SearchQuery,
    SearchResult,
    Sort,
    alias_field,
    bucket_start,
    found_field,
)
from workers.search.snippets import char_offset, excerpt, lead
from workers.search.tantivy.analysis import all_analyzers, register_analyzers
from workers.search.tantivy.query import QueryCompiler
from workers.search.tantivy.schema import (
    ALIASES_FIELD,
    SCHEMA_VERSION,
    build_schema,
    facet_term,
    field_name,
    group_marker,
)

__all__ = ["VERSION_FILE", "TantivyBackend", "article_document", "entity_lookup_terms", "present_groups"]

_WRITER_HEAP_BYTES = 64 * 2**20
_SNIPPET_CHARS = 240
VERSION_FILE = "newsworkers-schema-version"
_HISTOGRAM_AGG = "published_at_histogram"
_IO_MARKERS = ("os error", "IoError", "No space", "Io(", "LockBusy", "Permission denied")


class TantivyBackend:
    def __init__(self, path: Path, *, writer: bool = False) -> None:
        self.path = path
        self.schema = build_schema()
        path.mkdir(parents=True, exist_ok=True)
        _check_schema_version(path)
        try:
            self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        except (OSError, ValueError) as exc:
            raise IndexingError(f"cannot open the Tantivy index at {path}: {exc}", reason="index.open") from exc
        (path / VERSION_FILE).write_text(str(SCHEMA_VERSION))
        analyzers = all_analyzers()
        register_analyzers(self.index, analyzers)
        self.compiler = QueryCompiler(self.schema, analyzers)
        self._writer: tantivy.IndexWriter | None = None
        if writer:
            try:
                self._writer = self.index.writer(_WRITER_HEAP_BYTES, 1)
            except ValueError as exc:
                raise RetryableIndexingError(
                    f"another process holds the index writer at {path}", reason="index.locked"
                ) from exc

    # -- writing ----------------------------------------------------------------------------------
    def ensure_index(self) -> None:
        """The index is created on open; nothing more to do."""

    def upsert(self, articles: Sequence[Article]) -> None:
        writer = self._require_writer()
        try:
            for article in articles:
                writer.delete_documents_by_term("id", article.id)
                writer.add_document(self._document(article))
            writer.commit()
        except (ValueError, OSError) as exc:
            writer.rollback()
            # tantivy-py raises ValueError for nearly everything; I/O trouble (a full disk) says "os error".
            if isinstance(exc, OSError) or any(m in str(exc) for m in _IO_MARKERS):
                raise RetryableIndexingError(f"Tantivy could not write: {exc}", reason="index.io") from exc
            raise IndexingError(f"Tantivy rejected a batch: {exc}", reason="index.rejected") from exc

    def delete(self, ids: Sequence[str]) -> None:
        writer = self._require_writer()
        for doc_id in ids:
            writer.delete_documents_by_term("id", doc_id)
        writer.commit()

    def delete_where(self, query: SearchQuery) -> int:
        ids = self.ids_where(query)
        if ids:
            self.delete(ids)
        return len(ids)

    def _require_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise IndexingError("this backend was opened read-only", reason="index.read_only")
        return self._writer

    def _document(self, article: Article) -> tantivy.Document:
        return article_document(article)

    # -- reading ------------------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResult:
        self.index.reload()
        searcher = self.index.searcher()
        scoring, filtered = self.compiler.compile(query, searcher, groups=present_groups(searcher))
        # Tantivy refuses a limit of 0; a count-only request asks for one hit and drops it.
        found = self._top(searcher, filtered, query, max(query.limit, 1), query.offset)
        page = self._collapsed(searcher, filtered, query) if query.collapse else found.hits[: query.limit]
        snippets = _Snippets(searcher, scoring, self.schema)
        hits = []
        for key, address in page:
            article = Article.model_validate_json(bytes(searcher.doc(address)["source"][0]))
            score = float(key) if query.sort is Sort.RELEVANCE else None
            hits.append(Hit.from_article(article, snippet=snippets.of(article), score=score))
        facets, histogram = self._aggregate(searcher, filtered, query)
        return SearchResult(total=found.count or 0, hits=hits, facets=facets, histogram=histogram)

    def _top(self, searcher: tantivy.Searcher, filtered: tantivy.Query, query: SearchQuery, limit: int,
             offset: int) -> tantivy.SearchResult:
        if query.sort is Sort.DATE:
            return searcher.search(filtered, limit, count=True, offset=offset,
                                   order_by_field="published_at", order=tantivy.Order.Desc)
        return searcher.search(filtered, limit, count=True, offset=offset)

    def _collapsed(self, searcher: tantivy.Searcher, filtered: tantivy.Query,
                   query: SearchQuery) -> list[tuple[Any, tantivy.DocAddress]]:
        """The page of ``query`` with one hit per cluster_id, like Elasticsearch's collapse: walks the ranked
        hits in growing chunks until enough clusters are seen. A cluster takes the place its best-ranked copy
        earned and is shown as its earliest matching copy: the story as first reported."""
        wanted = query.offset + query.limit
        firsts: dict[str, tuple[Any, tantivy.DocAddress]] = {}
        # Twice the page: most stories have no copy, so one step usually fills it; a dense run doubles the step.
        position, chunk = 0, max(2 * wanted, 40)
        while len(firsts) < wanted:
            found = self._top(searcher, filtered, query, chunk, position)
            for key, address in found.hits:
                cluster = searcher.doc(address)["cluster_id"][0]
                firsts.setdefault(cluster, (key, address))
            position += len(found.hits)
            if len(found.hits) < chunk or position >= (found.count or 0):
                break
            chunk *= 2
        return [self._earliest(searcher, filtered, cluster, first)
                for cluster, first in list(firsts.items())[query.offset : wanted]]

    def _earliest(self, searcher: tantivy.Searcher, filtered: tantivy.Query, cluster: str,
                  first: tuple[Any, tantivy.DocAddress]) -> tuple[Any, tantivy.DocAddress]:
        key, address = first
        doc = searcher.doc(address)
        if doc["id"][0] == cluster and not doc["duplicates"][0]:
            return first  # a story with no copies: nothing earlier to show
        members = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, filtered),
            (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "cluster_id", cluster)),
        ])
        found = searcher.search(members, 1, order_by_field="published_at", order=tantivy.Order.Asc)
        return (key, found.hits[0][1]) if found.hits else first

    def _aggregate(
        self, searcher: tantivy.Searcher, query: tantivy.Query, request: SearchQuery
    ) -> tuple[dict[str, list[FacetCount]], list[DateBucket] | None]:
        """Facet counts and the date histogram, in one pass over the matches (one aggregate request)."""
        spec: dict[str, Any] = {name: {"terms": {"field": name, "size": request.facet_size}} for name in request.facets}
        if request.histogram:
            # Tantivy has fixed intervals only: hours as they are, days folded into weeks and months below.
            spec[_HISTOGRAM_AGG] = {"date_histogram": {
                "field": "published_at", "fixed_interval": "1h" if request.histogram == "hour" else "1d",
                "min_doc_count": 1,
            }}
        if not spec:
            return {}, None
        result = searcher.aggregate(query, spec)
        facets = {
            name: [FacetCount(str(b["key"]), int(b["doc_count"])) for b in result.get(name, {}).get("buckets", [])]
            for name in request.facets
        }
        if not request.histogram:
            return facets, None
        counts: dict[datetime, int] = {}
        for b in result.get(_HISTOGRAM_AGG, {}).get("buckets", []):
            if b["doc_count"]:
                start = bucket_start(datetime.fromtimestamp(b["key"] / 1000, UTC), request.histogram)
                counts[start] = counts.get(start, 0) + int(b["doc_count"])
        return facets, [DateBucket(start, count) for start, count in sorted(counts.items())]

    def get(self, doc_id: str) -> Article | None:
        self.index.reload()
        searcher = self.index.searcher()
        found = searcher.search(tantivy.Query.term_query(self.schema, "id", doc_id), 1)
        if not found.hits:
            return None
        return Article.model_validate_json(bytes(searcher.doc(found.hits[0][1])["source"][0]))

    def existing(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        self.index.reload()
        searcher = self.index.searcher()
        terms = [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "id", doc_id)) for doc_id in set(ids)]
        found = searcher.search(tantivy.Query.boolean_query(terms), len(terms), count=False)
        return {searcher.doc(address)["id"][0] for _score, address in found.hits}

    def ids_where(self, query: SearchQuery) -> list[str]:
        self.index.reload()
        searcher = self.index.searcher()
        if not searcher.num_docs:
            return []
        _scoring, filtered = self.compiler.compile(query, searcher, groups=present_groups(searcher))
        # One request for all of them: an embedded index is one machine's, and ids are all we read.
        found = searcher.search(filtered, searcher.num_docs, count=False)
        return [searcher.doc(address)["id"][0] for _score, address in found.hits]

    def count(self) -> int:
        self.index.reload()
        return int(self.index.searcher().num_docs)

    def health(self) -> dict[str, Any]:
        self.index.reload()
        searcher = self.index.searcher()
        return {"backend": "tantivy", "path": str(self.path), "documents": searcher.num_docs,
                "segments": searcher.num_segments, "writer": self._writer is not None}

    def close(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None


def article_document(article: Article, *, source: bool = True) -> tantivy.Document:
    """The Tantivy document of one article; without ``source`` (the stored Article JSON) it is searchable
    alike, which is all the alert matcher's in-memory index needs."""
    group = group_of(article.language)
    doc = tantivy.Document(
        id=article.id,
        url=article.url,
        cluster_id=article.cluster_id or article.id,
        published_at=article.published_at.astimezone(UTC),
    )
    # The texts go into their language's analysis group only (see workers/search/languages.py).
    doc.add_text(field_name("title", group), article.title)
    doc.add_text(field_name("body", group), article.body)
    doc.add_text(field_name("summary", group), article.summary or "")
    doc.add_text(ALIASES_FIELD, " \n ".join(article.entity_aliases))
    doc.add_text("facet_terms", group_marker(group))
    if source:
        doc.add_bytes("source", article.model_dump_json().encode())
    doc.add_unsigned("duplicates", article.duplicates)
    doc.add_unsigned("pipeline_version", article.pipeline_version)
    if article.archive_path:
        doc.add_text("archive_path", article.archive_path)
    points = sorted({(place.lat, place.lon) for place in article.places})
    if points:
        doc.add_bytes("coordinates", json.dumps(points).encode())
        for term in sorted({t for lat, lon in points for t in cell_terms(lat, lon)}):
            doc.add_text("geo_cells", term)
    for facet in FACETS:
        value = getattr(article, facet)
        for v in value if isinstance(value, list) else [value]:
            if v:
                doc.add_text(facet, v)
                doc.add_text("facet_terms", facet_term(facet, v))
    for term in entity_lookup_terms(article):
        doc.add_text("facet_terms", term)
    return doc


def entity_lookup_terms(article: Article) -> list[str]:
    """facet_terms for a kind's merged-away spellings (``persons:X`` matches them) and for the names found
    before analysts' corrections (what an update in place looks the article up by)."""
    terms = [facet_term(alias_field(kind), v) for kind, values in article.aliases_by_kind.items()
             if kind in ENTITY_FACETS for v in values if v]
    if article.extracted_entities is not None:
        terms += [facet_term(found_field(kind), v) for kind, values in article.extracted_entities.names.items()
                  if kind in ENTITY_FACETS for v in values if v]
    return list(dict.fromkeys(terms))


def present_groups(searcher: tantivy.Searcher) -> list[str]:
    """The analysis groups with a document in this index (deleted ones not yet merged away count too); every
    group when documents carry no marker at all, rather than finding nothing."""
    found = [group for group in GROUPS if searcher.doc_freq("facet_terms", group_marker(group))]
    return found if found or not searcher.num_docs else list(GROUPS)


def _marked_version(path: Path) -> str | None:
    """The schema version of the index at ``path`` ("unknown" when unmarked), None when there is no index."""
    if not (path / "meta.json").exists():
        return None
    marker = path / VERSION_FILE
    return marker.read_text().strip() if marker.exists() else "unknown"


def _check_schema_version(path: Path) -> None:
    """Refuse, with the fix named, an index another schema version wrote (Tantivy would only say 'mismatch')."""
    found = _marked_version(path)
    if found is not None and found != str(SCHEMA_VERSION):
        raise IndexingError(
            f"the index at {path} has schema version {found}, this newsworkers writes version {SCHEMA_VERSION}: "
            "stop the workers and run `newsworkers index migrate` (it rebuilds the index from its stored articles and "
            "keeps the old directory), or move that directory aside (or pass another --data-dir) and ingest again",
            reason="index.schema_version",
        )


class _Snippets:
    """Body snippets of one search: one generator per analysis group met, since each group's terms live in its
    own field; a CJK match of single characters is marked as one run."""

    def __init__(self, searcher: tantivy.Searcher, query: tantivy.Query, schema: tantivy.Schema) -> None:
        self._searcher, self._query, self._schema = searcher, query, schema
        self._generators: dict[str, tantivy.SnippetGenerator] = {}

    def of(self, article: Article) -> str:
        name = field_name("body", group_of(article.language))
        generator = self._generators.get(name)
        if generator is None:
            generator = tantivy.SnippetGenerator.create(self._searcher, self._query, self._schema, name)
            generator.set_max_num_chars(_SNIPPET_CHARS)
            self._generators[name] = generator
        snippet = generator.snippet_from_doc(tantivy.Document(**{name: article.body}))
        if not snippet.highlighted():
            return lead(article.body, _SNIPPET_CHARS)
        fragment = snippet.fragment()
        marks: list[tuple[int, int]] = []
        for r in snippet.highlighted():
            start, end = char_offset(fragment, r.start), char_offset(fragment, r.end)
            if marks and marks[-1][1] == start:  # a CJK match of single characters is one run
                marks[-1] = (marks[-1][0], end)
            else:
                marks.append((start, end))
        return excerpt(article.body, fragment, marks, at=char_offset(article.body, snippet.fragment_range().start))
