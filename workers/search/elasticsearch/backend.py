"""The Elasticsearch backend: the same interface and results as the Tantivy one, for many machines.

Any number of processes may write at once (bulk upserts by id are
idempotent). Request bodies come from :mod:`workers.search.elasticsearch.requests`; the
client's exceptions become ours in :mod:`workers.search.elasticsearch.errors`. Targets
Elasticsearch 8.x and 9.x servers with the 8.x client (REST compatibility
headers carry it to 9.x).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from elasticsearch import Elasticsearch

from workers.core.errors import IndexingError, QuerySyntaxError
from workers.core.models import Article
from workers.search.elasticsearch import requests as rq
from workers.search.elasticsearch.bulk import BulkPolicy, Line, send_bulk
from workers.search.elasticsearch.errors import es_errors, or_missing
from workers.search.elasticsearch.index import alias_target, ensure_index
from workers.search.model import DateBucket, FacetCount, Hit, SearchQuery, SearchResult, Sort
from workers.search.snippets import excerpt_html
from workers.settings import Settings

__all__ = ["ElasticsearchBackend", "make_client"]


def make_client(settings: Settings) -> Elasticsearch:
    """A client for ELASTICSEARCH_URL (a comma-separated list of nodes) with the credentials settings."""
    if not settings.elasticsearch_url:
        raise IndexingError("ELASTICSEARCH_URL is not set", reason="index.config")
    hosts = [url.strip() for url in settings.elasticsearch_url.split(",") if url.strip()]
    options: dict[str, Any] = {"request_timeout": settings.elasticsearch_request_timeout_s,
                               "retry_on_timeout": True, "max_retries": 2}
    if settings.elasticsearch_api_key:
        options["api_key"] = settings.elasticsearch_api_key
    elif settings.elasticsearch_username:
        options["basic_auth"] = (settings.elasticsearch_username, settings.elasticsearch_password or "")
    if settings.elasticsearch_ca_cert:
        options["ca_certs"] = str(settings.elasticsearch_ca_cert)
    return Elasticsearch(hosts, **options)


class ElasticsearchBackend:
    def __init__(self, settings: Settings, *, writer: bool = False) -> None:
        self.alias = settings.elasticsearch_index
        self.client = make_client(settings)
        self.writer = writer
        self.policy = BulkPolicy(
            max_docs=settings.index_batch_size, max_bytes=settings.elasticsearch_bulk_max_bytes,
            retries=settings.elasticsearch_bulk_retries, backoff_s=settings.elasticsearch_backoff_s,
        )
        self._ensured = False

    # -- writing ---------------------------------------------------------------------------------------
    def ensure_index(self) -> None:
        """Install the template and create ``<alias>-v1`` behind the alias when there is none yet."""
        ensure_index(self.client, self.alias)
        self._ensured = True

    def upsert(self, articles: Sequence[Article]) -> None:
        if not self._ensured:
            self.ensure_index()
        self._write(rq.bulk_index_lines(self.alias, articles))

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._write(rq.bulk_delete_lines(self.alias, ids))

    def delete_where(self, query: SearchQuery) -> int:
        body = rq.delete_by_query_body(query)
        # conflicts=proceed: a document rewritten meanwhile (a cluster refresh) is still deleted on a later run,
        # not a reason to stop half-way; refresh: gone from searches once this returns, like delete().
        found = or_missing(lambda: self.client.delete_by_query(index=self.alias, query=body["query"], refresh=True,
                                                               conflicts="proceed").body, where="delete_by_query")
        return 0 if found is None else int(found.get("deleted", 0))

    def _write(self, lines: list[Line]) -> None:
        # Visible to searches once this returns, as the interface promises: one request waits for the next
        # refresh (no forced refresh); several are followed by one refresh rather than each waiting for one.
        if len(lines) <= self.policy.max_docs:
            send_bulk(partial(self._bulk, refresh="wait_for"), lines, self.policy)
            return
        send_bulk(partial(self._bulk, refresh=False), lines, self.policy)
        with es_errors("refresh"):
            self.client.indices.refresh(index=self.alias)

    def _bulk(self, operations: list[dict[str, Any]], *, refresh: str | bool) -> dict[str, Any]:
        return dict(self.client.bulk(operations=operations, refresh=refresh).body)

    # -- reading ------------------------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResult:
        # A query that does not compile is the caller's mistake, not an index failure: it stays a QuerySyntaxError.
        response = or_missing(partial(self._page, query), where="search", keep=QuerySyntaxError)
        if response is None:  # no index behind the alias yet: what an empty index answers
            return SearchResult(total=0, hits=[], facets={name: [] for name in query.facets},
                                histogram=[] if query.histogram else None)
        hits = [_hit(h, query) for h in response["hits"]["hits"]]
        total = response["hits"]["total"]["value"] if response["hits"].get("total") else len(hits)
        aggs = response.get("aggregations", {})
        facets = {name: [FacetCount(str(b["key"]), int(b["doc_count"])) for b in aggs.get(name, {}).get("buckets", [])]
                  for name in query.facets}
        histogram = None
        if query.histogram:
            buckets = aggs.get(rq.HISTOGRAM_AGG, {}).get("buckets", [])
            histogram = [DateBucket(datetime.fromtimestamp(b["key"] / 1000, UTC), int(b["doc_count"]))
                         for b in buckets if b["doc_count"]]
        return SearchResult(total=int(total), hits=hits, facets=facets, histogram=histogram)

    def _page(self, query: SearchQuery) -> dict[str, Any]:
        if query.offset + query.limit <= rq.MAX_RESULT_WINDOW:
            return self._search(rq.search_body(query, size=query.limit, offset=query.offset))
        if query.collapse:
            raise QuerySyntaxError(f"collapsed results page only through the first {rq.MAX_RESULT_WINDOW:,} hits")
        # Past the result window: step over `offset` hits with search_after (sorted by a total order), then
        # fetch the page itself after the last one stepped over.
        after: list[Any] | None = None
        skipped = 0
        while skipped < query.offset:
            step = min(rq.MAX_RESULT_WINDOW, query.offset - skipped)
            found = self._search(rq.search_body(query, size=step, search_after=after, walk=True))["hits"]["hits"]
            if not found:
                break
            after = found[-1]["sort"]
            skipped += len(found)
            if len(found) < step:
                break
        if skipped < query.offset:
            # Fewer hits than the offset: an empty page, with the true total and facets.
            response = self._search(rq.search_body(query, size=0))
            response["hits"]["hits"] = []
            return response
        return self._search(rq.search_body(query, size=query.limit, search_after=after))

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.client.search(index=self.alias, body=body).body)

    def ids_where(self, query: SearchQuery) -> list[str]:
        # Date order with the id tiebreaker is total, so search_after walks every hit once, past any window.
        walk = SearchQuery(text=query.text, filters=query.filters, since=query.since, until=query.until,
                           sort=Sort.DATE)
        ids: list[str] = []
        after: list[Any] | None = None
        while True:
            body = rq.search_body(walk, size=rq.MAX_RESULT_WINDOW, search_after=after, walk=True)
            found = or_missing(partial(self._search, body), where="search")
            hits = [] if found is None else found["hits"]["hits"]
            ids.extend(str(h["_id"]) for h in hits)
            if len(hits) < rq.MAX_RESULT_WINDOW:
                return ids
            after = hits[-1]["sort"]

    def get(self, doc_id: str) -> Article | None:
        found = or_missing(lambda: self.client.get(index=self.alias, id=doc_id).body, where="get")
        return None if found is None else _article(found["_source"])

    def existing(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        unique, out = sorted(set(ids)), set()
        for start in range(0, len(unique), rq.MAX_RESULT_WINDOW):
            # A search, not mget: the alias may cover several indices, which mget refuses.
            body = rq.ids_body(unique[start:start + rq.MAX_RESULT_WINDOW])
            found = or_missing(partial(self._search, body), where="search")
            if found is not None:
                out.update(str(h["_id"]) for h in found["hits"]["hits"])
        return out

    def count(self) -> int:
        found = or_missing(lambda: self.client.count(index=self.alias).body, where="count")
        return 0 if found is None else int(found["count"])

    def health(self) -> dict[str, Any]:
        with es_errors("health"):
            info = self.client.info().body
            cluster = self.client.cluster.health().body
        return {"backend": "elasticsearch", "alias": self.alias, "index": alias_target(self.client, self.alias),
                "documents": self.count(), "cluster": info.get("cluster_name"),
                "version": info.get("version", {}).get("number"), "status": cluster.get("status"),
                "writer": self.writer}

    def close(self) -> None:
        self.client.close()


def _article(source: dict[str, Any]) -> Article:
    article = Article.model_validate(source)  # @timestamp is ignored (extra="ignore")
    if article.cluster_id == article.id:
        article.cluster_id = None  # stored filled for collapse; None is what "its own cluster" means in the model
    return article


def _hit(raw: dict[str, Any], query: SearchQuery) -> Hit:
    earliest = raw.get("inner_hits", {}).get(rq.EARLIEST_COPY, {}).get("hits", {}).get("hits", [])
    shown = earliest[0] if earliest else raw  # a collapsed cluster shows its earliest matching copy
    # One body_<group> field has the text, so at most one highlights (see requests.highlight).
    fragments = next((f for f in shown.get("highlight", {}).values() if f), [])
    score = float(raw["_score"]) if query.sort is Sort.RELEVANCE and raw.get("_score") is not None else None
    article = _article(shown["_source"])
    snippet = excerpt_html(article.body, fragments[0]) if fragments else ""
    return Hit.from_article(article, snippet=snippet, score=score)
