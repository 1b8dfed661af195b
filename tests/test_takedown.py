"""Takedowns: the blocklist in a real Redis and where it is checked (poll, fetch, index), deletions that clear
near-duplicate fingerprints, the delete-by-query body against Elasticsearch's spec, and the CLI end to end."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import cli_environment, run_cli
from tests.es_spec import schema_errors
from tests.site import Canned, FixtureSite, rss
from tests.syndication import base_texts
from workers.core.errors import ConfigError
from workers.core.ids import document_id
from workers.core.models import Article, DateSource, Feed
from workers.neardup.clusters import ClusterStore
from workers.neardup.fingerprint import FingerprintParams
from workers.ops.takedown import execute
from workers.pipeline.index.deletion import Selection, apply_deletion_message, delete_selected
from workers.pipeline.poll.cycle import run_poll
from workers.runtime import Runtime
from workers.search.elasticsearch import requests as rq
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings
from workers.state.blocklist import Blocklist, drop_blocked_articles, drop_blocked_page, normalize_domain

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def doc(key: str, *, domain: str = "example.org", body: str | None = None, published_at: datetime = T0) -> Article:
    url = f"https://{domain}/news/{key}"
    return Article(id=document_id(url), id_version=2, url=url, domain=domain, title=f"Story {key}",
                   body=body or f"The story called {key} in full.", published_at=published_at,
                   date_source=DateSource.PAGE, fetched_at=T0)


# -- the blocklist --------------------------------------------------------------------------------------------


def test_a_url_is_blocked_under_every_id_version_and_a_domain_with_its_subdomains(runtime: Runtime) -> None:
    listed = Blocklist(runtime.redis, runtime.settings.namespace)
    assert listed.empty()
    listed.block_url("https://news.example/story?utm_source=x&b=2&a=1")
    assert listed.is_blocked("https://NEWS.example/story?a=1&b=2")  # the canonical form (id version 2)
    assert listed.is_blocked("https://news.example/story?utm_source=x&b=2&a=1")  # and its version-1 id
    assert not listed.is_blocked("https://news.example/other")
    assert listed.block_domain("WWW.Bad-Site.example.") == "www.bad-site.example"
    listed.block_domain("https://spam.example/whatever")
    assert listed.blocked(["https://spam.example/a", "https://deep.sub.spam.example/b", "https://notspam.example/c",
                           "https://www.bad-site.example/x", "https://bad-site.example/x", None]) == [
        True, True, False, True, False, False]
    assert listed.entries().to_json() == {"urls": ["https://news.example/story?utm_source=x&b=2&a=1"],
                                          "domains": ["spam.example", "www.bad-site.example"]}
    assert listed.remove("https://news.example/story?a=1&b=2") and listed.remove("spam.example")
    assert not listed.remove("spam.example")
    assert not listed.is_blocked("https://news.example/story?a=1&b=2", "https://spam.example/a")


@pytest.mark.parametrize("bad", ["", "  ", "a b.example", "https://", "x/y"])
def test_a_domain_that_is_no_domain_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalize_domain(bad)
    assert caught.value.reason == "config.domain"


def test_the_poll_drops_blocked_items_and_counts_them(runtime: Runtime, site: FixtureSite) -> None:
    items = [("Keep", "https://keep.example/1"), ("Gone", "https://gone.example/1"),
             ("Sub", "https://www.gone.example/2"), ("Url", "https://keep.example/taken-down?utm_medium=rss")]
    site.dynamic["takedown-feed"] = Canned(body=rss("Takedowns", items))
    listed = Blocklist(runtime.redis, runtime.settings.namespace)
    listed.block_domain("gone.example")
    listed.block_url("https://keep.example/taken-down")
    sent: list[dict[str, Any]] = []
    url = site.url("/dyn/takedown-feed")
    runtime.registry.add(Feed(url=url))
    outcome = run_poll(runtime, Feed(url=url), sent.append)
    assert [s["url"] for s in sent] == ["https://keep.example/1"]
    assert outcome["new"] == 1
    assert runtime.redis.hget(runtime.keys.stats, "poll.blocked") == "3"
    assert runtime.tracker.inflight_count() == 1  # blocked items are never claimed


def test_fetch_and_index_drop_blocked_items_quietly(runtime: Runtime) -> None:
    listed = Blocklist(runtime.redis, runtime.settings.namespace)
    assert not drop_blocked_page(runtime, "id1", "https://a.example/x")  # empty list: nothing checked
    listed.block_domain("a.example")
    runtime.tracker.claim("id1", "{}")
    # The item URL, or where it redirected to: either blocks it, and it is done (seen), not dead-lettered.
    assert drop_blocked_page(runtime, "id1", "https://elsewhere.example/r") is False
    assert drop_blocked_page(runtime, "id1", "https://news.a.example/x")
    assert runtime.tracker.is_seen("id1") and runtime.tracker.inflight_count() == 0
    assert runtime.dead_letters.list() == []
    assert runtime.redis.hget(runtime.keys.stats, "fetch.blocked") == "1"
    kept_doc, gone_doc = doc("k", domain="b.example"), doc("g", domain="a.example")
    payloads = [{"article": kept_doc.model_dump(mode="json"), "done": ["item-k"]},
                {"article": gone_doc.model_dump(mode="json"), "done": ["item-g"]}]
    assert drop_blocked_articles(runtime, payloads) == payloads[:1]
    assert runtime.tracker.is_seen("item-g") and runtime.tracker.is_seen(gone_doc.id)
    assert runtime.redis.hget(runtime.keys.stats, "index.blocked") == "1"


# -- deleting ---------------------------------------------------------------------------------------------------


def test_deleting_clears_the_fingerprint_and_fixes_the_cluster_left_behind(tmp_path: Path, redis_url: str,
                                                                          namespace: str) -> None:
    store = ClusterStore(redis.Redis.from_url(redis_url, decode_responses=True), namespace, FingerprintParams())
    body = base_texts()[2][1]
    first, copy, other = (doc("first", body=body, published_at=T0),
                          doc("copy", body=body + "\nAdvertisement", published_at=T0 + timedelta(hours=1)),
                          doc("other", body=base_texts()[3][1]))
    backend = TantivyBackend(tmp_path / "index", writer=True)
    try:
        for article in (first, copy, other):
            store.add(article.id, article.body, article.published_at)
        articles = [first, copy, other]
        backend.upsert([*articles, *store.refresh(articles, backend)])
        assert backend.get(copy.id).cluster_id == first.id  # type: ignore[union-attr]
        assert delete_selected(backend, store, Selection(ids=[first.id])) == 1
        left = backend.get(copy.id)
        assert left is not None and (left.cluster_id, left.duplicates) == (copy.id, 0)
        assert not store.redis.exists(f"{store.prefix}fp:{first.id}", f"{store.prefix}of:{first.id}")
        # A new copy of the deleted story finds the remaining copy, not the deleted one.
        again = store.add("again", body, T0 + timedelta(hours=2))
        assert again is not None and (again.cluster_id, again.size) == (copy.id, 2)
    finally:
        backend.close()


def test_a_url_finds_a_document_whose_id_comes_from_its_canonical_url(tmp_path: Path) -> None:
    canonical = doc("canon", domain="c.example")
    stored = canonical.model_copy(update={"url": "https://c.example/amp/canon?src=feed",
                                          "canonical_url": canonical.url})
    backend = TantivyBackend(tmp_path / "index", writer=True)
    try:
        backend.upsert([stored, doc("other", domain="c.example")])
        assert document_id(stored.url) != stored.id
        assert delete_selected(backend, None, Selection(urls=[stored.url])) == 1
        assert backend.get(stored.id) is None and backend.count() == 1
    finally:
        backend.close()


def test_the_index_worker_applies_a_deletion_message_and_answers(runtime: Runtime) -> None:
    old, new = doc("old", published_at=T0 - timedelta(days=100)), doc("new", published_at=T0)
    runtime.index_writer.upsert([old, new])
    reply = f"{runtime.settings.namespace}:deletion-reply:test"
    apply_deletion_message(runtime, {"selection": Selection(before=T0 - timedelta(days=90)).to_json(),
                                      "reply": reply})
    assert json.loads(runtime.redis.lpop(reply)) == {"deleted": 1}
    assert runtime.index_writer.ids_where(SearchQuery()) == [new.id]
    assert runtime.redis.hget(runtime.keys.stats, "index.deleted") == "1"


def test_the_delete_by_query_body_is_exact_and_follows_the_spec() -> None:
    query = SearchQuery(filters={"domain": ["example.com", "news.example.com"]}, until=T0)
    body = rq.delete_by_query_body(query)
    assert body == {"query": {"bool": {"must": [{"match_all": {}}], "filter": [
        {"bool": {"should": [{"term": {"domain": {"value": "example.com", "case_insensitive": True}}},
                             {"term": {"domain": {"value": "news.example.com", "case_insensitive": True}}}],
                  "minimum_should_match": 1}},
        {"range": {"published_at": {"lte": "2024-03-01T12:00:00Z"}}}]}}}
    assert schema_errors(body, "/{index}/_delete_by_query") == []
    assert schema_errors({"query": {"range": {"published_at": {"lte": ["x"]}}}}, "/{index}/_delete_by_query")


# -- the CLI ------------------------------------------------------------------------------------------------------


@pytest.mark.slow  # six CLI processes
def test_delete_with_block_from_the_cli(tmp_path: Path, redis_url: str, namespace: str) -> None:
    data_dir = tmp_path / "data"
    env = cli_environment(data_dir, redis_url, namespace)
    docs = [doc("a", domain="takedown.example"), doc("b", domain="news.takedown.example"), doc("c"),
            doc("d", domain="other.example")]
    backend = TantivyBackend(data_dir / "index", writer=True)
    backend.upsert(docs)
    backend.close()

    done = run_cli(env, "delete", "--url", docs[2].url + "?utm_source=tw", "--block")
    assert done.returncode == 0, done.stderr
    assert "1 documents deleted (here)" in done.stdout
    done = run_cli(env, "delete", "--domain", "takedown.example")
    assert done.returncode == 0, done.stderr
    assert "2 documents deleted" in done.stdout
    reader = TantivyBackend(data_dir / "index")
    assert reader.ids_where(SearchQuery()) == [docs[3].id]

    listed = json.loads(run_cli(env, "blocklist", "list", "--json").stdout)
    assert listed == {"urls": [docs[2].url + "?utm_source=tw"], "domains": []}
    assert run_cli(env, "blocklist", "remove", docs[2].url).returncode == 0
    gone = run_cli(env, "blocklist", "remove", docs[2].url)
    assert gone.returncode == 2 and "config.not_blocked" in gone.stderr
    usage = run_cli(env, "delete", "--url", docs[3].url, "--domain", "other.example")
    assert usage.returncode == 2 and "exactly one of --url or --domain" in usage.stderr
    assert reader.count() == 1


def test_a_takedown_on_elasticsearch_deletes_there_directly(tmp_path: Path, settings: Settings) -> None:
    from tests.conformance.conftest import NO_CLUSTER, open_for_test

    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip(NO_CLUSTER)
    backend, remove = open_for_test("elasticsearch", tmp_path)
    try:
        alias = getattr(backend, "alias", "")
        on_es = settings.model_copy(update={"elasticsearch_url": url, "elasticsearch_index": alias})
        backend.upsert([doc("a", domain="gone.example"), doc("b", domain="www.sub.gone.example"), doc("c")])
        report = execute(on_es, Selection(domain="gone.example"), wait_s=5)
        assert (report.where, report.deleted, report.queued) == ("elasticsearch", 2, False)
        assert backend.ids_where(SearchQuery()) == [doc("c").id]
    finally:
        remove()
