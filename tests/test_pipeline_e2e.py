"""End to end with real processes: `newsworkers run --once` starts Redis (or
uses the test's), real Celery workers for all four queues and the scheduler,
and the articles come out searchable in a real Tantivy index."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import feedparser
import pytest

from tests.conftest import ROOT, newsworkers_cli
from tests.site import ARTICLES, FixtureSite
from workers.core.models import Article
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend

pytestmark = pytest.mark.slow

SEED_FEEDS = sorted((ROOT / "seeds" / "feeds").iterdir())


def cli(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*newsworkers_cli(), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


def search_json(query: str, env: dict[str, str], *extra: str) -> dict:
    result = cli("search", query, "--json", *extra, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def by_url(backend: TantivyBackend, url: str) -> Article | None:
    """The document indexed for a feed item's URL (its id may come from the page's canonical URL)."""
    found = backend.search(SearchQuery(text=f'url:"{url}"', limit=2))
    assert found.total <= 1, f"{url} is indexed {found.total} times"
    return backend.get(found.hits[0].id) if found.hits else None


def seed_item_urls() -> list[str]:
    urls = []
    for path in SEED_FEEDS:
        for entry in feedparser.parse(path.read_bytes()).entries:
            urls.append((path.parent / entry.link).resolve().as_uri())
    return urls


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One embedded-defaults run over the offline corpus, as the README's first command does it."""
    data_dir = tmp_path_factory.mktemp("seeded") / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env["NEWSWORKERS_DATA_DIR"] = str(data_dir)
    result = cli("run", "--once", "--timeout", "180", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    env["_RUN_OUTPUT"] = result.stdout
    return env


def test_every_seed_article_is_searchable(seeded: dict[str, str]) -> None:
    backend = TantivyBackend(Path(seeded["NEWSWORKERS_DATA_DIR"]) / "index")
    urls = seed_item_urls()
    assert len(urls) >= 20
    missing = [u for u in urls if by_url(backend, u) is None]
    assert missing == []
    assert backend.count() == len(urls)
    assert f"{len(urls)} articles indexed" in seeded["_RUN_OUTPUT"]


def test_seed_article_is_top_hit_with_its_date_and_places(seeded: dict[str, str]) -> None:
    result = search_json("Baghdad embassy rocket attack", seeded)
    top = result["hits"][0]
    assert "baghdad-embassy-rocket-attack" in top["url"]
    assert top["published_at"].startswith("2020-01-27")
    assert {"Baghdad", "Iraq", "Iran"} <= set(top["locations"])
    assert top["language"] == "en"
    assert set(top) >= {"id", "url", "title", "published_at", "source_name", "domain", "language", "authors",
                        "persons", "organizations", "locations", "groups", "events", "snippet"}


def test_json_search_shape_and_facets(seeded: dict[str, str]) -> None:
    result = search_json("", seeded, "--facet", "locations", "--facet", "source_name", "--limit", "3")
    assert result["total"] == len(seed_item_urls())
    assert len(result["hits"]) == 3
    assert {f["value"] for f in result["facets"]["source_name"]} == {
        "Meridian Herald — World", "Northwind Tribune — Science & Technology", "Atlas Wire — International"}
    filtered = search_json("", seeded, "--filter", "locations=baghdad", "--filter", "locations=Nowhere")
    assert filtered["total"] >= 1
    assert all("Baghdad" in hit["locations"] for hit in filtered["hits"])


def test_the_broken_seed_page_is_indexed_from_its_feed_fields(seeded: dict[str, str]) -> None:
    backend = TantivyBackend(Path(seeded["NEWSWORKERS_DATA_DIR"]) / "index")
    url = next(u for u in seed_item_urls() if u.endswith("broken-page.html"))
    article = by_url(backend, url)
    assert article is not None
    assert article.body_source == "feed"
    assert article.extraction_error
    assert article.title and article.body


def test_rerunning_the_same_poll_indexes_no_duplicates(seeded: dict[str, str]) -> None:
    before = search_json("", seeded)["total"]
    result = cli("run", "--once", "--timeout", "120", env=seeded)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 articles indexed" in result.stdout
    assert search_json("", seeded)["total"] == before


@pytest.fixture(scope="module")
def http_run(tmp_path_factory: pytest.TempPathFactory, site: FixtureSite, redis_url: str) -> dict[str, str]:
    """Feeds on the loopback HTTP server, good and broken, through the test's Redis."""
    data_dir = tmp_path_factory.mktemp("http") / "data"
    env = {**os.environ, "REDIS_URL": redis_url, "NEWSWORKERS_NAMESPACE": f"e2e{os.getpid()}",
           "NEWSWORKERS_DATA_DIR": str(data_dir), "NEWSWORKERS_FEED_TIMEOUT_S": "1.5",
           "NEWSWORKERS_FETCH_TIMEOUT_S": "3", "NEWSWORKERS_MAX_RETRIES": "1",
           "NEWSWORKERS_RETRY_BACKOFF_S": "0.2", "NEWSWORKERS_FETCH_MAX_BYTES": "1000000"}
    env.pop("ELASTICSEARCH_URL", None)
    for path in ("news.xml", "other.atom", "missing.xml", "slow.xml", "notafeed.xml", "local-link.xml"):
        added = cli("feeds", "add", site.url(f"/feeds/{path}"), "--no-check", env=env)  # broken ones too
        assert added.returncode == 0, added.stderr
    result = cli("run", "--once", "--timeout", "120", env=env)
    env["_RUN_OUTPUT"] = result.stdout + result.stderr
    env["_RUN_CODE"] = str(result.returncode)
    yield env
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{env['NEWSWORKERS_NAMESPACE']}:*"))
    if keys:
        client.delete(*keys)


def test_http_run_exits_zero_when_every_failure_is_expected(http_run: dict[str, str]) -> None:
    assert http_run["_RUN_CODE"] == "0", http_run["_RUN_OUTPUT"]


def test_broken_feeds_are_recorded_with_their_reason(http_run: dict[str, str], site: FixtureSite) -> None:
    status = json.loads(cli("feeds", "status", "--json", env=http_run).stdout)
    by_url = {row["url"]: row for row in status}
    assert by_url[site.url("/feeds/missing.xml")]["last_reason"] == "feed.http_404"
    assert by_url[site.url("/feeds/slow.xml")]["last_reason"] == "feed.timeout"
    assert by_url[site.url("/feeds/notafeed.xml")]["last_reason"] == "feed.not_a_feed"
    assert by_url[site.url("/feeds/news.xml")]["error_streak"] == 0
    assert by_url[site.url("/feeds/news.xml")]["items_total"] == 6


def test_dead_pages_and_refused_urls_are_dead_lettered(http_run: dict[str, str], site: FixtureSite) -> None:
    letters = json.loads(cli("failed", "list", "--json", env=http_run).stdout)
    reasons = {letter["url"]: letter["reason"] for letter in letters}
    assert reasons[site.url("/articles/gone.html")] == "fetch.http_404"
    refused = [url for url, reason in reasons.items() if url.startswith("file:")]
    assert len(refused) == 1 and reasons[refused[0]] == "fetch.file_refused"
    assert refused[0].endswith("/etc/passwd")
    assert len(letters) == 2


def test_good_articles_get_through_and_redirects_make_one_document(http_run: dict[str, str]) -> None:
    result = search_json("", http_run, "--limit", "50")
    titles = sorted(hit["title"] for hit in result["hits"])
    expected = sorted([t for t, _d, _p in ARTICLES.values()] +
                      ["Live: markets react to the central bank's surprise rate cut"])
    assert titles == expected  # tokyo-chip-plant reached twice (redirect + direct link) is one document


def test_page_that_fails_extraction_is_indexed_from_feed_fields(http_run: dict[str, str], site: FixtureSite) -> None:
    backend = TantivyBackend(Path(http_run["NEWSWORKERS_DATA_DIR"]) / "index")
    article = by_url(backend, site.url("/articles/broken.html"))
    assert article is not None
    assert article.body_source == "feed"
    assert "central bank cut its main rate" in article.body
    assert article.published_at.date().isoformat() == "2021-03-15"
    assert article.date_source == "feed"


def test_second_poll_is_conditional_and_adds_nothing(http_run: dict[str, str], site: FixtureSite) -> None:
    before = search_json("", http_run)["total"]
    hits = site.hits["/feeds/news.xml"]
    result = cli("run", "--once", "--timeout", "120", env=http_run)
    assert result.returncode == 0, result.stdout + result.stderr
    assert site.hits["/feeds/news.xml"] == hits + 1
    assert search_json("", http_run)["total"] == before
    assert "0 articles indexed" in result.stdout
    assert search_json("Kenyatta drought", http_run)["hits"][0]["title"].startswith("Drought pushes Kenyan")


def test_losing_redis_costs_a_repoll_never_a_duplicate(seeded: dict[str, str]) -> None:
    before = search_json("", seeded)["total"]
    shutil.rmtree(Path(seeded["NEWSWORKERS_DATA_DIR"]) / "redis")  # seen set, feed state, queues: all gone
    result = cli("run", "--once", "--timeout", "180", env=seeded)
    assert result.returncode == 0, result.stdout + result.stderr
    # Everything is polled again; what the index already holds may be answered by it (the seen window's
    # lookup past Redis) instead of fetched again, so at most the whole corpus is processed again...
    again = re.search(r"(\d+) articles indexed", result.stdout)
    assert again is not None and int(again.group(1)) <= before, result.stdout
    assert search_json("", seeded)["total"] == before  # ...and never into a second document
