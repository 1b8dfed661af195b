"""Against a real Elasticsearch cluster (ELASTICSEARCH_URL): index lifecycle, bulk errors, the index stage, CLI.

Skipped, with the reason, where no cluster is configured. Each test works in
an alias of its own (``nwtest-<random>``) and deletes its indices and
template afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.conftest import NO_CLUSTER
from tests.conformance.corpus import ARTICLES, ID
from tests.conftest import ROOT, newsworkers_cli
from workers.pipeline.index.batch import index_batch
from workers.search.elasticsearch import requests as rq
from workers.search.elasticsearch.bulk import BulkRejected
from workers.search.model import SearchQuery
from workers.settings import Settings

pytestmark = pytest.mark.skipif(not os.environ.get("ELASTICSEARCH_URL"), reason=NO_CLUSTER)


@pytest.fixture
def es_settings(tmp_path: Path) -> Iterator[Settings]:
    from workers.search.elasticsearch.backend import make_client
    from workers.search.elasticsearch.index import versions

    settings = Settings(data_dir=tmp_path / "data", elasticsearch_url=os.environ.get("ELASTICSEARCH_URL"),
                        elasticsearch_index=f"nwtest-{uuid.uuid4().hex[:10]}", index_batch_size=3)
    yield settings
    client = make_client(settings)
    try:
        # By name: clusters refuse wildcard deletes by default (action.destructive_requires_name).
        for name in versions(client, settings.elasticsearch_index):
            client.indices.delete(index=name)
        client.options(ignore_status=404).indices.delete_index_template(
            name=rq.template_name(settings.elasticsearch_index))
    finally:
        client.close()


def test_create_status_migrate_drop(es_settings: Settings) -> None:
    from workers.search.elasticsearch.backend import ElasticsearchBackend
    from workers.search.elasticsearch.index import drop_old, ensure_index, index_status, migrate

    backend = ElasticsearchBackend(es_settings, writer=True)
    alias = es_settings.elasticsearch_index
    try:
        assert ensure_index(backend.client, alias) == f"{alias}-v1"
        assert ensure_index(backend.client, alias) == f"{alias}-v1"  # idempotent
        backend.upsert(list(ARTICLES.values()))
        status = index_status(backend.client, alias)
        assert status["index"] == f"{alias}-v1" and status["needs_migrate"] is False
        assert [(i["index"], i["documents"]) for i in status["indices"]] == [(f"{alias}-v1", len(ARTICLES))]
        mapping = backend.client.indices.get_mapping(index=f"{alias}-v1").body[f"{alias}-v1"]["mappings"]
        assert mapping["dynamic"] == "strict"
        moved = migrate(backend.client, alias)
        assert (moved["from"], moved["created"], moved["copied"]) == (f"{alias}-v1", f"{alias}-v2", len(ARTICLES))
        assert backend.count() == len(ARTICLES)
        assert {h.id for h in backend.search(SearchQuery(text="baghdad", limit=50)).hits} == {
            ID["a1"], ID["a4"], ID["a9"]}
        assert [i["index"] for i in index_status(backend.client, alias)["indices"]] == [f"{alias}-v1", f"{alias}-v2"]
        assert drop_old(backend.client, alias) == [f"{alias}-v1"]
        assert backend.count() == len(ARTICLES)
    finally:
        backend.close()


def test_a_mapping_error_fails_only_its_document_and_the_rest_is_acknowledged(es_settings: Settings) -> None:
    from workers.search.elasticsearch.backend import ElasticsearchBackend

    backend = ElasticsearchBackend(es_settings, writer=True)
    try:
        good = [ARTICLES["a1"], ARTICLES["a2"]]
        bad = ARTICLES["a3"].model_copy(update={"word_count": 3_000_000_000})  # over the integer mapping
        with pytest.raises(BulkRejected) as caught:
            backend.upsert([*good, bad])
        assert set(caught.value.rejected) == {bad.id}
        assert backend.count() == 2
        payloads = [{"article": a.model_dump(mode="json"), "done": [f"item-{a.id}"]} for a in [*good, bad]]
        outcome = index_batch(payloads, lambda: backend, max_attempts=3)
        assert outcome.indexed == 2 and not outcome.requeue
        assert [(p["article"]["id"], e.reason) for p, e in outcome.failed] == [(bad.id, "index.rejected")]
        assert "integer" in str(outcome.failed[0][1]) or "out of range" in str(outcome.failed[0][1])
    finally:
        backend.close()


def test_several_writers_at_once(es_settings: Settings) -> None:
    from workers.search.elasticsearch.backend import ElasticsearchBackend

    writers = [ElasticsearchBackend(es_settings, writer=True) for _ in range(3)]
    articles = list(ARTICLES.values())
    errors: list[BaseException] = []

    def write(backend: ElasticsearchBackend) -> None:
        try:
            backend.upsert(articles)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        assert writers[0].count() == len(ARTICLES)
    finally:
        for writer in writers:
            writer.close()


def test_search_command_gives_the_same_json_shape(es_settings: Settings) -> None:
    from workers.search.elasticsearch.backend import ElasticsearchBackend

    backend = ElasticsearchBackend(es_settings, writer=True)
    backend.upsert(list(ARTICLES.values()))
    backend.close()
    env = {**os.environ, "NEWSWORKERS_ELASTICSEARCH_INDEX": es_settings.elasticsearch_index,
           "NEWSWORKERS_DATA_DIR": str(es_settings.data_dir)}
    result = subprocess.run([*newsworkers_cli(), "search", "drone", "--json", "--facet", "locations"], env=env,
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == 1 and set(data) == {"total", "hits", "facets"}
    assert data["hits"][0]["id"] == ID["a4"] and "<b>drone</b>" in data["hits"][0]["snippet"].lower()
    assert data["facets"] == {"locations": [{"value": "Baghdad", "count": 1}]}
