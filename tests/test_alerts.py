"""Saved searches: validation, the Redis store, the in-memory matcher against the real index, index-time matching
and the Atom feed. Real Redis, real Tantivy indexes (on disk and in memory), the real index batch code."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import feedparser
import pytest

from workers.alerts.atom import atom_feed
from workers.alerts.matcher import BatchMatcher
from workers.alerts.service import AlertExists, Alerts, UnknownAlert
from workers.alerts.store import AlertStore, SavedSearch, entry_of, validate_saved_search
from workers.core.errors import QuerySyntaxError
from workers.core.ids import document_id
from workers.core.models import Article, DateSource
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings
from workers.state import DeadLetter, Keys
from workers.worker.alert_tasks import AlertHooks
from workers.worker.app import create_app

T0 = datetime(2020, 1, 5, 12, tzinfo=UTC)


def article(n: int, title: str, body: str, *, days: int = 0, **extra: Any) -> Article:
    url = f"https://news.example/{n}"
    fields: dict[str, Any] = {
        "id": document_id(url), "id_version": 1, "url": url, "domain": "news.example", "title": title,
        "body": body, "published_at": T0 + timedelta(days=days), "date_source": DateSource.PAGE,
        "fetched_at": T0, "language": "en", "source_name": "Example News",
    }
    fields.update(extra)
    return Article(**fields)


CORPUS = [
    article(1, "Rockets hit Baghdad embassy", "Several rockets struck near the US embassy in Baghdad.",
            locations=["Baghdad", "Iraq"], persons=["Qassem Soleimani"]),
    article(2, "Drone strike kills general", "A drone strike killed Qassem Soleimani at Baghdad airport.",
            days=1, persons=["Qassem Soleimani"], locations=["Baghdad"]),
    article(3, "Bushfires in Australia", "Rain brings relief to firefighters in New South Wales.", days=2,
            locations=["Australia"], language="en"),
    article(4, "Brexit day", "The United Kingdom leaves the European Union. Embassy staff celebrate.", days=3,
            locations=["United Kingdom"], organizations=["European Union"]),
    article(5, "Locust swarms", "Swarms of locusts damage crops in Kenya and Ethiopia.", days=4,
            locations=["Kenya", "Ethiopia"], language="de"),
]

QUERIES = [
    ("soleimani", "Soleimani", {}),
    ("embassy", "embassy", {}),
    ("phrase", '"drone strike"', {}),
    ("stemmed", "rocket", {}),  # "Rockets" in the title and body
    ("fielded", "title:brexit", {}),
    ("facet", "locations:iraq", {}),
    ("boolean", "embassy AND NOT baghdad", {}),
    ("or", "locusts OR bushfires", {}),
    ("filtered", "", {"locations": ["Kenya", "australia"]}),
    ("both", "embassy", {"locations": ["Baghdad"]}),
    ("language", "swarms", {"language": ["en"]}),
    ("none", "volcano", {}),
]


@pytest.fixture
def store(redis_client: Any, namespace: str) -> AlertStore:
    return AlertStore(redis_client, Keys(namespace), matches_max=3)


# -- validation --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "query", "filters", "webhook", "message"), [
    ("bad name", "x", None, None, "alert name"),
    ("../etc", "x", None, None, "alert name"),
    ("-lead", "x", None, None, "alert name"),
    ("x" * 65, "x", None, None, "alert name"),
    ("ok", '"unbalanced', None, None, "quote"),
    ("ok", "a AND", None, None, "AND"),
    ("ok", "x", {"colour": ["red"]}, None, "unknown facet"),
    ("ok", "", None, None, "needs a query"),
    ("ok", "x", None, "ftp://example.org/hook", r"http\(s\) URL"),
    ("ok", "x", None, "not a url", r"http\(s\) URL"),
    ("ok", "x", None, "http://[::1/hook", r"http\(s\) URL"),
    ("ok", "x", None, "http://h:99999/hook", r"http\(s\) URL"),
])
def test_bad_saved_searches_are_refused_clearly(name: str, query: str, filters: Any, webhook: Any,
                                                message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message) as caught:
        validate_saved_search(name, query, filters, webhook)
    assert caught.value.reason == "query.syntax"


def test_a_good_saved_search_is_normalized() -> None:
    saved = validate_saved_search("Iraq_news-1", "embassy", {"locations": [" Iraq ", ""], "persons": [" "]},
                                  "https://hooks.example/x")
    assert saved.filters == {"locations": ["Iraq"]}
    assert saved.webhook == "https://hooks.example/x"
    assert datetime.fromisoformat(saved.created_at).tzinfo is not None


# -- the matcher means what a search means -----------------------------------------------------------------------


def test_the_batch_matcher_finds_exactly_what_a_search_of_the_index_finds(tmp_path: Path) -> None:
    backend = TantivyBackend(tmp_path / "index", writer=True)
    try:
        backend.upsert(CORPUS)
        searches = [SavedSearch(name=n, query=q, filters=f) for n, q, f in QUERIES]
        matched = BatchMatcher().match(CORPUS, searches)
        for saved in searches:
            expected = {h.id for h in backend.search(saved.search_query(limit=100)).hits}
            assert set(matched.get(saved.name, [])) == expected, saved.name
        # And the answers are the ones a reader expects, not merely the same wrong ones.
        ids = {a.id: n for n, a in enumerate(CORPUS, 1)}
        assert sorted(ids[i] for i in matched["soleimani"]) == [2]  # words search the text, not the facets
        assert sorted(ids[i] for i in matched["facet"]) == [1]
        assert sorted(ids[i] for i in matched["stemmed"]) == [1]
        assert sorted(ids[i] for i in matched["boolean"]) == [4]
        assert sorted(ids[i] for i in matched["filtered"]) == [3, 5]
        assert "language" not in matched  # the locust story is filed as German
        assert "none" not in matched
    finally:
        backend.close()


def test_a_batch_too_big_for_one_segment_is_matched_right() -> None:
    # Past the writer's heap the in-memory index flushes several segments, and hits are named by their
    # stored id instead of their place in the batch.
    words = " ".join(f"w{i}" for i in range(60000))
    batch = [article(i, f"t{i}", words + (" needle" if i % 2 == 0 else "")) for i in range(4)]
    found = BatchMatcher().match(batch, [SavedSearch(name="n", query="needle")])
    assert sorted(found["n"]) == sorted(a.id for a in batch if "needle" in a.body)


def test_the_matcher_handles_empty_input() -> None:
    matcher = BatchMatcher()
    assert matcher.match([], [SavedSearch(name="a", query="x")]) == {}
    assert matcher.match(CORPUS, []) == {}


# -- the store ---------------------------------------------------------------------------------------------------


def test_a_match_is_new_once_and_the_newest_are_kept(store: AlertStore) -> None:
    assert store.add(SavedSearch(name="a", query="x"))
    assert not store.add(SavedSearch(name="a", query="y"))  # the name is taken; the first stays
    assert store.get("a").query == "x"  # type: ignore[union-attr]
    entries = [entry_of(a) for a in CORPUS]
    assert [e.id for e in store.record("a", entries[:2])] == [entries[0].id, entries[1].id]
    assert store.record("a", entries[:2]) == []  # recorded before: nothing new, nothing to fire
    store.record("a", entries[2:])
    assert store.match_count("a") == 3  # capped at matches_max, the oldest published dropped
    assert [e.id for e in store.matches("a", limit=10)] == [e.id for e in reversed(entries[2:])]
    assert [e.id for e in store.matches("a", limit=2)] == [entries[4].id, entries[3].id]
    assert store.remove("a") and store.get("a") is None and store.match_count("a") == 0
    assert not store.remove("a")


def test_a_delivery_is_recorded_once(store: AlertStore) -> None:
    assert not store.delivered("a", "doc")
    assert store.mark_delivered("a", "doc", time.time())
    assert not store.mark_delivered("a", "doc", time.time())
    assert store.delivered("a", "doc") and store.delivered_pairs() == [("a", "doc")]


# -- add, remove, and matching each indexed batch --------------------------------------------------------------------


def test_a_new_saved_search_starts_with_what_is_indexed(settings: Settings, redis_client: Any) -> None:
    backend = TantivyBackend(settings.index_dir, writer=True)
    try:
        backend.upsert(CORPUS)
        alerts = Alerts(AlertStore(redis_client, Keys(settings.namespace)), settings, lambda: backend)
        saved, matches = alerts.add("soleimani", "Baghdad")
        assert matches == 2 and saved.webhook is None
        assert [e.url for e in alerts.store.matches("soleimani", limit=10)] == [CORPUS[1].url, CORPUS[0].url]
        with pytest.raises(AlertExists):
            alerts.add("soleimani", "other")
        with pytest.raises(QuerySyntaxError):
            alerts.add("broken", '"open')
        assert alerts.store.get("broken") is None
        alerts.remove("soleimani")
        with pytest.raises(UnknownAlert):
            alerts.remove("soleimani")
    finally:
        backend.close()


def index_request(article: Article) -> SimpleNamespace:
    """What ``_index_batch`` reads of one index message's Celery request: its args."""
    return SimpleNamespace(args=({"article": article.model_dump(mode="json"), "done": [article.id]},))


