"""Delayed retries wait in Redis, not in the broker; poison counts per stage; the pools' limits."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from types import SimpleNamespace

from workers.broker.delayed import DelayedMessages, send_due
from workers.broker.delivery import backlog, delayed_count
from workers.broker.routing import queue_name
from workers.settings import Settings
from workers.worker.app import create_app
from workers.worker.pools import worker_argv, worker_spec


def index_request(doc_id: str, path: str) -> SimpleNamespace:
    """A stand-in for the Celery request of one index message (all ``_index_batch`` reads is its ``args``)."""
    article = {"id": doc_id, "id_version": 1, "url": f"https://x.example/{path}", "domain": "x.example", "title": "T",
               "body": "B", "fetched_at": "2021-01-01T00:00:00Z", "published_at": "2021-01-01T00:00:00Z",
               "date_source": "page"}
    return SimpleNamespace(args=({"article": article, "done": [doc_id]},))

def test_a_held_message_is_sent_when_due_and_only_then(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    held = runtime.delayed
    held.hold("newsworkers.fetch", [{"doc_id": "a"}], due_at=1000.0, options={"retries": 2, "task_id": "t-1"})
    assert backlog(runtime.redis, runtime.keys) == 1  # a run is not drained while a retry waits
    assert send_due(app, held, now=999.0) == 0
    assert runtime.redis.llen(runtime.keys.queue("fetch")) == 0
    assert send_due(app, held, now=1000.0) == 1
    assert delayed_count(runtime.redis, runtime.keys) == 0
    message = json.loads(runtime.redis.lindex(runtime.keys.queue("fetch"), 0))
    assert message["headers"]["retries"] == 2 and message["headers"]["id"] == "t-1"
    assert "eta" not in message["headers"] or message["headers"]["eta"] is None


def test_a_sender_that_died_after_taking_leaves_the_message_to_be_sent_again(settings: Settings) -> None:
    app = create_app(settings)
    held = DelayedMessages(app.runtime.redis, app.runtime.keys, lease_s=30)
    held.hold("newsworkers.fetch", [{"doc_id": "b"}], due_at=1000.0)
    assert len(held.take_due(now=1000.0)) == 1  # taken, then the sender dies before sending
    assert held.take_due(now=1010.0) == []  # leased: nobody else sends it meanwhile
    assert len(held.take_due(now=1031.0)) == 1  # the lease ran out: it is due again, not lost


def test_an_index_outage_holds_the_batch_in_redis(settings: Settings) -> None:
    from workers.search.tantivy.backend import TantivyBackend
    from workers.worker.tasks import _index_batch

    settings = settings.model_copy(update={"index_batch_size": 1})
    app = create_app(settings)
    runtime = app.runtime
    holder = TantivyBackend(settings.index_dir, writer=True)  # another writer holds the lock: index.locked
    try:
        _index_batch(runtime, app.tasks["newsworkers.index"], [index_request("doc-9", "9")])
    finally:
        holder.close()
    assert delayed_count(runtime.redis, runtime.keys) == 1
    assert runtime.dead_letters.get("doc-9") is None
    assert runtime.stats.snapshot().get("index.failed") is None
    assert not runtime.tracker.is_seen("doc-9")  # not acknowledged as done before the backend took it


def test_a_fetch_that_keeps_dying_is_dead_lettered_as_poison(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    item = {"doc_id": "doc-p", "url": "https://x.example/p", "feed_url": "https://x.example/rss"}
    for _ in range(settings.max_deliveries):  # deliveries whose worker died before it finished
        runtime.tracker.count_delivery("fetch", "doc-p")
    app.tasks["newsworkers.fetch"].apply(args=(item,))
    letter = runtime.dead_letters.get("doc-p")
    assert letter is not None and letter.reason == "fetch.poison"
    assert runtime.redis.hget(runtime.keys.deliveries, "fetch:doc-p") is None


def test_a_poll_that_keeps_dying_is_recorded_on_its_feed(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    url = "https://x.example/rss"
    for _ in range(settings.max_deliveries):
        runtime.tracker.count_delivery("poll", url)
    result = app.tasks["newsworkers.poll"].apply(args=({"url": url},))
    assert result.get()["reason"] == "feed.poison"
    assert runtime.registry.state(url).last_reason == "feed.poison"


def test_extract_children_have_a_memory_ceiling_and_amqp_queues_a_namespace(settings: Settings) -> None:
    argv = worker_argv(worker_spec("extract", settings))
    assert argv[argv.index("--max-memory-per-child") + 1] == str(settings.extract_max_memory_per_child_mb * 1024)
    # One bounded batch per child (NER runs batches through nlp.pipe): a killed child gives back at most that.
    assert argv[argv.index("--prefetch-multiplier") + 1] == str(settings.extract_batch_size)
    amqp = settings.model_copy(update={"broker_url": "amqp://guest:guest@127.0.0.1:5672//"})
    assert queue_name(amqp, "extract") == f"{settings.namespace}.extract"
    assert worker_spec("fetch", amqp).queues == (f"{settings.namespace}.fetch",)
    assert queue_name(settings, "extract") == "extract"  # Redis: kombu's key prefix holds the namespace


def test_a_runaway_allocation_in_a_capped_child_is_a_memory_error() -> None:
    code = textwrap.dedent("""
        from workers.worker.app import cap_heap_growth
        cap_heap_growth(200 * 2**20)
        small = bytearray(50 * 2**20)
        try:
            bytearray(400 * 2**20)
        except MemoryError:
            print("capped")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "capped", result.stderr


