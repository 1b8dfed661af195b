"""The Elasticsearch path of alerts: the bodies a saved search stores and percolates (checked against
Elasticsearch's own spec), reading matches back from percolate hits, and, with ELASTICSEARCH_URL, the whole
lifecycle in a real cluster (skipped, saying so, without one)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from tests.conformance.conftest import NO_CLUSTER
from tests.es_spec import schema_errors
from tests.test_alerts import CORPUS
from workers.alerts.percolator import PercolatorAlerts, matches_from_hits
from workers.alerts.store import SavedSearch, validate_saved_search
from workers.search.elasticsearch import percolator as pc
from workers.search.elasticsearch import requests as rq

SAVED = [
    validate_saved_search("baghdad", "Baghdad", {"locations": ["Baghdad", "Iraq"]}),
    validate_saved_search("phrase", '"drone strike" OR title:brexit'),
    validate_saved_search("facets-only", "", {"language": ["en"], "persons": ["Qassem Soleimani"]}),
]


@pytest.mark.parametrize("saved", SAVED, ids=lambda s: s.name)
def test_the_stored_query_is_the_search_query(saved: SavedSearch) -> None:
    document = pc.saved_search_document(saved.name, saved.name, saved.search_query(),
                                        created_at=datetime.fromisoformat(saved.created_at))
    assert document["query"] == rq.query_clause(saved.search_query())  # what a search for it sends
    assert document["saved_search"]["name"] == saved.name
    assert document["saved_search"]["filters"] == saved.filters
    assert schema_errors(json.loads(json.dumps(document)), "/{index}/_doc/{id}", "put") == []


def test_the_batch_percolation_follows_the_spec() -> None:
    body = pc.percolate_batch_body([rq.document(a) for a in CORPUS], size=2, search_after="baghdad")
    assert schema_errors(json.loads(json.dumps(body)), "/{index}/_search") == []


def test_matches_are_read_from_the_document_slots() -> None:
    ids = [a.id for a in CORPUS]
    hits = [
        {"_source": {"saved_search": {"id": "baghdad", "name": "baghdad"}},
         "fields": {"_percolator_document_slot": [0, 1]}},
        {"_source": {"saved_search": {"id": "phrase", "name": "phrase"}},
         "fields": {"_percolator_document_slot": [3]}},
    ]
    assert matches_from_hits(hits, ids) == {"baghdad": [ids[0], ids[1]], "phrase": [ids[3]]}
    assert matches_from_hits([], ids) == {}


@pytest.mark.skipif(not os.environ.get("ELASTICSEARCH_URL"), reason=NO_CLUSTER)
def test_saved_searches_in_a_real_cluster(tmp_path: Path) -> None:
    from workers.search.elasticsearch.backend import make_client
    from workers.search.elasticsearch.index import versions
    from workers.settings import Settings

    alias = f"nwtest-{uuid.uuid4().hex[:10]}"
    client = make_client(Settings(data_dir=tmp_path / "data", elasticsearch_url=os.environ["ELASTICSEARCH_URL"],
                                  elasticsearch_index=alias))
    percolator = PercolatorAlerts(client, alias, page=1)  # one per page: search_after paging is exercised
    try:
        for saved in SAVED:
            percolator.store(saved)
        ids = [a.id for a in CORPUS]
        found = percolator.match(CORPUS)
        assert {k: sorted(v) for k, v in found.items()} == {
            "baghdad": sorted(ids[:2]), "phrase": sorted([ids[1], ids[3]]), "facets-only": sorted(ids[:2]),
        }
        percolator.remove("phrase")
        percolator.remove("phrase")  # gone already: not an error
        assert "phrase" not in percolator.match(CORPUS)
        percolator.sync(SAVED)  # a worker's first batch puts every saved search again
        assert "phrase" in percolator.match(CORPUS)
    finally:
        for name in versions(client, pc.saved_searches_alias(alias)):
            client.indices.delete(index=name)
        client.options(ignore_status=404).indices.delete_index_template(name=pc.saved_searches_template_name(alias))
        client.close()
