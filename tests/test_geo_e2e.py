"""Countries and places end to end: articles through the index stage into a real Tantivy index, then the
country filter, the facet by name and --near / near= through the CLI (a subprocess) and the HTTP API; and an
index of the previous schema moved to this one by `newsworkers index migrate`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tantivy
from fastapi.testclient import TestClient

from tests.conformance.corpus import ARTICLES, BAGHDAD, ID, KEY, article, day
from tests.conftest import cli_environment, run_cli
from workers.api import create_app
from workers.core.errors import IndexingError
from workers.core.models import Article
from workers.pipeline.index.batch import index_batch
from workers.search.geofilter import Near
from workers.search.model import FACETS, SearchQuery
from workers.search.tantivy.backend import VERSION_FILE, TantivyBackend
from workers.search.tantivy.schema import SCHEMA_VERSION
from workers.settings import Settings


@pytest.fixture
def geo_settings(settings: Settings) -> Iterator[Settings]:
    """The conformance corpus (countries and places on six of nine articles), sent through the index stage."""
    backend = TantivyBackend(settings.index_dir, writer=True)
    payloads = [{"article": a.model_dump(mode="json"), "done": [f"item-{a.id}"], "attempts": 0}
                for a in ARTICLES.values()]
    try:
        outcome = index_batch(payloads, lambda: backend, max_attempts=3)
    finally:
        backend.close()
    assert (outcome.indexed, outcome.failed) == (len(ARTICLES), [])
    yield settings


def cli(settings: Settings, *args: str) -> Any:
    env = cli_environment(settings.data_dir, settings.redis_url or "", settings.namespace)
    result = run_cli(env, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def keys(body: dict[str, Any]) -> set[str]:
    return {KEY[h["id"]] for h in body["hits"]}


def test_cli_filters_by_country_and_distance_and_names_countries(geo_settings: Settings) -> None:
    near = json.loads(cli(geo_settings, "search", "--near", "33.34,44.40,50", "--json", "--facet", "countries").stdout)
    assert keys(near) == {"a1", "a4"}
    assert near["facets"]["countries"][0] == {"value": "IQ", "count": 2, "name": "Iraq"}
    hit = next(h for h in near["hits"] if h["id"] == ID["a1"])
    assert hit["countries"] == ["IQ", "IR", "US"]
    assert hit["places"][0]["name"] == "Baghdad" and hit["places"][0]["lat"] == BAGHDAD.lat
    by_name = json.loads(cli(geo_settings, "search", "countries:iraq", "--json").stdout)
    assert keys(by_name) == {"a1", "a4"}
    filtered = json.loads(cli(geo_settings, "search", "--filter", "countries=Egypt", "--json").stdout)
    assert keys(filtered) == {"a2"}
    box = json.loads(cli(geo_settings, "search", "--bbox", "35,-10,60,5", "--json").stdout)
    assert keys(box) == {"a3", "a5"}
    table = cli(geo_settings, "search", "rocket", "--facet", "countries").stdout
    assert "Iraq" in table and "Iran" in table and "United States" in table
    exported = cli(geo_settings, "export", "--near", "30.06,31.25,20").stdout.splitlines()
    assert [json.loads(line)["id"] for line in exported] == [ID["a2"]]


@pytest.mark.parametrize(("args", "message"), [
    (["search", "--near", "33.3,44.4"], "--near takes LAT,LON,KM"),
    (["search", "--near", "95,44.4,10"], "latitude 95.0 is not between -90 and 90"),
    (["export", "--bbox", "1,2,3"], "--bbox takes SOUTH,WEST,NORTH,EAST"),
])
def test_cli_refuses_a_bad_area_in_one_line(settings: Settings, args: list[str], message: str) -> None:
    env = cli_environment(settings.data_dir, settings.redis_url or "", settings.namespace)
    result = run_cli(env, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split()) and "Traceback" not in result.stderr


def test_api_filters_by_country_and_distance(geo_settings: Settings) -> None:
    with TestClient(create_app(geo_settings)) as api:
        near = api.get("/api/search", params={"near": "33.34,44.40,50", "facets": "countries"})
        assert near.status_code == 200, near.text
        body = near.json()
        assert keys(body) == {"a1", "a4"}
        assert {(f["value"], f["name"], f["count"]) for f in body["facets"]["countries"]} == {
            ("IQ", "Iraq", 2), ("IR", "Iran", 1), ("US", "United States", 1)}
        assert "name" not in api.get("/api/search", params={"facets": "domain"}).json()["facets"]["domain"][0]
        assert keys(api.get("/api/search", params={"countries": "fr"}).json()) == {"a5"}
        assert keys(api.get("/api/search", params={"q": "countries:Türkiye"}).json()) == {"a7"}
        assert keys(api.get("/api/search", params={"bbox": "10,170,60,-60"}).json()) == {"a1"}
        exported = api.get("/api/export", params={"near": "33.34,44.40,50", "format": "csv"})
        assert exported.status_code == 200
        rows = exported.text.splitlines()
        assert rows[0].endswith(",countries") and len(rows) == 3 and all("IQ" in row for row in rows[1:])
        bad = api.get("/api/search", params={"near": "33.34,44.40"})
        assert bad.status_code == 400 and "near takes LAT,LON,KM" in bad.json()["error"]
        # The API's JSON is the CLI's, names included.
        cli_body = json.loads(cli(geo_settings, "search", "--near", "33.34,44.40,50", "--facet", "countries",
                                  "--json").stdout)
        assert body == cli_body


# -- an index of the previous schema, moved to this one ---------------------------------------------------------


ANALYZER = "en_news"  # schema version 3's one analyzer


def english_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stemmer("english")).build())


def _schema_v3() -> tantivy.Schema:
    """Schema version 3 as it was released: no countries facet, no geo fields."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("url", stored=True, tokenizer_name="raw")
    for name in ("title", "body", "summary", "entity_aliases"):
        builder.add_text_field(name, stored=name not in ("body", "entity_aliases"), tokenizer_name=ANALYZER)
    for name in FACETS:
        if name != "countries":
            builder.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
    builder.add_text_field("facet_terms", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("cluster_id", stored=True, tokenizer_name="raw", fast=True)
    builder.add_unsigned_field("duplicates", stored=True, indexed=True, fast=True)
    builder.add_date_field("published_at", stored=True, indexed=True, fast=True)
    builder.add_text_field("archive_path", stored=True, tokenizer_name="raw")
    builder.add_unsigned_field("pipeline_version", stored=True, indexed=True, fast=True)
    builder.add_bytes_field("source", stored=True, indexed=False)
    return builder.build()


def _write_v3(path: Path, articles: list[Article], *, source: dict[str, bytes] | None = None) -> None:
    path.mkdir(parents=True)
    index = tantivy.Index(_schema_v3(), path=str(path))
    index.register_tokenizer(ANALYZER, english_analyzer())
    writer = index.writer(15_000_000, 1)
    for a in articles:
        # What a version-3 newsworkers stored: an Article without the fields added since.
        stored = (source or {}).get(a.id, a.model_dump_json(exclude={"countries", "places"}).encode())
        doc = tantivy.Document(id=a.id, url=a.url, title=a.title, body=a.body,
                               published_at=a.published_at, cluster_id=a.cluster_id or a.id)
        doc.add_bytes("source", stored)
        doc.add_unsigned("duplicates", a.duplicates)
        doc.add_unsigned("pipeline_version", a.pipeline_version)
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    (path / VERSION_FILE).write_text("3")


def test_index_migrate_moves_a_version_3_index_to_this_schema(settings: Settings) -> None:
    old = [a.model_copy(update={"countries": [], "places": []}) for a in ARTICLES.values()]
    _write_v3(settings.index_dir, old)
    with pytest.raises(IndexingError, match="newsworkers index migrate"):
        TantivyBackend(settings.index_dir)
    status = json.loads(cli(settings, "index", "status", "--json").stdout)
    assert (status["schema_version"], status["needs_migrate"]) == (3, True)
    result = json.loads(cli(settings, "index", "migrate", "--json").stdout)
    assert (result["from_version"], result["to_version"], result["copied"]) == (3, SCHEMA_VERSION, len(old))
    assert Path(result["kept"]) == settings.index_dir.with_name("index.v3") and Path(result["kept"]).is_dir()
    backend = TantivyBackend(settings.index_dir, writer=True)
    try:
        assert backend.count() == len(old)
        assert [backend.get(a.id) for a in old] == old
        assert backend.search(SearchQuery(text="baghdad")).total == 3
        # What reprocessing brings (the geoparser's countries and places) is indexed in place.
        backend.upsert([ARTICLES["a1"]])
        assert [h.id for h in backend.search(SearchQuery(near=Near(33.34, 44.40, 50))).hits] == [ID["a1"]]
        assert backend.search(SearchQuery(filters={"countries": ["IQ"]})).total == 1
    finally:
        backend.close()
    again = json.loads(cli(settings, "index", "migrate", "--json").stdout)
    assert again["current"] is True and again["copied"] == 0


def test_index_migrate_changes_nothing_when_a_document_cannot_be_read(settings: Settings) -> None:
    good = article("m1", title="Fine", body="ok", published_at=day(1), domain="a.test")
    bad = article("m2", title="Broken", body="bad", published_at=day(2), domain="a.test")
    _write_v3(settings.index_dir, [good, bad], source={bad.id: b'{"id": "m2", "title": 5}'})
    env = cli_environment(settings.data_dir, settings.redis_url or "", settings.namespace)
    result = run_cli(env, "index", "migrate")
    assert result.returncode != 0
    assert f"document {bad.id}" in " ".join(result.stderr.split()) and "nothing was changed" in result.stderr
    assert (settings.index_dir / VERSION_FILE).read_text() == "3"
    assert not settings.index_dir.with_name("index.v3").exists()
    assert not settings.index_dir.with_name("index.migrating").exists()

