"""The HTTP API over a real Tantivy index on disk: search, articles, export, status, feeds, and bad input as 4xx."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from tests.conformance.corpus import ARTICLES, BY_DATE_DESC, ID, KEY, article, day
from tests.conftest import ROOT, cli_environment, newsworkers_cli, run_cli, wait_until
from workers.api import app as app_module
from workers.api import create_app, get_backend, get_settings, routes_alerts
from workers.api.export import iter_hits
from workers.api.params import Interval
from workers.core.models import Feed
from workers.runtime import Runtime
from workers.search.backend import SearchBackend
from workers.search.model import HISTOGRAM_INTERVALS, SearchQuery, Sort
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings


def build_index(settings: Settings, articles: list) -> None:  # type: ignore[type-arg]
    writer = TantivyBackend(settings.index_dir, writer=True)
    try:
        writer.upsert(articles)
    finally:
        writer.close()


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    build_index(settings, list(ARTICLES.values()))
    return settings


@pytest.fixture
def api(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings)) as client:
        yield client


def keys(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [KEY[h["id"]] for h in body["hits"]]


def test_search_has_the_cli_json_shape_plus_a_histogram(api: TestClient, api_settings: Settings) -> None:
    answer = api.get("/api/search", params={"q": "baghdad", "facets": "locations,persons", "histogram": "day"})
    assert answer.status_code == 200
    body = answer.json()
    env = cli_environment(api_settings.data_dir, api_settings.redis_url or "", api_settings.namespace)
    cli = run_cli(env, "search", "baghdad", "--facet", "locations", "--facet", "persons", "--json")
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)
    histogram = body.pop("histogram")
    assert body == expected
    assert sum(b["count"] for b in histogram) == body["total"] == 3
    assert [b["start"][:10] for b in histogram] == ["2024-01-10", "2024-01-11", "2024-01-15"]


def test_facet_filters_page_sort_and_collapse(api: TestClient) -> None:
    every = api.get("/api/search", params={"sort": "date", "size": 100}).json()
    assert keys(every) == BY_DATE_DESC
    iraq = api.get("/api/search", params={"q": "baghdad", "locations": "iraq", "facets": "locations"}).json()
    assert keys(iraq) == ["a1"]
    assert {f["value"]: f["count"] for f in iraq["facets"]["locations"]} == {"Baghdad": 1, "Iraq": 1}
    top = api.get("/api/search", params={"facets": "locations", "facet_size": 1, "size": 0}).json()
    assert top["facets"]["locations"] == [{"value": "Baghdad", "count": 3}]
    either = api.get("/api/search", params=[("locations", "Cairo"), ("locations", "Turkey")]).json()
    assert set(keys(either)) == {"a2", "a7"}
    second = api.get("/api/search", params={"sort": "date", "size": 3, "page": 2}).json()
    assert keys(second) == BY_DATE_DESC[3:6]
    collapsed = api.get("/api/search", params={"q": "baghdad", "sort": "date", "collapse": "true"}).json()
    assert keys(collapsed) == ["a4", "a1"] and collapsed["total"] == 3  # a1: the a1/a9 cluster shown as first reported
    dated = api.get("/api/search", params={"since": "2024-01-10", "until": "2024-01-12", "sort": "date"}).json()
    assert keys(dated) == ["a2", "a9", "a1"]


@pytest.mark.parametrize(("params", "status", "reason", "words"), [
    ({"q": '"embassy attack'}, 400, "query.syntax", "unclosed quote"),
    ({"q": "(rocket"}, 400, "query.syntax", "unclosed '('"),
    ({"q": "colour:red"}, 400, "query.syntax", "unknown field"),
    ({"facets": "planets"}, 400, "query.syntax", "unknown facet 'planets'"),
    ({"planets": "Mars"}, 400, "query.unknown_parameter", "unknown parameter 'planets'"),
    ({"page": "7"}, 400, "query.page_past_end", "page 7 is past the end: 9 hits"),
    ({"since": "last tuesday"}, 400, "query.syntax", "since 'last tuesday' is not an ISO date"),
    ({"until": "2024-13-45"}, 400, "query.syntax", "until '2024-13-45'"),
    ({"since": "2024-02-01", "until": "2024-01-01"}, 400, "query.syntax", "after"),
    ({"size": "5000"}, 400, "query.size_too_big", "size 5000 is above"),
    ({"size": "100", "page": "101"}, 400, "query.window_too_deep", "/api/export"),
])
def test_bad_queries_are_a_clear_400(api: TestClient, params: dict[str, str], status: int, reason: str,
                                     words: str) -> None:
    answer = api.get("/api/search", params=params)
    assert answer.status_code == status, answer.text
    assert answer.json()["reason"] == reason
    assert words in answer.json()["error"]


@pytest.mark.parametrize("params", [
    {"since": "0001-01-01"}, {"until": "9999-12-31"}, {"since": "0001-01-01T00:00:00+05:00"},
    {"until": "9999-12-31T23:00:00-05:00"}, {"since": "1000-01-01", "until": "3000-01-01"},
])
def test_dates_beyond_what_an_index_holds_mean_from_the_start_or_until_the_end(api: TestClient,
                                                                               params: dict[str, str]) -> None:
    answer = api.get("/api/search", params={**params, "histogram": "week"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"] == len(ARTICLES)
    assert api.get("/api/export", params=params).text.count("\n") == len(ARTICLES)


def test_malformed_parameters_are_a_422_naming_the_parameter(api: TestClient) -> None:
    for params, name in (({"page": "0"}, "page"), ({"size": "ten"}, "size"), ({"histogram": "year"}, "histogram"),
                         ({"sort": "random"}, "sort")):
        answer = api.get("/api/search", params=params)
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["query", name]


def test_month_and_week_histograms_start_on_the_first_and_on_mondays(api: TestClient) -> None:
    months = api.get("/api/search", params={"histogram": "month"})
    assert months.status_code == 200, months.text
    assert months.json()["histogram"] == [{"start": "2024-01-01T00:00:00+00:00", "count": len(ARTICLES)}]
    weeks = api.get("/api/search", params={"histogram": "week"}).json()["histogram"]
    assert sum(b["count"] for b in weeks) == len(ARTICLES)
    assert {datetime.fromisoformat(b["start"]).weekday() for b in weeks} == {0}


def test_histogram_intervals_are_the_models() -> None:
    assert set(typing.get_args(Interval)) == set(HISTOGRAM_INTERVALS)


def test_article_with_entities_and_its_cluster(api: TestClient) -> None:
    body = api.get(f"/api/articles/{ID['a9']}").json()
    assert body["article"]["title"] == ARTICLES["a9"].title
    assert body["article"]["body"] == ARTICLES["a9"].body
    first = api.get(f"/api/articles/{ID['a1']}").json()
    assert first["article"]["persons"] == ["Qassem Soleimani"]
    assert first["article"]["locations"] == ["Baghdad", "Iraq"]
    # Earliest first: a1 is the story, a9 its wire copy.
    assert [KEY[m["id"]] for m in body["cluster"]] == [KEY[m["id"]] for m in first["cluster"]] == ["a1", "a9"]
    alone = api.get(f"/api/articles/{ID['a3']}").json()
    assert [KEY[m["id"]] for m in alone["cluster"]] == ["a3"]
    missing = api.get("/api/articles/0123456789abcdef")
    assert missing.status_code == 404 and missing.json()["reason"] == "article.not_found"


def test_export_streams_the_whole_result_in_both_formats(api: TestClient) -> None:
    with api.stream("GET", "/api/export", params={"format": "jsonl"}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in answer.iter_lines() if line]
    assert [KEY[r["id"]] for r in lines] == BY_DATE_DESC
    assert "snippet" not in lines[0]
    answer = api.get("/api/export", params={"format": "csv", "q": "baghdad", "locations": "Baghdad"})
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert sorted(KEY[r["id"]] for r in rows) == ["a1", "a4", "a9"]
    a1 = next(r for r in rows if r["id"] == ID["a1"])
    assert a1["locations"] == "Baghdad; Iraq" and a1["persons"] == "Qassem Soleimani"
    collapsed = api.get("/api/export", params={"collapse": "true"}).text.splitlines()
    assert [KEY[json.loads(line)["id"]] for line in collapsed] == [k for k in BY_DATE_DESC if k != "a1"]
    bad = api.get("/api/export", params={"q": "(x"})
    assert bad.status_code == 400 and bad.json()["reason"] == "query.syntax"
    assert api.get("/api/export", params={"format": "xml"}).status_code == 422


def test_export_walk_is_complete_across_pages_and_equal_timestamps(settings: Settings) -> None:
    # 45 articles, many in the same second, walked 7 at a time: every one exactly once, newest first.
    docs = [article(f"t{i}", title=f"Story {i}", body="same body", domain="many.example",
                    published_at=day(1 + i % 4) + timedelta(microseconds=i)) for i in range(45)]
    build_index(settings, docs)
    backend = TantivyBackend(settings.index_dir)
    try:
        walked = list(iter_hits(backend, SearchQuery(sort=Sort.RELEVANCE), page_size=7, max_docs=1000))
        assert sorted(h.id for h in walked) == sorted(d.id for d in docs)
        stamps = [h.published_at for h in walked]
        assert [s.replace(microsecond=0) for s in stamps] == sorted((s.replace(microsecond=0) for s in stamps),
                                                                    reverse=True)
        assert len(list(iter_hits(backend, SearchQuery(), page_size=7, max_docs=10))) == 10
    finally:
        backend.close()


def test_collapse_walks_past_dense_clusters(settings: Settings) -> None:
    # 120 articles in clusters of four, one a minute: a page of 20 stories needs 80 hits, past the first step.
    docs = [article(f"d{i}", title=f"Story {i // 4}", body="wire copy", domain="dense.example",
                    published_at=day(1) + timedelta(minutes=i), cluster_id=f"{i // 4 * 4:04d}" if i % 4 else None)
            for i in range(120)]
    docs = [d.model_copy(update={"cluster_id": d.cluster_id and docs[int(d.cluster_id)].id}) for d in docs]
    build_index(settings, docs)
    backend = TantivyBackend(settings.index_dir)
    try:
        pages = [backend.search(SearchQuery(sort=Sort.DATE, collapse=True, limit=20, offset=o)) for o in (0, 20)]
    finally:
        backend.close()
    stories = [h.title for page in pages for h in page.hits]
    assert stories == [f"Story {n}" for n in range(29, -1, -1)][:30]
    assert pages[0].total == 120


def test_csv_export_defuses_formulas(settings: Settings) -> None:
    build_index(settings, [article("evil", title='=HYPERLINK("http://x","click")', body="b", domain="e.example",
                                   published_at=day(2))])
    with TestClient(create_app(settings)) as client:
        rows = list(csv.DictReader(io.StringIO(client.get("/api/export", params={"format": "csv"}).text)))
    assert rows[0]["title"] == "'=HYPERLINK(\"http://x\",\"click\")"


@pytest.mark.slow
def test_export_cli_writes_jsonl_and_csv(api_settings: Settings, tmp_path: Path) -> None:
    env = cli_environment(api_settings.data_dir, api_settings.redis_url or "", api_settings.namespace)
    out = tmp_path / "baghdad.csv"
    result = run_cli(env, "export", "baghdad", "--format", "csv", "--filter", "locations=Iraq", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert [KEY[r["id"]] for r in csv.DictReader(out.open())] == ["a1"]
    result = run_cli(env, "export", "--format", "jsonl", "--since", "2024-01-20")
    assert [KEY[json.loads(line)["id"]] for line in result.stdout.splitlines()] == ["a8", "a6"]
    bad = run_cli(env, "export", '"open', "--format", "csv")
    assert bad.returncode == 2 and "unclosed quote" in bad.stderr


def test_status_and_feeds_come_from_redis(api: TestClient, api_settings: Settings) -> None:
    runtime = Runtime(api_settings)
    try:
        runtime.registry.add(Feed(url="https://example.com/feed.xml", title="Example"))
    finally:
        runtime.close()
    feeds = api.get("/api/feeds")
    assert feeds.status_code == 200
    assert [f["url"] for f in feeds.json()] == ["https://example.com/feed.xml"]
    status = api.get("/api/status").json()
    assert status["feeds"]["registered"] == 1
    assert status["index"]["documents"] == len(ARTICLES)
    assert set(status) >= {"queues", "workers", "index", "feeds", "items", "failures", "rate", "counters"}


def test_extra_routers_join_with_the_apps_settings_and_backend(api_settings: Settings,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The saved-searches router's hook: a module in EXTRA_ROUTERS joins the app; one not installed is skipped."""
    router = APIRouter()

    @router.get("/api/probe")
    def probe(settings: Annotated[Settings, Depends(get_settings)],
              backend: Annotated[SearchBackend, Depends(get_backend)]) -> dict[str, object]:
        return {"data_dir": str(settings.data_dir), "documents": backend.count()}

    plugin = types.ModuleType("newsworkers_test_router")
    plugin.router = router  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "newsworkers_test_router", plugin)
    monkeypatch.setattr(app_module, "EXTRA_ROUTERS", ("newsworkers_not_installed.http", "newsworkers_test_router"))
    # Without the saved-searches router, as a deployment that leaves it out would run.
    monkeypatch.setattr(app_module, "ROUTERS", tuple(r for r in app_module.ROUTERS if r is not routes_alerts.router))
    with TestClient(create_app(api_settings)) as client:
        assert client.get("/api/probe").json() == {"data_dir": str(api_settings.data_dir), "documents": len(ARTICLES)}
        assert client.get("/api/alerts").status_code == 404  # what the page reads as "no saved searches here"


