"""The task base class counts deliveries and handles poison messages before a task body runs (real Redis)."""

from __future__ import annotations

from typing import Any

from workers.core.stages import EXTRACT_TASK, FETCH_TASK, POLL_TASK
from workers.settings import Settings
from workers.worker.app import create_app


def _over_the_limit(app: Any, stage: str, key: str) -> None:
    """As if earlier deliveries of ``key`` at ``stage`` had all died: the next one is poison."""
    runtime = app.runtime
    runtime.redis.hset(runtime.keys.deliveries, f"{stage}:{key}", runtime.settings.max_deliveries)


def test_a_poison_page_is_dead_lettered_without_being_fetched(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    # A port nothing listens on: were the body to run, the fetch would fail with another reason.
    item = {"doc_id": "doc-p", "url": "http://127.0.0.1:9/page.html", "feed_url": "http://127.0.0.1:9/rss"}
    _over_the_limit(app, "fetch", "doc-p")
    app.tasks[FETCH_TASK].apply(args=(item,))
    letter = runtime.dead_letters.get("doc-p")
    assert letter is not None and (letter.stage, letter.reason) == ("fetch", "fetch.poison")
    assert letter.url == item["url"] and letter.payload == item and letter.traceback_tail
    assert runtime.redis.hget(runtime.keys.deliveries, "fetch:doc-p") is None  # the count starts over
    assert runtime.tracker.is_seen("doc-p")


def test_a_poison_extract_keeps_the_feed_item_for_a_fetch_again(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    item = {"doc_id": "doc-x", "url": "https://x.example/a", "feed_url": "https://x.example/rss"}
    _over_the_limit(app, "extract", "doc-x")
    app.tasks[EXTRACT_TASK].apply(args=({"item": item, "final_url": "https://x.example/a", "status": 200,
                                          "html": "<html></html>"},))
    letter = runtime.dead_letters.get("doc-x")
    assert letter is not None and letter.reason == "extract.poison"
    assert letter.retry_message()[0] == FETCH_TASK and letter.retry_message()[1]["doc_id"] == "doc-x"


def test_a_poison_poll_is_recorded_on_its_feed(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    url = "http://127.0.0.1:9/feed.xml"
    _over_the_limit(app, "poll", url)
    outcome = app.tasks[POLL_TASK].apply(args=({"url": url},)).get()
    assert outcome == {"feed": url, "status": "failed", "reason": "feed.poison"}
    assert runtime.registry.state(url).last_reason == "feed.poison"
    assert runtime.redis.hget(runtime.keys.deliveries, f"poll:{url}") is None


def test_a_delivery_that_finishes_clears_its_count(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    item = {"doc_id": "doc-ok", "url": "http://127.0.0.1:9/page.html", "feed_url": "http://127.0.0.1:9/rss"}
    app.tasks[FETCH_TASK].apply(args=(item,))  # fails to connect: retried or dead-lettered, either way it ended
    assert runtime.redis.hget(runtime.keys.deliveries, "fetch:doc-ok") is None
    letter = runtime.dead_letters.get("doc-ok")
    assert letter is None or letter.reason != "fetch.poison"
