"""Every Elasticsearch request body newsworkers sends, built by plain functions.

Nothing here talks to a cluster: the backend (:mod:`workers.search.elasticsearch.backend`)
and the index lifecycle (:mod:`workers.search.elasticsearch.index`) send what these
functions return, and the tests compare them with exact bodies and validate
them against Elasticsearch's published API specification. Queries use the
long forms (``{"term": {"f": {"value": v}}}``) because those are what the
specification models; Elasticsearch accepts both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from workers.core.dates import iso_utc
from workers.core.errors import ConfigError, QuerySyntaxError
from workers.core.models import Article
from workers.search.elasticsearch import analysis
from workers.search.geofilter import BBox, Near
from workers.search.languages import GROUPS
from workers.search.model import (
    ENTITY_FACETS,
    FACETS,
    HISTOGRAM_INTERVALS,
    SearchQuery,
    Sort,
    alias_field,
    facet_value,
    found_field,
)
from workers.search.query_syntax import And, MatchAll, Node, Not, Or, Phrase, Term, parse_query

__all__ = [
    "COORDINATES", "EARLIEST_COPY", "HISTOGRAM_AGG", "MAX_RESULT_WINDOW", "SNIPPET_CHARS", "TEXT_FIELDS", "TITLE_BOOST",
    "aggregations", "alias_swap_body", "bulk_delete_lines", "bulk_index_lines", "compile_node", "create_index_body",
    "date_histogram", "delete_by_query_body", "document", "filter_clauses", "geo_bounding_box", "geo_distance",
    "highlight", "index_template_body", "load_template", "query_clause", "reindex_body", "schema_version",
    "search_body", "sort_clause", "template_name", "text_query", "versioned_index",
]  # fmt: skip

MAX_RESULT_WINDOW = 10_000
EARLIEST_COPY = "earliest"
"""Name of the collapse's inner hits: a cluster's earliest copy that matches."""
"""Elasticsearch's default index.max_result_window: from + size beyond it needs search_after."""
SNIPPET_CHARS = 240
TEXT_FIELDS = ("title", "body", "summary", "entity_aliases")
"""What a query without a field searches: the grouped title, body and summary of every language, and the aliases."""
TITLE_BOOST = 2.0
TEMPLATE_FILE = "index-template.json"
COORDINATES = "coordinates"
"""The geo_point field (every place's point) that is not an Article field: filled in by :func:`document`."""
HISTOGRAM_AGG = "published_at_histogram"
"""The date histogram's aggregation name (facet names are field names, so they never collide with it)."""


# -- the index: template, versions, alias ----------------------------------------------------------------


def _config_dirs() -> list[Path]:
    # The source checkout (and the Docker image, which copies config/ beside workers/), then the working directory.
    return [Path(__file__).resolve().parents[2] / "config" / "elasticsearch", Path("config") / "elasticsearch"]


@cache
def load_template(path: Path | None = None, file: str = TEMPLATE_FILE) -> dict[str, Any]:
    """The index template of ``config/elasticsearch/index-template.json`` (without index_patterns), or of
    another ``file`` there (the saved searches' template). Cached: callers copy before they change it."""
    candidates = [path] if path else [d / file for d in _config_dirs()]
    for candidate in candidates:
        if candidate.is_file():
            template = json.loads(candidate.read_text())
            # The articles template gets its analyzers and per-language fields from code (analysis.py).
            return analysis.with_language_analysis(template) if file == TEMPLATE_FILE else template
    raise ConfigError(f"no Elasticsearch index template at {', '.join(map(str, candidates))}; "
                      "run from the newsworkers checkout or its Docker image, which ship config/elasticsearch/")


def template_name(alias: str) -> str:
    return f"{alias}-template"


def schema_version(mappings: dict[str, Any]) -> int | None:
    """The mapping version our template stamps in ``_meta`` (values there must be objects, says the spec)."""
    version = mappings.get("_meta", {}).get("newsworkers", {}).get("schema_version")
    return int(version) if version is not None else None


