"""Elasticsearch request bodies: exact bodies, and every body checked against Elasticsearch's own API spec."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.es_spec import component_errors, schema_errors
from workers.core.errors import QuerySyntaxError
from workers.core.ids import document_id
from workers.core.models import Article, DateSource, Place
from workers.search.elasticsearch import analysis
from workers.search.elasticsearch import requests as rq
from workers.search.geofilter import BBox, Near
from workers.search.languages import GROUPS
from workers.search.model import FACETS, HISTOGRAM_INTERVALS, SearchQuery, Sort

ALIAS = "newsworkers-articles"
TEXT = ["title", "body", "summary", "entity_aliases"]
GROUPED = ["title", "body", "summary"]
SNIPPET = {"number_of_fragments": 1, "fragment_size": 240, "no_match_size": 240}
HIGHLIGHT_FIELDS = [{f"body_{group}": SNIPPET} for group in GROUPS]


def phrase(text: str, field: str | None = None) -> dict[str, Any]:
    """What a word or phrase on the default fields (or on one field) compiles to: every language's field."""
    fields: list[str] = []
    for name in [field] if field else TEXT:
        if name == "entity_aliases":
            fields.append(name)
        else:
            fields.extend(f"{name}_{group}{'^2' if name == 'title' else ''}" for group in GROUPS)
    return {"multi_match": {"query": text, "type": "phrase", "fields": fields, "tie_breaker": 1.0}}


def facet(field: str, value: str) -> dict[str, Any]:
    return {"term": {field: {"value": value, "case_insensitive": True}}}


def sample_article(**extra: Any) -> Article:
    url = "https://example.com/news/1"
    fields: dict[str, Any] = {
        "id": document_id(url), "id_version": 1, "url": url, "domain": "example.com", "title": "Rocket attack",
        "body": "Militants fired rockets.", "published_at": datetime(2024, 1, 10, 12, tzinfo=UTC),
        "date_source": DateSource.PAGE, "fetched_at": datetime(2024, 1, 10, 13, tzinfo=UTC), "language": "en",
        "locations": ["Baghdad"],
    }
    fields.update(extra)
    return Article(**fields)


def entity(kind: str, value: str) -> dict[str, Any]:
    return {"bool": {"should": [facet(kind, value), facet(f"aliases_by_kind.{kind}", value)],
                     "minimum_should_match": 1}}


# -- exact bodies ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("", {"match_all": {}}),
    ("rocket", phrase("rocket")),
    ('"drone strike"', phrase("drone strike")),
    ("title:gaza", phrase("gaza", "title")),
    ("body:gaza", phrase("gaza", "body")),
    # An entity kind's field query matches its names and the spellings merged into them.
    ("locations:BAGHDAD", entity("locations", "BAGHDAD")),
    ('persons:"Qassem  Soleimani"', entity("persons", "Qassem Soleimani")),
    ("domain:BBC.co.uk", facet("domain", "BBC.co.uk")),
    ("url:https://x.org/a", {"term": {"url": {"value": "https://x.org/a"}}}),
    ("a OR b", {"bool": {"should": [phrase("a"), phrase("b")], "minimum_should_match": 1}}),
    ("a -b", {"bool": {"must": [phrase("a")], "must_not": [phrase("b")]}}),
    ("-b", {"bool": {"must": [{"match_all": {}}], "must_not": [phrase("b")]}}),
    ("a (b OR c)", {"bool": {"must": [phrase("a"), {"bool": {"should": [phrase("b"), phrase("c")],
                                                             "minimum_should_match": 1}}]}}),
])
def test_query_syntax_compiles_to_exact_queries(text: str, expected: dict[str, Any]) -> None:
    assert rq.text_query(text) == expected


