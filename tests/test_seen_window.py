"""The seen window: Redis keeps finished ids for a window only; past it, the index answers.

Real Redis (its own expiry does the forgetting), the real fixture server, a real Tantivy index and the
stage functions, with the window set to a couple of seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.conftest import wait_until
from tests.site import Canned, FixtureSite, rss
from workers.core.models import Feed, FeedItem
from workers.net.http import make_client
from workers.pipeline.extract.article import extract_article
from workers.pipeline.fetch.page import fetch_page
from workers.pipeline.index.batch import index_batch
from workers.pipeline.poll.cycle import run_poll
from workers.runtime import Runtime
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings
from workers.state import DeadLetter, Keys
from workers.state.seen import SEEN_BUCKETS, SeenWindow

WINDOW_S = 2


def _namespace_bytes(client: redis.Redis, namespace: str) -> int:
    return sum(int(client.memory_usage(key) or 0) for key in client.scan_iter(f"{namespace}:*", count=1000))


def test_ids_leave_redis_with_their_bucket(redis_client: redis.Redis, namespace: str) -> None:
    window = SeenWindow(redis_client, Keys(namespace), WINDOW_S)
    window.add(redis_client, ["a", "b"])
    assert window.contains(["a", "b", "c"]) == [True, True, False]
    assert window.count() == 2
    # Gone by Redis's own expiry, within a window and two buckets: nothing trims, nothing is left behind.
    wait_until(lambda: window.contains(["a", "b"]) == [False, False], timeout_s=WINDOW_S + 3 * window.bucket_s + 2,
               what="the bucket to expire")
    assert list(redis_client.scan_iter(f"{namespace}:seen:*")) == []


def test_memory_follows_the_window_not_the_archive(redis_client: redis.Redis, namespace: str) -> None:
    window = SeenWindow(redis_client, Keys(namespace), WINDOW_S)
    ids = [f"{n:032x}" for n in range(20_000)]
    for start in range(0, len(ids), 2_000):
        window.add(redis_client, ids[start:start + 2_000])
    held = _namespace_bytes(redis_client, namespace)
    # The window really holds them: 8 bytes each is the floor of a 64-bit digest (workers/state/seen.py).
    assert held > 20_000 * 8
    wait_until(lambda: _namespace_bytes(redis_client, namespace) == 0, timeout_s=WINDOW_S + 3 * window.bucket_s + 2,
               what="the window to empty")


def test_a_bucket_is_intsets_of_digests_at_about_ten_bytes_an_id(redis_client: redis.Redis, namespace: str) -> None:
    window = SeenWindow(redis_client, Keys(namespace), 3600)
    ids = [f"{n:032x}" for n in range(50_000)]
    for start in range(0, len(ids), 5_000):
        window.add(redis_client, ids[start:start + 5_000])
    keys = list(redis_client.scan_iter(f"{namespace}:seen:*", count=1000))
    assert {redis_client.object("encoding", key) for key in keys} == {"intset"}
    assert _namespace_bytes(redis_client, namespace) < len(ids) * 12  # was about 84 bytes an id as a string
    assert window.contains([ids[0], ids[-1], f"{10**9:032x}"]) == [True, True, False]
    assert window.count() == len(ids)


def test_the_buckets_of_whole_ids_of_before_are_still_read(runtime: Runtime) -> None:
    """What a version before the digests wrote is read until it expires: seen, not claimed, reopened."""
    window, keys = runtime.tracker.seen, runtime.keys
    now = time.time()
    runtime.redis.sadd(keys.seen_bucket(window.bucket_s, int(now // window.bucket_s) - 1), "before")
    assert window.ages(["before", "other"]) == [1, None]
    assert runtime.tracker.claim("before") is False
    assert runtime.tracker.seen_count() == 1
    runtime.tracker.reopen("before")
    assert window.contains(["before"]) == [False]


def test_an_id_still_listed_is_written_into_the_newest_bucket(redis_client: redis.Redis, namespace: str) -> None:
    window = SeenWindow(redis_client, Keys(namespace), 1600)  # 100-second buckets
    now = time.time()
    window.add(redis_client, ["old"], now=now - 1200)
    window.add(redis_client, ["new"], now=now)
    ages = window.ages(["old", "new", "never"], now=now)
    assert ages[0] is not None and ages[0] >= SEEN_BUCKETS // 2 and ages[1] == 0 and ages[2] is None
    assert window.refresh(["old", "new", "never"], ages, now=now) == 1
    assert window.ages(["old"], now=now) == [0]


def test_claim_refuses_an_id_in_any_bucket_of_the_window(runtime: Runtime) -> None:
    tracker = runtime.tracker
    tracker.seen.add(runtime.redis, ["older"], now=time.time() - tracker.seen.window_s / 2)
    assert tracker.claim("older") is False
    assert tracker.claim("fresh") is True


@pytest.fixture
def short(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings.model_copy(update={"seen_window_s": WINDOW_S}))
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def backend(short: Runtime) -> Iterator[TantivyBackend]:
    index = TantivyBackend(short.settings.index_dir, writer=True)
    yield index
    index.close()


def _through(runtime: Runtime, backend: TantivyBackend, sent: list[dict[str, Any]]) -> None:
    with make_client(runtime.settings, timeout_s=2.0) as client:
        for item_json in sent:
            item = FeedItem.model_validate(item_json)
            article = extract_article(fetch_page(item, runtime.settings, client), runtime.settings, None)
            outcome = index_batch([{"article": article.model_dump(mode="json"), "done": [item.doc_id]}],
                                  lambda: backend, max_attempts=2)
            assert outcome.indexed == 1, outcome
            runtime.tracker.finish(outcome.done)
    sent.clear()


def _wait_past_the_window(runtime: Runtime, doc_id: str) -> None:
    window = runtime.tracker.seen
    wait_until(lambda: not window.contains([doc_id])[0], timeout_s=WINDOW_S + 3 * window.bucket_s + 2,
               what="the id to leave the seen window")


def test_an_old_item_listed_again_is_neither_fetched_nor_duplicated(short: Runtime, backend: TantivyBackend,
                                                                   site: FixtureSite) -> None:
    link, other = site.url("/articles/berlin-budget.html"), site.url("/articles/nairobi-drought.html")
    site.dynamic["window"] = Canned(body=rss("Window", [("Budget", link)]))
    feed = Feed(url=site.url("/dyn/window"))
    sent: list[dict[str, Any]] = []
    assert run_poll(short, feed, sent.append)["new"] == 1
    doc_id = sent[0]["doc_id"]
    _through(short, backend, sent)

    # The feed drops it, and the window passes: Redis no longer knows it.
    site.dynamic["window"] = Canned(body=rss("Window", [("Drought", other)]))
    assert run_poll(short, feed, sent.append)["new"] == 1
    _through(short, backend, sent)
    _wait_past_the_window(short, doc_id)

    # Listed again, old: the index says it is there. Nothing is sent; the id is back in the window.
    site.dynamic["window"] = Canned(body=rss("Window", [("Budget", link), ("Drought", other)]))
    assert run_poll(short, feed, sent.append) == {"feed": feed.url, "status": 200, "new": 0, "corrected": 0}
    assert sent == []
    assert short.tracker.is_seen(doc_id)
    assert backend.count() == 2


def test_an_old_dead_letter_listed_again_is_not_fetched_again(short: Runtime, site: FixtureSite) -> None:
    link = site.url("/articles/gone.html")
    site.dynamic["gone"] = Canned(body=rss("Gone", [("Gone", link)]))
    feed = Feed(url=site.url("/dyn/gone"))
    sent: list[dict[str, Any]] = []
    assert run_poll(short, feed, sent.append)["new"] == 1
    doc_id = sent[0]["doc_id"]
    short.dead_letters.record(DeadLetter(stage="fetch", key=doc_id, url=link, reason="fetch.http_404",
                                         error="HTTP 404", attempts=1, payload=sent[0]))
    short.tracker.finish([doc_id])
    sent.clear()
    _wait_past_the_window(short, doc_id)
    site.dynamic["gone"] = Canned(body=rss("Gone", [("Gone", link)], channel_extra="<ttl>5</ttl>"))
    assert run_poll(short, feed, sent.append)["new"] == 0
    assert sent == []


def test_new_items_are_taken_when_the_index_cannot_answer(short: Runtime, site: FixtureSite) -> None:
    # No index on disk at all (nothing indexed yet): every item is new, and the reader creates nothing.
    site.dynamic["fresh"] = Canned(body=rss("Fresh", [("A", site.url("/articles/berlin-budget.html"))]))
    sent: list[dict[str, Any]] = []
    assert run_poll(short, Feed(url=site.url("/dyn/fresh")), sent.append)["new"] == 1
    assert not short.settings.index_dir.exists()
