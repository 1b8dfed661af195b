"""A corrected feed entry updates its document in place: poll → fetch → extract →
index through the stage functions, with a real Redis, the real fixture server
and a real Tantivy index (no NER: entities are not what is tested here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.site import Canned, FixtureSite, rss
from workers.core.ids import document_id, pin_id_version
from workers.core.models import Feed, FeedItem
from workers.net.http import make_client
from workers.pipeline.extract.article import extract_article
from workers.pipeline.fetch.page import fetch_page
from workers.pipeline.index.batch import index_batch
from workers.pipeline.poll.cycle import run_poll
from workers.runtime import Runtime
from workers.search.backend import SearchBackend
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings


@pytest.fixture
def backend(settings: Settings) -> Iterator[TantivyBackend]:
    index = TantivyBackend(settings.index_dir, writer=True)
    yield index
    index.close()


def _through_the_pipeline(runtime: Runtime, backend: SearchBackend, client: httpx.Client,
                          sent: list[dict[str, Any]]) -> None:
    for item_json in sent:
        item = FeedItem.model_validate(item_json)
        # As the extract task does: an item known under a legacy id keeps it.
        article = pin_id_version(extract_article(fetch_page(item, runtime.settings, client), runtime.settings, None),
                                 item.id_version)
        outcome = index_batch([{"article": article.model_dump(mode="json"), "done": [item.doc_id]}],
                              lambda: backend, max_attempts=2)
        assert outcome.indexed == 1, outcome
        runtime.tracker.finish(outcome.done)
    sent.clear()


def test_a_correction_updates_the_document_in_place(runtime: Runtime, backend: TantivyBackend,
                                                    site: FixtureSite) -> None:
    link = site.url("/articles/berlin-budget.html")
    extra = "<description>{}</description><pubDate>Tue, 02 Mar 2021 09:00:00 +0000</pubDate>"
    site.dynamic["corrected"] = Canned(body=rss("Corrections", [("Budget", f"{link}?utm_source=rss")],
                                                item_extra=extra.format("Cabinet agrees a budget of 400 billion.")))
    feed = Feed(url=site.url("/dyn/corrected"), collections=["Germany", "Politics"])
    runtime.registry.add(feed)
    sent: list[dict[str, Any]] = []
    with make_client(runtime.settings, timeout_s=2.0) as client:
        assert run_poll(runtime, feed, sent.append)["new"] == 1
        doc_id = sent[0]["doc_id"]
        _through_the_pipeline(runtime, backend, client, sent)
        first = backend.get(doc_id)
        assert first is not None and "400 billion" in (first.summary or "")
        assert first.collections == ["Germany", "Politics"]
        assert backend.search(SearchQuery(filters={"collections": ["Germany"]})).total == 1

        # Polled again, unchanged: nothing to do. Another feed links a tracking variant: the same document.
        assert run_poll(runtime, feed, sent.append) == {"feed": feed.url, "status": 200, "new": 0, "corrected": 0}
        site.dynamic["variant"] = Canned(body=rss("Variant", [("Budget", f"{link}?fbclid=abc&utm_medium=x")]))
        variant = run_poll(runtime, Feed(url=site.url("/dyn/variant")), sent.append)
        assert (variant["new"], variant["corrected"], sent) == (0, 0, [])  # its other blurb is no correction

        # The entry is corrected: fetched again, indexed under the same id, not a second document.
        site.dynamic["corrected"] = Canned(body=rss("Corrections", [("Budget", f"{link}?utm_source=rss")],
                                                    item_extra=extra.format("Correction: the budget is 420 billion.")))
        assert run_poll(runtime, feed, sent.append)["corrected"] == 1
        assert [s["doc_id"] for s in sent] == [doc_id]
        _through_the_pipeline(runtime, backend, client, sent)
    assert backend.count() == 1
    updated = backend.get(doc_id)
    assert updated is not None and "420 billion" in (updated.summary or "")
    assert updated.indexed_at is not None and first.indexed_at is not None and updated.indexed_at > first.indexed_at


def test_a_document_indexed_under_its_v1_id_is_updated_not_duplicated(runtime: Runtime, backend: TantivyBackend,
                                                                       site: FixtureSite) -> None:
    link = site.url("/articles/nairobi-drought.html?utm_source=rss&utm_medium=feed")
    legacy = document_id(link, 1)
    extra = "<description>{}</description>"
    site.dynamic["legacy"] = Canned(body=rss("Legacy", [("Drought", link)], item_extra=extra.format("First.")))
    feed = Feed(url=site.url("/dyn/legacy"))
    sent: list[dict[str, Any]] = []
    with make_client(runtime.settings, timeout_s=2.0) as client:
        # Before the upgrade: the item was indexed under the version-1 id of its URL, parameters and all.
        before = FeedItem(doc_id=legacy, url=link, feed_url=feed.url, id_version=1, summary="First.")
        _through_the_pipeline(runtime, backend, client, [before.model_dump(mode="json")])
        assert backend.get(legacy) is not None
        # After it: polled again, the item is known under that id; corrected, it updates that document.
        assert run_poll(runtime, feed, sent.append)["new"] == 0
        site.dynamic["legacy"] = Canned(body=rss("Legacy", [("Drought", link)], item_extra=extra.format("Fixed.")))
        assert run_poll(runtime, feed, sent.append)["corrected"] == 1
        assert sent[0]["doc_id"] == legacy
        _through_the_pipeline(runtime, backend, client, sent)
    assert backend.count() == 1
    updated = backend.get(legacy)
    assert updated is not None and updated.summary == "Fixed." and updated.id_version == 1
    assert backend.get(document_id(link)) is None
