"""Backfill end to end on embedded defaults: `newsworkers backfill` starts Redis and real workers, and the pages
come out searchable in a real Tantivy index. A WARC backfill SIGKILLed mid-file continues at its checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import redis as redis_lib

from tests.conftest import ROOT, newsworkers_cli, wait_until
from tests.site import FixtureSite
from tests.sitemaps import NEWS_PAGES, PLAIN_PAGES
from tests.test_backfill import page_url, write_warc
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend

pytestmark = pytest.mark.slow


def _embedded_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env["NEWSWORKERS_DATA_DIR"] = str(data_dir)
    env.update({f"NEWSWORKERS_{k.upper()}": v for k, v in settings.items()})
    return env


def _indexed_once(backend: TantivyBackend, url: str) -> bool:
    return backend.search(SearchQuery(text=f'url:"{url}"', limit=3)).total == 1


def _checkpoint(data_dir: Path) -> dict:
    url_file = data_dir / "redis.url"
    if not url_file.exists():
        return {}
    try:
        client = redis_lib.Redis.from_url(url_file.read_text().strip(), decode_responses=True)
        for key in client.scan_iter(match="*:backfill:warc-*"):
            for field, value in client.hgetall(key).items():
                if field.startswith("u:"):
                    return json.loads(value)
    except redis_lib.RedisError:
        return {}
    return {}


def test_a_warc_backfill_killed_mid_file_continues_and_indexes_every_article_once(tmp_path: Path) -> None:
    warc = tmp_path / "history.warc.gz"
    pages = 150
    total = write_warc(warc, pages)
    data_dir = tmp_path / "data"
    env = _embedded_env(data_dir, backfill_checkpoint_every="5", backfill_max_queued="10")
    command = [*newsworkers_cli(), "backfill", "warc", str(warc), "--json"]
    first = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _checkpoint(data_dir).get("records", 0) >= 40, timeout_s=180, what="40 records saved")
    finally:
        first.kill()  # SIGKILL: no goodbye, no last checkpoint
        first.wait(timeout=30)
    time.sleep(1.0)  # its Redis and workers follow it down (they die with their parent)
    second = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-3000:]
    summary = json.loads(second.stdout)
    assert 40 <= summary["resumed_after"] < total  # it was killed mid-file, after saving 40 records or more
    assert summary["records_read"] + summary["resumed_after"] == total  # nothing past the checkpoint read twice
    assert summary["finished"] and summary["failed"] == {}
    backend = TantivyBackend(data_dir / "index")
    assert backend.count() == pages
    assert all(_indexed_once(backend, page_url(n)) for n in range(pages))


def test_a_news_sitemap_backfill_fetches_and_indexes_its_articles(tmp_path: Path, site: FixtureSite) -> None:
    data_dir = tmp_path / "data"
    result = subprocess.run([*newsworkers_cli(), "backfill", "sitemap", site.url("/sitemaps/index.xml"), "--since",
                             "2020-01-01", "--json"], env=_embedded_env(data_dir), cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert (summary["mode"], summary["finished"], summary["indexed"]) == ("own", True, 9)
    backend = TantivyBackend(data_dir / "index")
    assert backend.count() == len(NEWS_PAGES) + len(PLAIN_PAGES)
    assert all(_indexed_once(backend, site.url(p)) for p in (*NEWS_PAGES, *PLAIN_PAGES))