def test_search_body_with_everything() -> None:
    query = SearchQuery(text="rocket", filters={"locations": ["Baghdad", " Cairo "], "language": ["en"]},
                        since=datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2))),
                        until=datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC), sort=Sort.DATE, limit=5, offset=10,
                        facets=["locations", "domain"], facet_size=3, collapse=True)
    assert rq.search_body(query, size=5, offset=10) == {
        "query": {"bool": {"must": [phrase("rocket")], "filter": [
            {"bool": {"should": [facet("locations", "Baghdad"), facet("locations", "Cairo")],
                      "minimum_should_match": 1}},
            {"bool": {"should": [facet("language", "en")], "minimum_should_match": 1}},
            {"range": {"published_at": {"gte": "2023-12-31T22:00:00Z", "lte": "2024-01-31T23:59:59Z"}}},
        ]}},
        "size": 5,
        "from": 10,
        "sort": [{"published_at": {"order": "desc"}}, {"id": {"order": "asc"}}],
        "track_total_hits": True,
        "collapse": {"field": "cluster_id", "inner_hits": {
            "name": "earliest", "size": 1, "sort": [{"published_at": {"order": "asc"}}, {"id": {"order": "asc"}}],
            "highlight": {
                "pre_tags": ["<b>"], "post_tags": ["</b>"], "encoder": "html",
                "fields": HIGHLIGHT_FIELDS,
                "highlight_query": phrase("rocket"),
            }}},
        "aggs": {"locations": {"terms": {"field": "locations", "size": 3}},
                 "domain": {"terms": {"field": "domain", "size": 3}}},
        "highlight": {
            "pre_tags": ["<b>"], "post_tags": ["</b>"], "encoder": "html",
            "fields": HIGHLIGHT_FIELDS,
            "highlight_query": phrase("rocket"),
        },
    }