def versioned_index(alias: str, version: int) -> str:
    return f"{alias}-v{version}"


def index_template_body(template: dict[str, Any], alias: str) -> dict[str, Any]:
    """PUT /_index_template/<alias>-template: the file's template for the indices <alias>-v*."""
    return {"index_patterns": [f"{alias}-v*"], **template}


def create_index_body(alias: str | None) -> dict[str, Any]:
    """PUT /<alias>-vN: settings and mappings come from the template; the first version also takes the alias."""
    return {"aliases": {alias: {"is_write_index": True}}} if alias else {}


def alias_swap_body(alias: str, old: str | None, new: str) -> dict[str, Any]:
    """POST /_aliases: move the alias from ``old`` to ``new`` in one atomic step."""
    actions: list[dict[str, Any]] = []
    if old:
        actions.append({"remove": {"index": old, "alias": alias}})
    actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
    return {"actions": actions}


def reindex_body(source: str, dest: str, *, indexed_since: datetime | None = None) -> dict[str, Any]:
    """POST /_reindex from ``source`` into ``dest``; with ``indexed_since``, only the documents
    written since then, and only those ``dest`` does not have yet (the catch-up after an alias swap)."""
    # The script writes the per-language fields, so documents indexed before them are searchable after a migrate.
    body: dict[str, Any] = {"source": {"index": source}, "dest": {"index": dest}, "script": analysis.regroup_script()}
    if indexed_since is not None:
        body["source"]["query"] = {"range": {"indexed_at": {"gte": iso_utc(indexed_since)}}}
        body["dest"]["op_type"] = "create"
        body["conflicts"] = "proceed"
    return body


# -- documents and bulk lines ----------------------------------------------------------------------------------


def document(article: Article) -> dict[str, Any]:
    """The stored document: the Article, ``@timestamp`` for Kibana, and a cluster id always filled."""
    doc = article.model_dump(mode="json")
    doc["@timestamp"] = doc["published_at"]
    doc["cluster_id"] = article.cluster_id or article.id  # None means "its own cluster"; collapse needs a value
    # Every place's point in one geo_point field, which distance and box filters and Kibana's map read.
    doc[COORDINATES] = [{"lat": lat, "lon": lon} for lat, lon in sorted({(p.lat, p.lon) for p in article.places})]
    doc.update(analysis.grouped_fields(article))  # the texts, analysed as their language (only these are indexed)
    return doc