def test_copies_of_one_index_message_in_a_batch_count_as_one_delivery(settings: Settings) -> None:
    from workers.worker.tasks import _index_batch

    app = create_app(settings)
    runtime = app.runtime
    for _ in range(settings.max_deliveries - 1):  # earlier deliveries that died
        runtime.tracker.count_delivery("index", "doc-c")
    # A broker restore put three copies of the message into this batch: one more delivery, not three.
    _index_batch(runtime, app.tasks["newsworkers.index"], [index_request("doc-c", "c") for _ in range(3)])
    assert runtime.dead_letters.get("doc-c") is None
    assert runtime.tracker.is_seen("doc-c")
    assert runtime.redis.hget(runtime.keys.deliveries, "index:doc-c") is None


def test_an_extract_batch_index_message_is_indexed_counted_and_held_per_article(settings: Settings) -> None:
    """One index message carries an extract batch's articles: each is its own delivery, letter and retry."""
    from workers.search.tantivy.backend import TantivyBackend
    from workers.worker.tasks import _index_batch

    app = create_app(settings)
    runtime = app.runtime
    payloads = [index_request(f"doc-b{i}", f"b{i}").args[0] for i in range(3)]
    for _ in range(settings.max_deliveries):  # doc-b1's earlier deliveries all died
        runtime.tracker.count_delivery("index", "doc-b1")
    holder = TantivyBackend(settings.index_dir, writer=True)  # an outage: the healthy articles wait in Redis
    try:
        _index_batch(runtime, app.tasks["newsworkers.index"], [SimpleNamespace(args=({"batch": payloads},))])
    finally:
        holder.close()
    assert delayed_count(runtime.redis, runtime.keys) == 2  # doc-b0 and doc-b2, one held message each
    letter = runtime.dead_letters.get("doc-b1")
    assert letter is not None and letter.reason == "index.poison"
    assert letter.retry_message() == ("newsworkers.index", {**payloads[1], "attempts": 0})
    _index_batch(runtime, app.tasks["newsworkers.index"], [SimpleNamespace(args=({"batch": payloads},))])
    assert all(runtime.tracker.is_seen(f"doc-b{i}") for i in range(3))
    assert not runtime.redis.hgetall(runtime.keys.deliveries)
