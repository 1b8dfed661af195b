"""Task messages name what they are about in their headers, without walking their whole arguments."""

from __future__ import annotations

import json

from workers.broker.message_repr import summarize_args
from workers.settings import Settings
from workers.worker.app import create_app


def test_a_published_message_names_its_page(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    item = {"doc_id": "d1", "url": "https://news.example/a.html", "feed_url": "https://news.example/rss",
            "title": "A" * 5000}
    app.tasks["newsworkers.fetch"].apply_async((item,))
    message = json.loads(runtime.redis.lindex(runtime.keys.queue("fetch"), 0))
    assert message["headers"]["argsrepr"] == "('https://news.example/a.html')"
    assert message["headers"]["kwargsrepr"] == "{}"


def test_summaries_of_each_kind_of_message() -> None:
    page = {"item": {"url": "https://news.example/b.html"}, "final_url": "https://news.example/b.html"}
    assert summarize_args((page,)) == "('https://news.example/b.html')"
    assert summarize_args(({"article": {"url": "https://x.example/c"}, "done": []},)) == "('https://x.example/c')"
    assert summarize_args(({"batch": [{}, {}, {}]},)) == "(3 articles)"
    assert summarize_args(()) == "()"
    long = summarize_args(({"other": "x" * 10_000},))
    assert len(long) < 250  # anything else: Celery's own summary, cut short