def bulk_index_lines(alias: str, articles: Iterable[Article]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(action, source) pairs; ``index`` (not ``create``) so a document with a known id is replaced."""
    return [({"index": {"_index": alias, "_id": a.id}}, document(a)) for a in articles]


def bulk_delete_lines(alias: str, ids: Iterable[str]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    return [({"delete": {"_index": alias, "_id": doc_id}}, None) for doc_id in ids]


# -- queries ------------------------------------------------------------------------------------------------------


def compile_node(node: Node) -> dict[str, Any]:
    """The query-syntax AST as an Elasticsearch query, matching what the Tantivy compiler matches."""
    match node:
        case MatchAll():
            return {"match_all": {}}
        case Term(text=text, field=field) | Phrase(text=text, field=field):
            return _leaf(text, field)
        case And(children=children):
            must = [compile_node(c) for c in children if not isinstance(c, Not)]
            must_not = [compile_node(c.child) for c in children if isinstance(c, Not)]
            bool_query: dict[str, Any] = {"must": must or [{"match_all": {}}]}
            if must_not:
                bool_query["must_not"] = must_not
            return {"bool": bool_query}
        case Or(children=children):
            return {"bool": {"should": [compile_node(c) for c in children], "minimum_should_match": 1}}
        case Not(child=child):
            return {"bool": {"must": [{"match_all": {}}], "must_not": [compile_node(child)]}}
    raise QuerySyntaxError(f"cannot compile query node {node!r}")


def _leaf(text: str, field: str | None) -> dict[str, Any]:
    if field in ENTITY_FACETS:
        # A name or any spelling merged into one, as in Tantivy: persons:Soleimani finds "Qassem Suleimani".
        return {"bool": {"should": [_facet_term(field, text), _facet_term(alias_field(field), text)],
                         "minimum_should_match": 1}}
    if field in FACETS:
        return _facet_term(field, text)
    if field == "url":
        return {"term": {"url": {"value": text}}}
    # A phrase of one word is a term query, of several (COVID-19 → covid 19) a phrase, as in Tantivy; a word that
    # analyses to nothing matches nothing (zero_terms_query defaults to none). Each grouped field analyses the
    # text as its language; the per-field scores add up (tie_breaker 1), as Tantivy's should-clauses do.
    names = (field,) if field else TEXT_FIELDS
    fields = [name for text_field in names for name in _searched(text_field)]
    return {"multi_match": {"query": text, "type": "phrase", "fields": fields, "tie_breaker": 1.0}}


def _searched(field: str) -> list[str]:
    """The indexed fields behind a query field, boosted like Tantivy's (title ×2)."""
    if field == analysis.ALIASES_FIELD:
        return [field]
    boost = f"^{TITLE_BOOST:g}" if field == "title" else ""
    return [analysis.field_name(field, group) + boost for group in GROUPS]


def _facet_term(field: str, value: str) -> dict[str, Any]:
    # Facet values match whole and whatever the case, like Tantivy's facet_terms (spaces collapsed too).
    wanted = " ".join(facet_value(field, value).split())
    return {"term": {_LOOKUP_PATHS.get(field, field): {"value": wanted, "case_insensitive": True}}}


_LOOKUP_PATHS = {**{alias_field(k): f"aliases_by_kind.{k}" for k in ENTITY_FACETS},
                 **{found_field(k): f"extracted_entities.names.{k}" for k in ENTITY_FACETS}}
"""Where the entity lookups (see :data:`workers.search.model.ENTITY_LOOKUPS`) live in the stored Article."""


def text_query(text: str) -> dict[str, Any]:
    return compile_node(parse_query(text))


def filter_clauses(query: SearchQuery) -> list[dict[str, Any]]:
    """Facet filters (OR within a facet, AND across facets) and the date range, as filter context."""
    clauses: list[dict[str, Any]] = []
    for facet, values in query.filters.items():
        alternatives = [_facet_term(facet, v) for v in values if v.strip()]
        if alternatives:
            clauses.append({"bool": {"should": alternatives, "minimum_should_match": 1}})
    if query.cluster_id:
        clauses.append({"term": {"cluster_id": {"value": query.cluster_id}}})
    if query.near:
        clauses.append(geo_distance(query.near))
    if query.bbox:
        clauses.append(geo_bounding_box(query.bbox))
    if query.since or query.until:
        bounds = {}
        if query.since:
            bounds["gte"] = iso_utc(query.since)
        if query.until:
            bounds["lte"] = iso_utc(query.until)
        clauses.append({"range": {"published_at": bounds}})
    return clauses


def ids_body(ids: Sequence[str]) -> dict[str, Any]:
    """Which of ``ids`` exist: their ids only, no source, no scoring, no total."""
    unique = sorted(set(ids))
    return {"query": {"ids": {"values": unique}}, "size": len(unique), "_source": False,
            "track_total_hits": False}


def geo_distance(near: Near) -> dict[str, Any]:
    """Documents with a point within the distance (arc distance: the sphere geofilter's haversine uses)."""
    # Fixed-point, never an exponent ("1e-05km" is no distance Elasticsearch reads), to the millimetre.
    km = f"{near.km:.6f}".rstrip("0").rstrip(".")
    return {"geo_distance": {"distance": f"{km}km", "distance_type": "arc",
                             COORDINATES: {"lat": near.lat, "lon": near.lon}}}


def geo_bounding_box(box: BBox) -> dict[str, Any]:
    """Documents with a point in the box (a west east of east crosses the antimeridian, as in Elasticsearch)."""
    return {"geo_bounding_box": {COORDINATES: {"top_left": {"lat": box.north, "lon": box.west},
                                               "bottom_right": {"lat": box.south, "lon": box.east}}}}


def delete_by_query_body(query: SearchQuery) -> dict[str, Any]:
    """POST /<alias>/_delete_by_query: every document the search ``query`` finds (its text, facets and dates)."""
    return {"query": query_clause(query)}


def sort_clause(sort: Sort) -> list[dict[str, Any]]:
    # The id tiebreaker makes the order total, which search_after needs to page without gaps or repeats.
    first = {"published_at": {"order": "desc"}} if sort is Sort.DATE else {"_score": {"order": "desc"}}
    return [first, {"id": {"order": "asc"}}]


def aggregations(query: SearchQuery) -> dict[str, Any]:
    aggs: dict[str, Any] = {name: {"terms": {"field": name, "size": query.facet_size}} for name in query.facets}
    if query.histogram:
        aggs[HISTOGRAM_AGG] = date_histogram(query.histogram)
    return aggs


def date_histogram(interval: str) -> dict[str, Any]:
    """Matches per calendar interval of published_at in UTC (weeks from Monday, months from the 1st, as
    :func:`~workers.search.model.bucket_start` and Tantivy have them); empty buckets are left out, as in Tantivy."""
    if interval not in HISTOGRAM_INTERVALS:
        raise QuerySyntaxError(f"histogram interval {interval!r} is not one of: {', '.join(HISTOGRAM_INTERVALS)}")
    return {"date_histogram": {"field": "published_at", "calendar_interval": interval, "time_zone": "UTC",
                               "min_doc_count": 1}}


def highlight(query_body: dict[str, Any]) -> dict[str, Any]:
    """One body fragment with the matched words in <b>; the escaped start of the body when nothing matched."""
    return {
        "pre_tags": ["<b>"], "post_tags": ["</b>"], "encoder": "html",
        # The body is indexed in its language's field only: the one with text gives the fragment. The list form,
        # since the spec allows one field per object.
        "fields": [{analysis.field_name("body", group): {
            "number_of_fragments": 1, "fragment_size": SNIPPET_CHARS, "no_match_size": SNIPPET_CHARS,
        }} for group in GROUPS],
        # Filters never highlight: only the words of the query do.
        "highlight_query": query_body,
    }


def query_clause(query: SearchQuery) -> dict[str, Any]:
    """The query part of a search: the text as scored query, facets and dates as filters. A saved search's
    percolator query is this same clause, so an alert matches exactly what the search finds."""
    text = text_query(query.text)
    filters = filter_clauses(query)
    return {"bool": {"must": [text], "filter": filters}} if filters else text


def search_body(query: SearchQuery, *, size: int, offset: int = 0, search_after: Sequence[Any] | None = None,
                walk: bool = False) -> dict[str, Any]:
    """POST /<alias>/_search for one page. ``walk`` builds the lean request that only steps over hits
    (deep pagination): no source, no facets, no snippets."""
    text = text_query(query.text)
    body: dict[str, Any] = {
        "query": query_clause(query),
        "size": size,
        "sort": sort_clause(query.sort),
        "track_total_hits": True,
    }
    if search_after is not None:
        body["search_after"] = list(search_after)
    elif offset:
        body["from"] = offset
    if query.collapse:
        body["collapse"] = {"field": "cluster_id"}
    if walk:
        body["_source"] = False
        body["track_total_hits"] = False
        return body
    if query.facets or query.histogram:
        body["aggs"] = aggregations(query)
    if size:
        body["highlight"] = highlight(text)
        if query.collapse:
            # Each cluster keeps the place its best copy earns and is shown by its earliest matching copy.
            body["collapse"]["inner_hits"] = {"name": EARLIEST_COPY, "size": 1, "sort": [
                {"published_at": {"order": "asc"}}, {"id": {"order": "asc"}}], "highlight": highlight(text)}
    return body