def test_search_body_pages_with_search_after_and_walks_lean() -> None:
    query = SearchQuery(text="", limit=10)
    assert query.sort is Sort.DATE
    walk = rq.search_body(query, size=10_000, search_after=["2024-01-01T00:00:00Z", "abc"], walk=True)
    assert walk == {"query": {"match_all": {}}, "size": 10_000,
                    "sort": [{"published_at": {"order": "desc"}}, {"id": {"order": "asc"}}],
                    "track_total_hits": False, "search_after": ["2024-01-01T00:00:00Z", "abc"], "_source": False}
    relevance = rq.search_body(SearchQuery(text="x"), size=0)
    assert relevance["sort"] == [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
    assert "highlight" not in relevance and "from" not in relevance  # a count-only request needs no snippets


def test_documents_and_bulk_lines() -> None:
    article = sample_article()
    doc = rq.document(article)
    assert doc["@timestamp"] == doc["published_at"] == "2024-01-10T12:00:00Z"
    assert doc["cluster_id"] == article.id  # None in the model means its own cluster; collapse needs a value
    assert rq.document(sample_article(cluster_id="c1"))["cluster_id"] == "c1"
    assert rq.bulk_index_lines(ALIAS, [article]) == [({"index": {"_index": ALIAS, "_id": article.id}}, doc)]
    assert rq.bulk_delete_lines(ALIAS, ["a", "b"]) == [({"delete": {"_index": ALIAS, "_id": "a"}}, None),
                                                      ({"delete": {"_index": ALIAS, "_id": "b"}}, None)]


def test_index_lifecycle_bodies() -> None:
    assert rq.versioned_index(ALIAS, 3) == "newsworkers-articles-v3"
    assert rq.create_index_body(ALIAS) == {"aliases": {ALIAS: {"is_write_index": True}}}
    assert rq.create_index_body(None) == {}
    assert rq.alias_swap_body(ALIAS, "a-v1", "a-v2") == {"actions": [
        {"remove": {"index": "a-v1", "alias": ALIAS}},
        {"add": {"index": "a-v2", "alias": ALIAS, "is_write_index": True}},
    ]}
    script = analysis.regroup_script()
    assert rq.reindex_body("a-v1", "a-v2") == {"source": {"index": "a-v1"}, "dest": {"index": "a-v2"},
                                               "script": script}
    assert rq.reindex_body("a-v1", "a-v2", indexed_since=datetime(2024, 5, 1, tzinfo=UTC)) == {
        "source": {"index": "a-v1", "query": {"range": {"indexed_at": {"gte": "2024-05-01T00:00:00Z"}}}},
        "dest": {"index": "a-v2", "op_type": "create"}, "conflicts": "proceed", "script": script,
    }
    body = rq.index_template_body(rq.load_template(), ALIAS)
    assert body["index_patterns"] == ["newsworkers-articles-v*"]
    # 3: countries, places, coordinates; 4: aliases_by_kind, extracted_entities; 5: per-language analysis
    assert rq.schema_version(body["template"]["mappings"]) == 5


# -- the template is what the issue asks for ------------------------------------------------------------------------


def test_template_maps_every_article_field_strictly() -> None:
    mappings = rq.load_template()["template"]["mappings"]
    properties = mappings["properties"]
    assert mappings["dynamic"] == "strict"
    grouped = {f"{name}_{group}" for name in GROUPED for group in GROUPS}
    assert set(Article.model_fields) | {"@timestamp", rq.COORDINATES} | grouped == set(properties)
    assert properties["@timestamp"]["type"] == "date"
    assert properties[rq.COORDINATES] == {"type": "geo_point"}
    assert set(properties["places"]["properties"]) == set(Place.model_fields)
    for name in FACETS:
        assert properties[name]["type"] == "keyword", name
    for name in GROUPED:  # the Article's own texts are kept, not indexed: their grouped copies are
        assert properties[name] == {**properties[name], "type": "text", "index": False}
        for group in GROUPS:
            assert properties[f"{name}_{group}"] == {"type": "text", "analyzer": f"news_{group}"}
    assert properties["entity_aliases"] == {"type": "text", "analyzer": "news_en"}
    assert properties["cluster_id"]["type"] == "keyword"


def test_template_analyzers_mirror_the_tantivy_ones() -> None:
    settings = rq.load_template()["template"]["settings"]["analysis"]
    analyzers, filters = settings["analyzer"], settings["filter"]
    assert set(analyzers) == {f"news_{group}" for group in GROUPS}
    assert analyzers["news_en"] == {"type": "custom", "tokenizer": "news_words",
                                    "filter": ["news_length", "lowercase", "asciifolding", "news_stem_en"]}
    assert filters["news_stem_en"] == {"type": "snowball", "language": "English"}
    assert filters["news_stem_de"] == {"type": "snowball", "language": "German"}
    assert filters["news_stem_ar"] == {"type": "snowball", "language": "Arabic"}
    assert filters["news_length"]["max"] == 39  # Tantivy's remove_long(40) keeps tokens under 40
    assert settings["tokenizer"]["news_words"]["pattern"] == "[^\\p{L}\\p{M}\\p{N}]+"
    assert analyzers["news_folded"]["filter"] == ["news_length", "lowercase", "asciifolding"]
    assert analyzers["news_cjk"] == {"type": "cjk", "stopwords": "_none_"}
    # Elasticsearch has no Snowball Greek (Lucene's Greek stemmer instead) and no Tamil stemmer at all.
    assert analyzers["news_el"]["filter"] == ["news_length", "news_lowercase_el", "asciifolding", "news_stem_el"]
    assert analyzers["news_ta"]["filter"] == ["news_length", "lowercase", "asciifolding"]


def test_documents_carry_their_texts_in_their_language_group() -> None:
    doc = rq.document(sample_article(language="de-AT", summary="Kurz."))
    assert (doc["title_de"], doc["body_de"], doc["summary_de"]) == (doc["title"], doc["body"], "Kurz.")
    assert not {key for key in doc if key.endswith("_en")}
    assert {"title_cjk", "body_cjk"} <= set(rq.document(sample_article(language="ja")))
    unknown = rq.document(sample_article(language=None))
    assert {"title_folded", "body_folded"} <= set(unknown) and "summary_folded" not in unknown


def test_reindex_script_groups_languages_as_the_documents_do() -> None:
    params = analysis.regroup_script()["params"]
    for code, group in params["groups"].items():
        assert rq.document(sample_article(language=code))[f"body_{group}"]
    assert params["fallback"] == {"group": "folded"}
    assert set(params["all"]) == set(GROUPS) and set(params["fields"]) == set(GROUPED)


# -- against Elasticsearch's API specification ----------------------------------------------------------------------


SEARCHES = [
    SearchQuery(),
    SearchQuery(text='rocket "drone strike" -sports (cairo OR london) title:gaza body:x summary:y url:https://a.b/c'),
    SearchQuery(text=" ".join(f"{f}:v" for f in FACETS if f != "collections") + " -NOT x", sort=Sort.RELEVANCE),
    SearchQuery(filters={f: ["a", "B c"] for f in FACETS}, since=datetime(2024, 1, 1), until=datetime(2024, 2, 1),
                facets=list(FACETS), facet_size=25, collapse=True, limit=20, offset=40),
    SearchQuery(text="x", since=datetime(2024, 1, 1, tzinfo=UTC)),
    SearchQuery(text="x", until=datetime(2024, 1, 1, tzinfo=UTC), sort=Sort.DATE, limit=0),
    SearchQuery(text="baghdad", facets=["locations"], histogram="day", cluster_id="c1"),
    SearchQuery(text="countries:iraq", filters={"countries": ["IR"]}, facets=["countries"],
                near=Near(33.34, 44.4, 50), bbox=BBox(10, 170, 60, -60)),
    *(SearchQuery(histogram=interval, limit=0) for interval in ("hour", "week", "month")),
]


@pytest.mark.parametrize("query", SEARCHES, ids=range(len(SEARCHES)))
def test_search_bodies_follow_the_spec(query: SearchQuery) -> None:
    for body in (rq.search_body(query, size=query.limit, offset=query.offset),
                 rq.search_body(query, size=10_000, search_after=["2024-01-01T00:00:00Z", "id"], walk=True),
                 rq.search_body(query, size=query.limit, search_after=[1.5, "id"])):
        assert schema_errors(body, "/{index}/_search") == []
        assert schema_errors({"query": body["query"]}, "/{index}/_count") == []


def test_index_template_and_lifecycle_bodies_follow_the_spec() -> None:
    template = rq.index_template_body(rq.load_template(), ALIAS)
    assert schema_errors(template, "/_index_template/{name}", "put") == []
    assert schema_errors(rq.create_index_body(ALIAS), "/{index}", "put") == []
    assert schema_errors(rq.create_index_body(None), "/{index}", "put") == []
    # The template's settings and mappings would also do as an explicit index creation.
    assert schema_errors({**template["template"], **rq.create_index_body(ALIAS)}, "/{index}", "put") == []
    assert schema_errors({"properties": template["template"]["mappings"]["properties"]},
                         "/{index}/_mapping", "put") == []
    assert schema_errors(rq.alias_swap_body(ALIAS, "a-v1", "a-v2"), "/_aliases") == []
    assert schema_errors(rq.alias_swap_body(ALIAS, None, "a-v1"), "/_aliases") == []
    assert schema_errors(rq.reindex_body("a-v1", "a-v2"), "/_reindex") == []
    assert schema_errors(rq.reindex_body("a-v1", "a-v2", indexed_since=datetime(2024, 5, 1)), "/_reindex") == []


def test_bulk_lines_follow_the_spec() -> None:
    lines = [*rq.bulk_index_lines(ALIAS, [sample_article(), sample_article(cluster_id="c")]),
             *rq.bulk_delete_lines(ALIAS, ["x"])]
    flat = [json.loads(json.dumps(part)) for line in lines for part in line if part is not None]
    assert schema_errors(flat, "/_bulk") == []
    for action, _source in lines:
        assert component_errors(action, "_global.bulk.OperationContainer") == []


def test_date_histogram_and_cluster_filter_bodies() -> None:
    query = SearchQuery(text="x", histogram="week", cluster_id="c1")
    body = rq.search_body(query, size=5)
    # Calendar weeks (ISO: from Monday) in UTC, not fixed 7-day spans from the epoch (a Thursday).
    assert body["aggs"] == {"published_at_histogram": {"date_histogram": {
        "field": "published_at", "calendar_interval": "week", "time_zone": "UTC", "min_doc_count": 1}}}
    assert {"term": {"cluster_id": {"value": "c1"}}} in body["query"]["bool"]["filter"]
    assert schema_errors(body, "/{index}/_search") == []
    # The search schema leaves the "aggs" spelling open, so each aggregation is checked as the container it is.
    for interval in HISTOGRAM_INTERVALS:
        assert component_errors(rq.date_histogram(interval), "_types.aggregations.AggregationContainer") == []
    wrong = {"date_histogram": {"field": "published_at", "min_doc_count": "one"}}
    assert component_errors(wrong, "_types.aggregations.AggregationContainer")
    with pytest.raises(QuerySyntaxError, match="histogram interval"):
        SearchQuery(histogram="fortnight")


def test_countries_places_and_geo_filter_bodies() -> None:
    baghdad = Place(name="Baghdad", geonames_id=98182, country="IQ", lat=33.34, lon=44.4, mentions=2)
    doc = rq.document(sample_article(countries=["IQ"], places=[baghdad, baghdad.model_copy(update={"mentions": 1})]))
    assert doc["countries"] == ["IQ"] and doc["places"][0]["geonames_id"] == 98182
    assert doc[rq.COORDINATES] == [{"lat": 33.34, "lon": 44.4}]  # one point per place, not per mention
    assert rq.document(sample_article())[rq.COORDINATES] == []
    # A country's name or any-case code stands for its code, in the query text and in filters.
    assert rq.text_query("countries:Iraq") == facet("countries", "IQ")
    query = SearchQuery(filters={"countries": ["united kingdom"]}, near=Near(33.34, 44.4, 50),
                        bbox=BBox(29, 38.8, 37.4, 48.6))
    assert rq.filter_clauses(query) == [
        {"bool": {"should": [facet("countries", "GB")], "minimum_should_match": 1}},
        {"geo_distance": {"distance": "50km", "distance_type": "arc", "coordinates": {"lat": 33.34, "lon": 44.4}}},
        {"geo_bounding_box": {"coordinates": {"top_left": {"lat": 37.4, "lon": 38.8},
                                              "bottom_right": {"lat": 29, "lon": 48.6}}}},
    ]
    assert rq.geo_distance(Near(0, 0, 0.00001))["geo_distance"]["distance"] == "0.00001km"
    assert rq.geo_distance(Near(0, 0, 12_345.6789))["geo_distance"]["distance"] == "12345.6789km"
    for clause in rq.filter_clauses(query):
        assert component_errors(clause, "_types.query_dsl.QueryContainer") == []
    assert component_errors({"geo_distance": {"distance": 50, "coordinates": {"lat": 1, "lon": 2}}},
                            "_types.query_dsl.QueryContainer")


def test_the_spec_check_catches_wrong_bodies() -> None:
    # The check must be able to fail: each of these is a real mistake Elasticsearch would refuse.
    # A deep copy: load_template is cached, and the shallow template body shares its mappings.
    template = rq.index_template_body(copy.deepcopy(rq.load_template()), ALIAS)
    template["template"]["mappings"]["dynamic"] = "sometimes"
    assert schema_errors(template, "/_index_template/{name}", "put")
    assert schema_errors({"query": {"match_all": {}}, "size": "ten"}, "/{index}/_search")
    assert schema_errors({"query": {"range": {"published_at": {"gte": ["2024"]}}}}, "/{index}/_search")
    assert schema_errors({"highlight": {"encoder": "xml", "fields": {}}}, "/{index}/_search")
    assert schema_errors({"collapse": {"field": 5}}, "/{index}/_search")
    assert schema_errors({"query": {"bool": {"minimum_should_match": [1]}}}, "/{index}/_search")
    assert component_errors({"index": {"_id": ["not", "a", "string"]}}, "_global.bulk.OperationContainer")


def test_compiling_an_unknown_node_is_an_error() -> None:
    with pytest.raises(QuerySyntaxError):
        rq.compile_node("not a node")  # type: ignore[arg-type]


def test_ids_lookup_body_follows_the_spec() -> None:
    # What pollers ask past the seen window: ids only, each once, no source and no total to count.
    body = rq.ids_body(["b", "a", "b"])
    assert body == {"query": {"ids": {"values": ["a", "b"]}}, "size": 2, "_source": False, "track_total_hits": False}
    assert schema_errors(body, "/{index}/_search") == []
