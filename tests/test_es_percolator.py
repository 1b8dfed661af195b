"""Saved searches as percolator queries: exact bodies, the template derived from the articles one, the spec check.

The last test stores a saved search in a real cluster and percolates an article; it is skipped, with the
reason, where ELASTICSEARCH_URL is not set.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.conftest import NO_CLUSTER
from tests.es_spec import component_errors, schema_errors
from tests.test_es_requests import entity, facet, phrase, sample_article
from workers.core.errors import ConfigError
from workers.search.elasticsearch import percolator as pc
from workers.search.elasticsearch import requests as rq
from workers.search.model import FACETS, SearchQuery, Sort

ALIAS = "newsworkers-articles"
CREATED = datetime(2024, 3, 1, 8, 30, tzinfo=UTC)


def json_round_trip(value: Any) -> Any:
    # What the client sends: validating the JSON, not Python objects that merely look like it.
    return json.loads(json.dumps(value))


# -- the template -----------------------------------------------------------------------------------------------


def test_template_is_the_article_template_plus_saved_search_fields() -> None:
    articles = rq.load_template()["template"]
    template = pc.saved_searches_template()["template"]
    mappings = template["mappings"]
    assert mappings["dynamic"] == "strict"
    assert mappings["properties"]["query"] == {"type": "percolator"}
    # Same analyzer and same article fields, so a stored query matches the words a search matches.
    assert template["settings"]["analysis"] == articles["settings"]["analysis"]
    article_properties = articles["mappings"]["properties"]
    assert {k: v for k, v in mappings["properties"].items() if k in article_properties} == article_properties
    assert set(mappings["properties"]) == set(article_properties) | {"query", "saved_search"}
    saved = mappings["properties"]["saved_search"]
    assert saved["dynamic"] == "strict"
    assert set(saved["properties"]) == {"id", "name", "query_text", "filters", "since", "until", "created_at"}
    assert set(saved["properties"]["filters"]["properties"]) == set(FACETS)  # every filter a SearchQuery can hold
    assert mappings["_meta"]["newsworkers"] == {"schema_version": 1, "articles_schema_version": 5}
    # Building it leaves the cached templates untouched.
    assert "query" not in rq.load_template()["template"]["mappings"]["properties"]
    assert "analysis" not in rq.load_template(file=pc.SAVED_SEARCHES_FILE)["template"]["settings"]


def test_template_body_and_names() -> None:
    assert pc.saved_searches_alias(ALIAS) == "newsworkers-articles-saved-searches"
    assert pc.saved_searches_template_name(ALIAS) == "newsworkers-articles-saved-searches-template"
    body = pc.saved_searches_template_body(ALIAS)
    assert body["index_patterns"] == ["newsworkers-articles-saved-searches-v*"]
    # The articles template's pattern must not also claim the saved-searches indices.
    articles_pattern = rq.index_template_body(rq.load_template(), ALIAS)["index_patterns"][0]
    assert not rq.versioned_index(pc.saved_searches_alias(ALIAS), 1).startswith(articles_pattern.rstrip("*"))


def test_a_saved_search_field_named_like_an_article_field_is_refused() -> None:
    own = copy.deepcopy(rq.load_template(file=pc.SAVED_SEARCHES_FILE))
    own["template"]["mappings"]["properties"]["title"] = {"type": "keyword"}
    with pytest.raises(ConfigError, match="title"):
        pc.saved_searches_template(own=own)


# -- saved-search documents ----------------------------------------------------------------------------------------


SAVED = {
    "text": (SearchQuery(text="rocket"), phrase("rocket")),
    "phrase": (SearchQuery(text='"drone strike"'), phrase("drone strike")),
    "not": (SearchQuery(text="soleimani -sports"),
            {"bool": {"must": [phrase("soleimani")], "must_not": [phrase("sports")]}}),
    "facets": (SearchQuery(text="", filters={"locations": ["Iraq", "Syria"], "language": ["en"]}),
               {"bool": {"must": [{"match_all": {}}], "filter": [
                   {"bool": {"should": [facet("locations", "Iraq"), facet("locations", "Syria")],
                             "minimum_should_match": 1}},
                   {"bool": {"should": [facet("language", "en")], "minimum_should_match": 1}},
               ]}}),
    "dates": (SearchQuery(text="persons:Soleimani", since=datetime(2024, 1, 1),
                          until=datetime(2024, 6, 30, tzinfo=UTC)),
              {"bool": {"must": [entity("persons", "Soleimani")], "filter": [
                  {"range": {"published_at": {"gte": "2024-01-01T00:00:00Z", "lte": "2024-06-30T00:00:00Z"}}},
              ]}}),
}


@pytest.mark.parametrize("name", SAVED)
def test_saved_search_documents_hold_the_search_query(name: str) -> None:
    query, expected = SAVED[name]
    doc = pc.saved_search_document("s-1", name, query, created_at=CREATED)
    assert doc["query"] == expected
    # The very clause a search sends, so an alert fires on exactly what the search finds.
    assert doc["query"] == rq.search_body(query, size=10)["query"]


def test_saved_search_document_exactly() -> None:
    query = SearchQuery(text='"drone strike" -sports', filters={"locations": ["Iraq", " "]},
                        since=datetime(2024, 1, 1, tzinfo=UTC), sort=Sort.DATE, limit=50, facets=["domain"])
    assert pc.saved_search_document("s-2", "Iraq drones", query, created_at=CREATED) == {
        "query": {"bool": {
            "must": [{"bool": {"must": [phrase("drone strike")], "must_not": [phrase("sports")]}}],
            "filter": [{"bool": {"should": [facet("locations", "Iraq")], "minimum_should_match": 1}},
                       {"range": {"published_at": {"gte": "2024-01-01T00:00:00Z"}}}],
        }},
        "saved_search": {"id": "s-2", "name": "Iraq drones", "query_text": '"drone strike" -sports',
                         "filters": {"locations": ["Iraq"]}, "since": "2024-01-01T00:00:00Z",
                         "created_at": "2024-03-01T08:30:00Z"},
    }


# -- percolation --------------------------------------------------------------------------------------------------


def test_percolate_body_exactly() -> None:
    doc = rq.document(sample_article())
    assert pc.percolate_body(doc) == {
        "query": {"bool": {"filter": [{"percolate": {"field": "query", "document": doc}}]}},
        "size": 500,
        "sort": [{"saved_search.id": {"order": "asc"}}],
        "_source": {"includes": ["saved_search.id", "saved_search.name"]},
        "track_total_hits": False,
    }
    paged = pc.percolate_body(doc, size=2, search_after="s-9")
    assert paged["size"] == 2 and paged["search_after"] == ["s-9"]
    assert "highlight" not in paged


def test_percolate_batch_body_exactly() -> None:
    docs = [rq.document(sample_article()), rq.document(sample_article(title="Other"))]
    body = pc.percolate_batch_body(docs, size=10)
    assert body["query"] == {"bool": {"filter": [{"percolate": {"field": "query", "documents": docs}}]}}
    assert body["size"] == 10 and "search_after" not in body
    with pytest.raises(ValueError, match="at least one"):
        pc.percolate_batch_body([])


# -- against Elasticsearch's API specification ----------------------------------------------------------------------


def test_template_follows_the_spec() -> None:
    body = json_round_trip(pc.saved_searches_template_body(ALIAS))
    assert schema_errors(body, "/_index_template/{name}", "put") == []
    # As an explicit index creation and as a mapping update too.
    assert schema_errors(body["template"], "/{index}", "put") == []
    assert schema_errors({"properties": body["template"]["mappings"]["properties"]}, "/{index}/_mapping", "put") == []
    assert component_errors({"type": "percolator"}, "_types.mapping.PercolatorProperty") == []


@pytest.mark.parametrize("name", SAVED)
def test_saved_search_documents_follow_the_spec(name: str) -> None:
    doc = json_round_trip(pc.saved_search_document("s-1", name, SAVED[name][0], created_at=CREATED))
    assert component_errors(doc["query"], "_types.query_dsl.QueryContainer") == []
    assert schema_errors(doc, "/{index}/_doc/{id}", "put") == []


def test_percolate_bodies_follow_the_spec() -> None:
    docs = [rq.document(sample_article()), rq.document(sample_article(cluster_id="c", tags=["x"]))]
    for body in (pc.percolate_body(docs[0]), pc.percolate_body(docs[1], size=1, search_after="s-1"),
                 pc.percolate_batch_body(docs), pc.percolate_batch_body(docs, search_after="s-1")):
        assert schema_errors(json_round_trip(body), "/{index}/_search") == []


def test_the_spec_check_catches_wrong_percolator_bodies() -> None:
    body = pc.saved_searches_template_body(ALIAS)
    body["template"]["mappings"]["properties"]["query"]["type"] = "percolater"
    assert schema_errors(body, "/_index_template/{name}", "put")
    good = json_round_trip(pc.percolate_body(rq.document(sample_article())))
    no_field = copy.deepcopy(good)
    del no_field["query"]["bool"]["filter"][0]["percolate"]["field"]
    assert schema_errors(no_field, "/{index}/_search")
    not_a_list = copy.deepcopy(good)
    not_a_list["query"]["bool"]["filter"][0]["percolate"]["documents"] = {"title": "x"}
    assert schema_errors(not_a_list, "/{index}/_search")
    bare_list = {**good, "_source": ["saved_search.id"]}  # the shorthand the spec does not model; we send includes
    assert schema_errors(bare_list, "/{index}/_search")


# -- against a real cluster --------------------------------------------------------------------------------------------


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A client of the real cluster and a fresh alias; the saved-searches indices and template made under it
    are deleted after the test."""
    if not os.environ.get("ELASTICSEARCH_URL"):
        pytest.skip(NO_CLUSTER)
    from workers.search.elasticsearch.backend import make_client
    from workers.search.elasticsearch.index import versions
    from workers.settings import Settings

    alias = f"nwtest-{uuid.uuid4().hex[:10]}"
    client = make_client(Settings(data_dir=tmp_path / "data", elasticsearch_url=os.environ["ELASTICSEARCH_URL"],
                                  elasticsearch_index=alias))
    try:
        yield client, alias
    finally:
        # By name: clusters refuse wildcard deletes by default (action.destructive_requires_name).
        for name in versions(client, pc.saved_searches_alias(alias)):
            client.indices.delete(index=name)
        client.options(ignore_status=404).indices.delete_index_template(name=pc.saved_searches_template_name(alias))
        client.close()