def test_each_indexed_batch_is_matched_and_a_reindex_fires_nothing(settings: Settings) -> None:
    from workers.worker.tasks import _index_batch

    app = create_app(settings)
    runtime = app.runtime
    hooks_queue = runtime.keys.queue("fetch")  # webhooks go to the I/O pool's queue
    alerts = Alerts(AlertStore(runtime.redis, runtime.keys), settings, lambda: runtime.index_writer)
    alerts.add("soleimani", "Baghdad OR Soleimani", webhook="http://127.0.0.1:9/hook")
    alerts.add("embassy", "embassy", {"locations": ["baghdad"]})  # no webhook: feed only
    hooks = AlertHooks(runtime, app.tasks["newsworkers.alert_webhook"])  # what the index task calls
    try:
        _index_batch(runtime, app.tasks["newsworkers.index"], [index_request(a) for a in CORPUS[:2]], hooks)
        assert runtime.index_writer.count() == 2
        assert alerts.store.match_count("soleimani") == 2 and alerts.store.match_count("embassy") == 1
        messages = [json.loads(m) for m in runtime.redis.lrange(hooks_queue, 0, -1)]
        assert len(messages) == 2
        assert {m["headers"]["task"] for m in messages} == {"newsworkers.alert_webhook"}
        # The same documents indexed again (a reprocess, a re-poll, a redelivered batch): no second firing.
        _index_batch(runtime, app.tasks["newsworkers.index"], [index_request(a) for a in CORPUS[:2]], hooks)
        assert runtime.redis.llen(hooks_queue) == 2
        assert alerts.store.match_count("soleimani") == 2
        # A new article fires, once.
        later = article(9, "A funeral", "Crowds mourn Soleimani.", days=5)
        _index_batch(runtime, app.tasks["newsworkers.index"], [index_request(later)], hooks)
        assert runtime.redis.llen(hooks_queue) == 3
        assert alerts.store.matches("soleimani", limit=1)[0].id == later.id
    finally:
        runtime.close()


