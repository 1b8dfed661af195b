"""Saved searches as Elasticsearch percolator queries: the index template, the stored documents, the percolation.

A saved search is stored as a document whose ``query`` field (type ``percolator``) holds the very query a
search for it would send (:func:`workers.search.elasticsearch.requests.query_clause`); percolating an article finds
every saved search that the article matches, without searching the articles index again and again.

Elasticsearch parses a stored query against the percolator index's own mapping, and parses the percolated
article with it too. So that index must map every article field exactly as the articles index does (same
``en_news`` analyzer, same types): :func:`saved_searches_template` builds it from
``config/elasticsearch/saved-searches-template.json`` (what is particular to saved searches) plus the analysis
settings and article properties of ``index-template.json``, rather than keeping a second copy that could drift.
Every article field is mapped, not only the ones a query can name, because the mapping is strict and the
percolated document is a whole stored article (:func:`workers.search.elasticsearch.requests.document`).

Like :mod:`workers.search.elasticsearch.requests`, nothing here talks to a cluster:
:func:`workers.search.elasticsearch.index.ensure_saved_searches_index` creates the index behind its own alias.
Migrating it, storing and removing saved searches are left to the saved-searches feature (issue 8); the stored queries
must be re-indexed whenever the articles mapping changes, as Elasticsearch keeps them parsed.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from workers.core.dates import iso_utc
from workers.core.errors import ConfigError
from workers.search.elasticsearch import requests as rq
from workers.search.model import SearchQuery

__all__ = [
    "PERCOLATE_PAGE", "QUERY_FIELD", "SAVED_SEARCHES_FILE", "percolate_batch_body", "percolate_body",
    "saved_search_document", "saved_searches_alias", "saved_searches_template", "saved_searches_template_body",
    "saved_searches_template_name",
]  # fmt: skip

SAVED_SEARCHES_FILE = "saved-searches-template.json"
QUERY_FIELD = "query"
"""The percolator field holding each saved search's compiled query."""
PERCOLATE_PAGE = 500
"""Saved searches returned per percolate request; more are fetched with search_after on the saved-search id."""
_HIT_SOURCE = ["saved_search.id", "saved_search.name"]  # what an alert needs to fire; the query stays on the server


def saved_searches_alias(alias: str) -> str:
    """The alias of the saved searches that belong to the articles behind ``alias``.

    ``<alias>-saved-searches-v1`` does not match the articles template's ``<alias>-v*``, so the two
    templates never both apply to one index.
    """
    return f"{alias}-saved-searches"


def saved_searches_template_name(alias: str) -> str:
    return rq.template_name(saved_searches_alias(alias))


def saved_searches_template(articles: dict[str, Any] | None = None, own: dict[str, Any] | None = None
                            ) -> dict[str, Any]:
    """The saved-searches template: its own file, plus the articles template's analysis and properties."""
    articles = articles or rq.load_template()
    template = copy.deepcopy(own or rq.load_template(file=SAVED_SEARCHES_FILE))  # the loaded one is cached
    article_properties = articles["template"]["mappings"]["properties"]
    properties = template["template"]["mappings"]["properties"]
    clash = sorted(set(article_properties) & set(properties))
    if clash:
        # A saved-search field named like an article field would change what a stored query means.
        raise ConfigError(f"{SAVED_SEARCHES_FILE} maps {', '.join(clash)}, which are article fields; rename them")
    template["template"]["mappings"]["properties"] = {**copy.deepcopy(article_properties), **properties}
    template["template"]["settings"]["analysis"] = copy.deepcopy(articles["template"]["settings"]["analysis"])
    # Stored queries are parsed with the article mapping of the day: a new articles schema means re-storing them.
    articles_version = rq.schema_version(articles["template"]["mappings"])
    template["template"]["mappings"]["_meta"]["newsworkers"]["articles_schema_version"] = articles_version
    return template


def saved_searches_template_body(alias: str, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """PUT /_index_template/<alias>-saved-searches-template, for the indices <alias>-saved-searches-v*."""
    return rq.index_template_body(template or saved_searches_template(), saved_searches_alias(alias))


def saved_search_document(search_id: str, name: str, query: SearchQuery, *, created_at: datetime) -> dict[str, Any]:
    """PUT /<alias>-saved-searches/_doc/<search_id>: the compiled query, and what the user asked for.

    Only the text, filters and dates of ``query`` matter: sort, paging, facets and collapsing mean nothing
    to one article matched alone. The dates are kept as given (absolute), so the query never drifts with "now".
    """
    saved: dict[str, Any] = {
        "id": search_id,
        "name": name,
        "query_text": query.text,
        "filters": {facet: [v for v in values if v.strip()] for facet, values in query.filters.items()},
        "created_at": iso_utc(created_at),
    }
    if query.since:
        saved["since"] = iso_utc(query.since)
    if query.until:
        saved["until"] = iso_utc(query.until)
    return {QUERY_FIELD: rq.query_clause(query), "saved_search": saved}


def _percolate(percolate: dict[str, Any], size: int, search_after: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        # Filter context: alerts need which saved searches match, not how well, and scoring costs.
        "query": {"bool": {"filter": [{"percolate": {"field": QUERY_FIELD, **percolate}}]}},
        "size": size,
        "sort": [{"saved_search.id": {"order": "asc"}}],  # a total order, so search_after pages without gaps
        "_source": {"includes": list(_HIT_SOURCE)},  # the long form: the spec does not model the bare list
        "track_total_hits": False,
    }
    if search_after is not None:
        body["search_after"] = [search_after]
    return body


def percolate_body(article_document: dict[str, Any], *, size: int = PERCOLATE_PAGE,
                   search_after: str | None = None) -> dict[str, Any]:
    """POST /<alias>-saved-searches/_search: the saved searches one article (:func:`rq.document`) matches.

    ``search_after`` is the last saved-search id of the previous page, when a page came back full.
    """
    return _percolate({"document": article_document}, size, search_after)


def percolate_batch_body(article_documents: Sequence[dict[str, Any]], *, size: int = PERCOLATE_PAGE,
                         search_after: str | None = None) -> dict[str, Any]:
    """The saved searches matching any of several articles, in one request: each hit's
    ``fields._percolator_document_slot`` lists the positions in ``article_documents`` it matched."""
    if not article_documents:
        raise ValueError("percolate_batch_body needs at least one document")  # an empty percolate is an ES error
    return _percolate({"documents": list(article_documents)}, size, search_after)