def test_store_a_saved_search_and_percolate_articles(cluster: tuple[Any, str]) -> None:
    from workers.search.elasticsearch.index import ensure_saved_searches_index, versions

    client, alias = cluster
    saved_alias = pc.saved_searches_alias(alias)
    assert ensure_saved_searches_index(client, alias) == f"{saved_alias}-v1"
    assert ensure_saved_searches_index(client, alias) == f"{saved_alias}-v1"  # idempotent
    assert versions(client, alias) == {}  # the articles' <alias>-v* does not take in the saved searches
    searches = {
        "baghdad": SearchQuery(text="rockets", filters={"locations": ["baghdad"]}),
        "cairo": SearchQuery(filters={"locations": ["Cairo"]}),
        "old": SearchQuery(text="rocket", until=datetime(2023, 1, 1, tzinfo=UTC)),
    }
    for search_id, query in searches.items():
        client.index(index=saved_alias, id=search_id, refresh=True,
                     document=pc.saved_search_document(search_id, search_id, query, created_at=CREATED))
    article = rq.document(sample_article())  # Baghdad, "Militants fired rockets", January 2024
    hits = client.search(index=saved_alias, body=pc.percolate_body(article)).body["hits"]["hits"]
    assert [h["_source"]["saved_search"]["id"] for h in hits] == ["baghdad"]  # stemmed: rocket ~ rockets
    other = rq.document(sample_article(locations=["Cairo"], url="https://example.com/news/2"))
    hits = client.search(index=saved_alias, body=pc.percolate_batch_body([article, other])).body["hits"]["hits"]
    slots = {h["_source"]["saved_search"]["id"]: h["fields"]["_percolator_document_slot"] for h in hits}
    assert slots == {"baghdad": [0], "cairo": [1]}


