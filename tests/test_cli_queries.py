"""Queries as analysts paste them: a headline's colon is no field; the note says how it was read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT, cli_environment, run_cli
from workers.api import create_app
from workers.core.errors import NewsworkersError
from workers.core.ids import document_id
from workers.core.models import FeedItem, FetchedPage
from workers.net.decoding import decode_html
from workers.pipeline.extract.article import extract_article
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings

SEED_PAGES = sorted((ROOT / "seeds" / "articles").glob("*.html"))


def _index_seeds(settings: Settings) -> None:
    """The seed pages extracted by the real extract stage (no NER: these tests are about the text) and indexed."""
    articles = []
    for path in SEED_PAGES:
        url = f"https://seeds.example/{path.stem}"
        item = FeedItem(doc_id=document_id(url), url=url, feed_url="https://seeds.example/rss")
        page = FetchedPage(item=item, final_url=url, status=200, html=decode_html(path.read_bytes(), None))
        try:
            articles.append(extract_article(page, settings, None))
        except NewsworkersError:  # the seeds hold a deliberately broken page
            continue
    writer = TantivyBackend(settings.index_dir, writer=True)
    try:
        writer.upsert(articles)
    finally:
        writer.close()


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    _index_seeds(settings)
    return settings


@pytest.fixture
def env(seeded: Settings) -> dict[str, str]:
    return cli_environment(seeded.data_dir, seeded.redis_url or "", seeded.namespace)


@pytest.fixture
def api(seeded: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(seeded)) as client:
        yield client


def test_a_pasted_headline_with_a_colon_finds_the_brexit_article(env: dict[str, str]) -> None:
    result = run_cli(env, "search", "Brexit: transition", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert [h["url"].rsplit("/", 1)[-1] for h in body["hits"]] == ["brexit-day-uk-leaves-eu"]
    assert "'Brexit' is not a field" in body["notes"][0]
    assert "'Brexit' is not a field" in " ".join(result.stderr.split())
    table = run_cli({**env, "COLUMNS": "240"}, "search", "Brexit: transition")  # wide: the title on one line
    assert table.returncode == 0 and "Britain leaves the European Union" in " ".join(table.stdout.split())
    assert "note:" in table.stderr


def test_a_field_typo_with_a_value_is_still_an_error(env: dict[str, str]) -> None:
    result = run_cli(env, "search", "titel:brexit")
    assert result.returncode == 2 and "unknown field 'titel'" in result.stderr


def test_the_api_returns_the_note(api: TestClient) -> None:
    answer = api.get("/api/search", params={"q": "Brexit: transition"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 1 and "'Brexit' is not a field" in body["notes"][0]
    plain = api.get("/api/search", params={"q": "brexit transition"}).json()
    assert "notes" not in plain and plain["total"] == 1


def test_seed_pages_are_there() -> None:
    assert any(p.name == "brexit-day-uk-leaves-eu.html" for p in SEED_PAGES), Path("seeds") / "articles"