# -- the Atom feed -------------------------------------------------------------------------------------------------


def test_the_feed_is_valid_atom_newest_first_and_escaped() -> None:
    saved = SavedSearch(name="iraq", query="embassy", filters={"locations": ["Iraq"]})
    hostile = article(7, "<script>alert(1)</script> & ]]> \"quotes\"", "Body with <b>tags</b> & more.", days=9)
    entries = [entry_of(a) for a in sorted([*CORPUS, hostile], key=lambda a: a.published_at, reverse=True)]
    document = atom_feed(saved, entries, self_url="http://127.0.0.1:8000/feeds/iraq.atom")
    parsed = feedparser.parse(document)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "newsworkers: iraq" and parsed.feed.id and parsed.feed.updated
    assert parsed.feed.links[0].href.endswith("/feeds/iraq.atom")
    assert len(parsed.entries) == len(entries)
    first = parsed.entries[0]
    assert first.title == hostile.title  # the text survives intact, escaped in the XML
    assert first.link == hostile.url and first.id and first.published and first.updated
    assert "<b>tags</b>" in first.summary and first.source.title == "Example News"
    published = [e.published_parsed for e in parsed.entries]
    assert published == sorted(published, reverse=True)
    assert b"<script>" not in document


def test_an_alert_dead_letter_retries_as_a_webhook_delivery() -> None:
    message = {"alert": "a", "entry": {"id": "doc"}}
    letter = DeadLetter(stage="alert", key="alert:a:doc", url="http://hooks.example/x", reason="alert.http_500",
                        error="WebhookError: HTTP 500", payload=message)
    assert letter.task == "newsworkers.alert_webhook"
    assert letter.retry_message() == ("newsworkers.alert_webhook", message)