def test_migrate_moves_saved_searches_stored_against_an_older_articles_mapping(cluster: tuple[Any, str]) -> None:
    from workers.alerts.percolator import PercolatorAlerts
    from workers.alerts.store import SavedSearch
    from workers.search.elasticsearch.index import ensure_index, saved_searches_status, versions

    client, alias = cluster
    saved_alias = pc.saved_searches_alias(alias)
    # The saved-searches index as an older release left it: stamped with the articles mapping before this one.
    older = copy.deepcopy(pc.saved_searches_template())
    meta = older["template"]["mappings"]["_meta"]["newsworkers"]
    meta["articles_schema_version"] = int(meta["articles_schema_version"]) - 1
    searches = [SavedSearch(name="baghdad", query="rockets", filters={"locations": ["baghdad"]}),
                SavedSearch(name="cairo", query="", filters={"locations": ["Cairo"]})]
    assert ensure_index(client, saved_alias, template=older) == f"{saved_alias}-v1"
    status = saved_searches_status(client, alias)
    assert status["needs_migrate"] and status["index"] == f"{saved_alias}-v1"
    alerts = PercolatorAlerts(client, alias)
    late = SavedSearch(name="late", query="militia")
    seen: list[int] = []

    def listed() -> list[SavedSearch]:
        seen.append(len(seen))
        return searches if len(seen) == 1 else [*searches, late]  # one saved while the migration ran

    result = alerts.migrate(listed)
    assert result["migrated"] and result["created"] == f"{saved_alias}-v2" and result["stored"] == 3
    assert saved_searches_status(client, alias)["needs_migrate"] is False
    assert alerts.migrate(lambda: searches)["migrated"] is False  # once is enough
    assert set(versions(client, saved_alias)) == {f"{saved_alias}-v1", f"{saved_alias}-v2"}  # old one kept
    matched = alerts.match([sample_article()])  # Baghdad, "Militants fired rockets"
    assert sorted(matched) == ["baghdad"]
    assert client.count(index=saved_alias).body["count"] == 3
