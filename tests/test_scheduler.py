"""The scheduler against a real Redis broker: due feeds, back-pressure, lost work."""

from __future__ import annotations

import base64
import json
import time

import redis

from workers.core.ids import document_id
from workers.core.models import Feed, FeedItem
from workers.ops.scheduler import Scheduler
from workers.settings import Settings
from workers.worker.app import create_app


def _queued(settings: Settings, queue: str) -> list[dict]:
    client = redis.Redis.from_url(settings.redis_url or "", decode_responses=True)
    messages = [json.loads(raw) for raw in client.lrange(f"{settings.namespace}:{queue}", 0, -1)]
    return [json.loads(base64.b64decode(m["body"])) for m in messages]


def test_due_feeds_are_enqueued_once_per_lease(settings: Settings) -> None:
    app = create_app(settings)
    scheduler = Scheduler(app, app.runtime)
    for n in range(3):
        app.runtime.registry.add(Feed(url=f"https://example.org/{n}.xml"))
    # Feeds of one host come due feed_host_spacing_s apart, so the third is due two spacings from now.
    assert scheduler.tick(time.time() + 3 * settings.feed_host_spacing_s) == 3
    assert scheduler.tick() == 0
    bodies = _queued(settings, "poll")
    assert sorted(args[0]["url"] for args, _kw, _opts in bodies) == [f"https://example.org/{n}.xml" for n in range(3)]
    assert scheduler.pending_polls() == 3


def test_scheduler_holds_back_above_the_high_water_mark(settings: Settings) -> None:
    settings = settings.model_copy(update={"backlog_high_water_msgs": 2})
    app = create_app(settings)
    app.runtime.redis.rpush(app.runtime.keys.queue("fetch"), "x", "y", "z")
    app.runtime.registry.add(Feed(url="https://example.org/held.xml"))
    assert Scheduler(app, app.runtime).tick() == 0
    app.runtime.redis.delete(app.runtime.keys.queue("fetch"))
    assert Scheduler(app, app.runtime).tick() == 1


def test_seed_feeds_are_polled_once_per_interval(settings: Settings) -> None:
    app = create_app(settings)
    seed = [Feed(url="file:///corpus/feeds/a.xml", local=True)]
    scheduler = Scheduler(app, app.runtime, seed=seed)
    now = time.time()
    assert scheduler.tick(now) == 1
    assert scheduler.tick(now + 1) == 0
    assert scheduler.tick(now + settings.poll_interval_s + 1) == 1
    assert app.runtime.registry.count() == 0  # the corpus never enters the registry


def test_lost_in_flight_items_are_resent_then_dead_lettered(settings: Settings) -> None:
    settings = settings.model_copy(update={"inflight_ttl_s": 60})
    app = create_app(settings)
    tracker, scheduler = app.runtime.tracker, Scheduler(app, app.runtime)
    url = "https://example.org/lost.html"
    item = FeedItem(doc_id=document_id(url), url=url, feed_url="https://example.org/feed.xml")
    assert tracker.claim(item.doc_id, item.model_dump_json())
    assert scheduler.resend_lost() == 0  # not stale yet
    later = time.time() + 61
    for attempt in range(3):
        app.runtime.redis.zadd(app.runtime.keys.inflight, {item.doc_id: time.time() - 61})
        assert scheduler.resend_lost(now=later) == 1, attempt
    assert len(_queued(settings, "fetch")) == 3
    app.runtime.redis.zadd(app.runtime.keys.inflight, {item.doc_id: time.time() - 61})
    assert scheduler.resend_lost(now=later) == 0
    letter = app.runtime.dead_letters.get(item.doc_id)
    assert letter is not None and letter.reason == "pipeline.lost" and letter.url == url
    assert tracker.is_seen(item.doc_id)
    assert tracker.inflight_count() == 0


def test_lost_items_without_a_stored_item_are_released_for_the_next_poll(settings: Settings) -> None:
    app = create_app(settings)
    tracker = app.runtime.tracker
    assert tracker.claim("bare-id")
    app.runtime.redis.zadd(app.runtime.keys.inflight, {"bare-id": time.time() - 10 * 3600})
    assert Scheduler(app, app.runtime).resend_lost() == 0
    assert tracker.claim("bare-id")


def test_registering_a_feed_ends_the_offline_corpus_mode(settings: Settings) -> None:
    app = create_app(settings)
    scheduler = Scheduler(app, app.runtime, seed=[Feed(url="file:///corpus/feeds/a.xml", local=True)])
    assert scheduler.tick() == 1
    app.runtime.registry.add(Feed(url="https://example.org/new.xml"))
    assert scheduler.tick(time.time() + 10 * settings.poll_interval_s) == 1
    assert scheduler.seed == []
    assert sorted(args[0]["url"] for args, _kw, _opts in _queued(settings, "poll")) == [
        "file:///corpus/feeds/a.xml", "https://example.org/new.xml"]


def test_polls_lost_with_their_message_are_sent_again(settings: Settings) -> None:
    """A broker restart can drop a queued poll: its pending mark stays, so the caller that sees no message
    anywhere (the run's orphan watch) sends it again instead of waiting out the lease."""
    app = create_app(settings)
    seed = [Feed(url="file:///corpus/feeds/a.xml", local=True)]
    scheduler = Scheduler(app, app.runtime, seed=seed)
    app.runtime.registry.add(Feed(url="https://example.org/lost.xml"))
    scheduler.poll_all([*seed, Feed(url="https://example.org/lost.xml")])
    app.runtime.redis.delete(app.runtime.keys.queue("poll"))  # the messages are gone, the marks are not
    assert scheduler.pending_polls() == 2
    assert scheduler.requeue_lost_polls() == 2
    assert sorted(args[0]["url"] for args, _kw, _opts in _queued(settings, "poll")) == [
        "file:///corpus/feeds/a.xml", "https://example.org/lost.xml"]
    assert scheduler.pending_polls() == 2  # marked again, for the new messages