def test_every_alerts_command_is_in_the_readme() -> None:
    from tests.conftest import documentation
    from workers.cli.alerts import alerts_app

    readme = documentation()
    missing = [c.name for c in alerts_app.registered_commands if f"newsworkers alerts {c.name}" not in readme]
    assert missing == []


@pytest.mark.parametrize("kind", ["tantivy", "elasticsearch"])
def test_both_backends_start_and_grow_a_saved_search_alike(kind: str, tmp_path: Path, settings: Settings,
                                                         redis_client: Any) -> None:
    """The same saved searches over the same articles, on Tantivy (in-memory matcher) and Elasticsearch
    (percolator); the Elasticsearch leg runs only with ELASTICSEARCH_URL."""
    import os

    from tests.conformance.conftest import open_for_test

    backend, remove = open_for_test(kind, tmp_path)
    if kind == "elasticsearch":
        settings = settings.model_copy(update={"elasticsearch_url": os.environ["ELASTICSEARCH_URL"],
                                               "elasticsearch_index": backend.alias})  # type: ignore[attr-defined]
    try:
        backend.upsert(CORPUS[:3])
        alerts = Alerts(AlertStore(redis_client, Keys(settings.namespace)), settings, lambda: backend)
        assert alerts.add("baghdad", "Baghdad", webhook="https://hooks.example/b")[1] == 2
        assert alerts.add("australia", "", {"locations": ["australia"]})[1] == 1
        sent: list[dict[str, Any]] = []
        later = [article(11, "Baghdad protests", "Protesters gather in Baghdad.", days=6, locations=["Iraq"]),
                 article(12, "Wildfire smoke", "Smoke reaches Sydney.", days=6, locations=["Australia"])]
        backend.upsert(later)
        assert alerts.match_batch([*CORPUS[:3], *later], sent.append) == 2  # only the new pairs
        assert [m["entry"]["id"] for m in sent] == [later[0].id]  # and only the search with a hook sends
        assert alerts.store.match_count("baghdad") == 3 and alerts.store.match_count("australia") == 2
        alerts.remove("baghdad")
        assert alerts.match_batch(later, sent.append) == 0 and len(sent) == 1
    finally:
        if kind == "elasticsearch":
            from workers.search.elasticsearch import percolator as pc
            from workers.search.elasticsearch.index import versions

            client = backend.client  # type: ignore[attr-defined]
            for name in versions(client, pc.saved_searches_alias(backend.alias)):  # type: ignore[attr-defined]
                client.indices.delete(index=name)
            client.options(ignore_status=404).indices.delete_index_template(
                name=pc.saved_searches_template_name(backend.alias))  # type: ignore[attr-defined]
        remove()