def test_openapi_lists_every_facet_parameter(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    names = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert {"q", "page", "size", "since", "until", "sort", "facets", "collapse", "histogram", "locations",
            "persons", "source_name"} <= names


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_sees_what_a_writer_indexes_meanwhile(api_settings: Settings) -> None:
    """`newsworkers serve` as a process, a writer indexing beside it: new documents are found, no restart."""
    port = _free_port()
    env = cli_environment(api_settings.data_dir, api_settings.redis_url or "", api_settings.namespace)
    server = subprocess.Popen([*newsworkers_cli(), "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base), timeout_s=30, what="newsworkers serve")
        assert httpx.get(f"{base}/api/search", params={"q": "volcano"}).json()["total"] == 0
        writer = TantivyBackend(api_settings.index_dir, writer=True)
        try:
            writer.upsert([article("v1", title="Volcano erupts", body="A volcano erupted at dawn.",
                                   domain="geo.example", published_at=day(28))])
        finally:
            writer.close()
        assert httpx.get(f"{base}/api/search", params={"q": "volcano"}).json()["total"] == 1
        page = httpx.get(f"{base}/")
        assert page.status_code == 200 and "Content-Security-Policy" in page.headers
        assert httpx.get(f"{base}/static/app.js").status_code == 200
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in out


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/search", params={"size": 0}, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False

