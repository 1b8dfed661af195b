"""Choosing what to reprocess through a real Tantivy index, and rebuilding each page from its article."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from tests.conformance.corpus import article
from tests.conftest import cli_environment, documentation, run_cli
from workers.archive.read import page_with_html
from workers.archive.write import ArchiveWriter, archive_root
from workers.core.models import PIPELINE_VERSION, BodySource, DateSource, FeedItem
from workers.ops import reprocess
from workers.ops.reprocess import Selection, choose, page_for
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings
from workers.state import Keys

START = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture
def backend(tmp_path: Path) -> TantivyBackend:
    writer = TantivyBackend(tmp_path / "index", writer=True)
    writer.upsert([
        article(f"n{i}", title=f"Story {i}", body=f"Body of story {i} about {'floods' if i % 3 == 0 else 'markets'}.",
                published_at=START + timedelta(hours=i // 4),  # four articles share each timestamp
                domain="a.example" if i % 2 else "b.example", pipeline_version=PIPELINE_VERSION - (i % 5 == 0))
        for i in range(120)
    ])
    return writer


def ids(backend: TantivyBackend, selection: Selection, **kwargs: int) -> list[str]:
    return [a.id for a in choose(backend, selection, **kwargs)]


def test_the_whole_selection_once_across_pages_and_date_windows(
        backend: TantivyBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = ids(backend, Selection())
    assert len(everything) == len(set(everything)) == 120
    # Windows of 21 articles, pages of 7: paging restarts from the last date seen, and a date shared across
    # the window's edge neither repeats nor loses an article.
    monkeypatch.setattr(reprocess, "_WINDOW", 21)
    assert sorted(ids(backend, Selection(), page_size=7)) == sorted(everything)


def test_filters_narrow_the_selection(backend: TantivyBackend) -> None:
    assert len(ids(backend, Selection(domain="a.example"))) == 60
    assert len(ids(backend, Selection(query="floods"))) == 40
    since = START + timedelta(hours=10)
    chosen = list(choose(backend, Selection(since=since, until=since + timedelta(hours=4))))
    assert len(chosen) == 20 and all(since <= a.published_at <= since + timedelta(hours=4) for a in chosen)


def test_page_is_rebuilt_from_the_article_and_its_archived_item(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    item = FeedItem(doc_id="doc-1", url="https://a.example/news/1", feed_url="https://a.example/feed.xml",
                    title="The feed's title", summary="The feed's summary", published_at=START)
    writer = ArchiveWriter(settings)
    ref = writer.write_response(item.url, 200, [("Content-Type", "text/html; charset=utf-8")],
                                "<html><p>Grüße</p></html>".encode(), kind="page", item=item)
    writer.close()
    stored = article("1", title="A title", body="First line\nSecond & line", published_at=START,
                     domain="a.example", date_source=DateSource.FEED, body_source=BodySource.FEED,
                     archive_path=ref.path, archive_offset=ref.offset, archive_length=ref.length, id_version=2)
    page = page_for(stored, archive_root(settings))
    assert page is not None and page.reprocess and page.archive == ref and page.html == ""
    assert page.item.doc_id == stored.id and page.item.published_at == START
    assert page.item.content_html == "<p>First line</p><p>Second &amp; line</p>"
    # In the worker the archived feed item replaces the rebuilt one; the document id stays the article's.
    read = page_with_html(page, archive_root(settings))
    assert "Grüße" in read.html
    assert read.item.title == "The feed's title" and read.item.summary == "The feed's summary"
    assert (read.item.doc_id, read.item.id_version) == (stored.id, 2)
    # No pointer, or a pruned file: nothing to reprocess from.
    assert page_for(stored.model_copy(update={"archive_path": None}), archive_root(settings)) is None
    (archive_root(settings) / ref.path).unlink()
    assert page_for(stored, archive_root(settings)) is None


def test_with_running_workers_elsewhere_it_sends_the_pages_and_returns(
        tmp_path: Path, redis_url: str, namespace: str, redis_client: redis.Redis) -> None:
    """A deployment (REDIS_URL): the pages wait in the extract queue for the running workers, in flight."""
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    writer = ArchiveWriter(settings)
    stored = []
    for i in range(3):
        url = f"https://a.example/news/{i}"
        ref = writer.write_response(url, 200, [("Content-Type", "text/html")], b"<html><p>text</p></html>",
                                    kind="page")
        stored.append(article(str(i), title=f"Story {i}", body="text", published_at=START, domain="a.example",
                              archive_path=ref.path, archive_offset=ref.offset, archive_length=ref.length))
    writer.close()
    stored.append(article("no-page", title="Unarchived", body="text", published_at=START, domain="a.example"))
    index = TantivyBackend(data_dir / "index", writer=True)
    index.upsert(stored)
    index.close()
    done = run_cli(cli_environment(data_dir, redis_url, namespace), "reprocess", "--domain", "a.example", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["chosen"], summary["queued"], summary["skipped_no_archive"], summary["pending"]) == (4, 3, 1, 3)
    keys = Keys(namespace)
    assert redis_client.llen(keys.queue("extract")) == 3
    assert {a.id for a in stored[:3]} == set(redis_client.zrange(keys.inflight, 0, -1))


def test_the_command_is_documented() -> None:
    readme = documentation()
    assert "newsworkers reprocess" in readme and "PIPELINE_VERSION" in readme
