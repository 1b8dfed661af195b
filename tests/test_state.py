"""The Redis state against a real Redis: item tracking, canonical ids, feed registry, dead letters, counters.

Every test works under its own ``namespace`` (see conftest); nothing here flushes a database.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import pytest
import redis

from workers.core.models import Feed
from workers.state import DeadLetter, DeadLetters, FeedRegistry, FeedState, ItemTracker, Keys, Stats

T = TypeVar("T")


@pytest.fixture
def keys(namespace: str) -> Keys:
    return Keys(namespace)


def in_threads(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` in ``count`` threads released together; their results, in thread order."""
    barrier = threading.Barrier(count)
    results: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except BaseException as exc:  # reported in the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return results  # type: ignore[return-value]


# -- keys ----------------------------------------------------------------------------------------------


def test_keys_are_under_the_namespace() -> None:
    keys = Keys("ns1")
    assert keys.feeds == "ns1:feeds"
    assert keys.schedule == "ns1:schedule"
    assert keys.feed_state("https://a.example/feed") == "ns1:feedstate:https://a.example/feed"
    assert keys.seen == "ns1:seen"
    assert keys.inflight == "ns1:inflight"
    assert keys.failed == "ns1:failed"
    assert keys.stats == "ns1:stats"
    assert keys.reasons == "ns1:reasons"
    assert keys.pending_polls == "ns1:pending-polls"
    assert keys.queue("fetch") == "ns1:fetch"


def test_namespaces_do_not_see_each_other(redis_client: redis.Redis, namespace: str) -> None:
    # Both namespaces live under the test's own prefix, so the fixture cleans both.
    one, two = Keys(f"{namespace}:one"), Keys(f"{namespace}:two")
    ItemTracker(redis_client, one, inflight_ttl_s=3600).finish(["doc"])
    FeedRegistry(redis_client, one).add(Feed(url="https://a.example/feed"))
    assert ItemTracker(redis_client, two, inflight_ttl_s=3600).claim("doc") is True
    assert FeedRegistry(redis_client, two).count() == 0
    window = ItemTracker(redis_client, one, inflight_ttl_s=3600).seen
    assert sorted(redis_client.scan_iter(match=f"{namespace}:one:*")) == sorted([
        f"{namespace}:one:feeds", f"{namespace}:one:schedule", window.key_for("doc"),
    ])


# -- ItemTracker ------------------------------------------------------------------------------------------


def test_claim_once(redis_client: redis.Redis, keys: Keys) -> None:
    tracker = ItemTracker(redis_client, keys, inflight_ttl_s=3600)
    assert tracker.claim("doc-1") is True
    assert tracker.claim("doc-1") is False
    assert tracker.claim("doc-2") is True
    assert tracker.inflight_count() == 2
    assert tracker.seen_count() == 0
    assert tracker.is_seen("doc-1") is False
    since = float(redis_client.zscore(keys.inflight, "doc-1"))  # type: ignore[arg-type]
    assert abs(since - time.time()) < 5


def test_claim_after_finish_is_refused_for_good(redis_client: redis.Redis, keys: Keys) -> None:
    tracker = ItemTracker(redis_client, keys, inflight_ttl_s=3600)
    assert tracker.claim("doc-1") is True
    tracker.finish(["doc-1"])
    assert tracker.is_seen("doc-1") is True
    assert tracker.inflight_count() == 0
    assert tracker.seen_count() == 1
    assert tracker.claim("doc-1") is False
    # Even with an ancient in-flight mark, a seen item stays seen.
    redis_client.zadd(keys.inflight, {"doc-1": time.time() - 10 * 3600})
    assert tracker.claim("doc-1") is False
    # Finishing an item that was never claimed marks it seen too.
    tracker.finish(["doc-2", "doc-3"])
    assert tracker.claim("doc-2") is False
    assert tracker.seen_count() == 3
    tracker.finish([])
    assert tracker.seen_count() == 3


def test_inflight_older_than_ttl_is_claimed_again(redis_client: redis.Redis, keys: Keys) -> None:
    tracker = ItemTracker(redis_client, keys, inflight_ttl_s=3600)
    redis_client.zadd(keys.inflight, {"old": time.time() - 3601})
    redis_client.zadd(keys.inflight, {"young": time.time() - 3500})
    assert tracker.claim("old") is True
    assert tracker.claim("young") is False
    # The new claim restarts the clock.
    assert tracker.claim("old") is False
    assert float(redis_client.zscore(keys.inflight, "old")) > time.time() - 5  # type: ignore[arg-type]


def test_inflight_expires_after_a_real_ttl(redis_client: redis.Redis, keys: Keys) -> None:
    tracker = ItemTracker(redis_client, keys, inflight_ttl_s=1)
    assert tracker.claim("doc") is True
    assert tracker.claim("doc") is False
    time.sleep(1.1)
    assert tracker.claim("doc") is True
    assert tracker.claim("doc") is False


def test_release_gives_the_item_back(redis_client: redis.Redis, keys: Keys) -> None:
    tracker = ItemTracker(redis_client, keys, inflight_ttl_s=3600)
    assert tracker.claim("doc") is True
    tracker.release("doc")
    assert tracker.inflight_count() == 0
    assert tracker.is_seen("doc") is False
    assert tracker.claim("doc") is True
    tracker.release("never-claimed")
    assert tracker.inflight_count() == 1


def test_concurrent_claims_of_one_id_have_one_winner(redis_client: redis.Redis, keys: Keys) -> None:
    tracker = ItemTracker(redis_client, keys, inflight_ttl_s=3600)
    results = in_threads(8, lambda _: tracker.claim("contested"))
    assert sorted(results) == [False] * 7 + [True]
    assert tracker.inflight_count() == 1


def test_concurrent_claims_with_separate_connections(redis_url: str, keys: Keys) -> None:
    clients = [redis.Redis.from_url(redis_url, decode_responses=True) for _ in range(8)]
    try:
        trackers = [ItemTracker(c, keys, inflight_ttl_s=3600) for c in clients]
        for round_ in range(5):
            results = in_threads(8, lambda i, r=round_: trackers[i].claim(f"doc-{r}"))
            assert results.count(True) == 1, results
    finally:
        for c in clients:
            c.close()


# -- FeedRegistry ----------------------------------------------------------------------------------------------


def test_add_is_true_then_false(redis_client: redis.Redis, keys: Keys) -> None:
    registry = FeedRegistry(redis_client, keys)
    feed = Feed(url="https://a.example/feed", title="A")
    assert registry.add(feed) is True
    assert registry.add(feed) is False
    assert registry.count() == 1


def test_add_updates_the_title_but_not_the_schedule(redis_client: redis.Redis, keys: Keys) -> None:
    registry = FeedRegistry(redis_client, keys)
    url = "https://a.example/feed"
    assert registry.add(Feed(url=url, title="Old"), first_poll_at=1000.0) is True
    assert registry.add(Feed(url=url, title="New"), first_poll_at=5000.0) is False
    got = registry.get(url)
    assert got is not None
    assert got.title == "New"
    assert registry.next_poll_at(url) == 1000.0


def test_all_get_remove(redis_client: redis.Redis, keys: Keys) -> None:
    registry = FeedRegistry(redis_client, keys)
    urls = ["https://c.example/rss", "https://a.example/feed", "https://b.example/atom"]
    for url in urls:
        registry.add(Feed(url=url, source_name=url.split("/")[2], local=url.startswith("https://b")))
    assert [f.url for f in registry.all()] == sorted(urls)
    got = registry.get("https://b.example/atom")
    assert got is not None
    assert (got.url, got.source_name, got.local, got.title) == ("https://b.example/atom", "b.example", True, None)
    assert registry.get("https://missing.example/feed") is None

    registry.save_state("https://a.example/feed", FeedState(etag="e1"))
    assert registry.remove("https://a.example/feed") is True
    assert registry.remove("https://a.example/feed") is False
    assert registry.get("https://a.example/feed") is None
    assert registry.next_poll_at("https://a.example/feed") is None
    assert registry.state("https://a.example/feed") == FeedState()
    assert redis_client.exists(keys.feed_state("https://a.example/feed")) == 0
    assert [f.url for f in registry.all()] == ["https://b.example/atom", "https://c.example/rss"]
    assert registry.count() == 2


def test_feed_state_round_trip(redis_client: redis.Redis, keys: Keys) -> None:
    registry = FeedRegistry(redis_client, keys)
    url = "https://a.example/feed"
    assert registry.state(url) == FeedState()
    state = FeedState(etag='W/"abc"', last_modified="Wed, 10 Jan 2024 12:00:00 GMT", last_polled_at=1704888000.25,
                      last_ok_at=1704887000.5, last_status=304, error_streak=2, last_reason="feed.timeout",
                      last_error="timed out after 20s", items_total=41, title="A feed")
    registry.save_state(url, state)
    assert registry.state(url) == state
    # Saving a sparser state clears the fields it no longer has.
    registry.save_state(url, FeedState(last_status=200, items_total=42))
    assert registry.state(url) == FeedState(last_status=200, items_total=42)


def test_the_feed_record_stores_no_defaults_and_reads_what_earlier_versions_wrote(
        redis_client: redis.Redis, keys: Keys) -> None:
    registry, url = FeedRegistry(redis_client, keys), "https://a.example/feed"
    registry.add(Feed(url=url, collections=["world"]))
    assert "url" not in redis_client.hget(keys.feeds, url) and "title" not in redis_client.hget(keys.feeds, url)
    registry.save_state(url, FeedState(last_status=200, items_total=3, rate_per_s=1 / 3))
    assert sorted(redis_client.hkeys(keys.feed_state(url))) == ["items_total", "last_status", "rate_per_s"]
    # Earlier versions: the whole Feed JSON, and every state field, empty ones as "".
    old = Feed(url="https://b.example/rss", title="B", collections=["x"])
    redis_client.hset(keys.feeds, old.url, old.model_dump_json())
    assert registry.get(old.url) == old and [f.url for f in registry.all()] == [url, old.url]
    redis_client.hset(keys.feed_state(old.url), mapping={"etag": "", "error_streak": "0", "gone": "0",
                                                         "items_total": "7", "last_ok_at": "1704887000.5"})
    assert registry.state(old.url) == FeedState(items_total=7, last_ok_at=1704887000.5)


def test_schedule_only_registered_feeds(redis_client: redis.Redis, keys: Keys) -> None:
    registry = FeedRegistry(redis_client, keys)
    registry.add(Feed(url="https://a.example/feed"), first_poll_at=100.0)
    registry.schedule("https://a.example/feed", 200.0)
    registry.schedule("https://stranger.example/feed", 200.0)
    assert registry.next_poll_at("https://a.example/feed") == 200.0
    assert registry.next_poll_at("https://stranger.example/feed") is None


def test_claim_due_hands_out_due_feeds_once_and_leases_them(redis_client: redis.Redis, keys: Keys) -> None:
    registry = FeedRegistry(redis_client, keys)
    now = 1_700_000_000.0
    registry.add(Feed(url="https://a.example/feed"), first_poll_at=now - 30)
    registry.add(Feed(url="https://b.example/feed"), first_poll_at=now - 20)
    registry.add(Feed(url="https://c.example/feed"), first_poll_at=now)  # due exactly now
    registry.add(Feed(url="https://later.example/feed"), first_poll_at=now + 1000)

    assert registry.claim_due(now=now, lease_s=60) == [
        "https://a.example/feed", "https://b.example/feed", "https://c.example/feed",
    ]
    assert registry.claim_due(now=now, lease_s=60) == []
    assert registry.next_poll_at("https://a.example/feed") == now + 60
    assert registry.next_poll_at("https://later.example/feed") == now + 1000
    # Once the lease runs out they are due again; the later feed still is not.
    assert registry.claim_due(now=now + 59, lease_s=60) == []
    assert sorted(registry.claim_due(now=now + 60, lease_s=60)) == [
        "https://a.example/feed", "https://b.example/feed", "https://c.example/feed",
    ]
    assert registry.claim_due(now=now + 119, lease_s=60) == []
    # Oldest due first: the three re-leased to now + 120 (ties by URL), then the later feed.
    assert registry.claim_due(now=now + 1000, lease_s=60) == [
        "https://a.example/feed", "https://b.example/feed", "https://c.example/feed", "https://later.example/feed",
    ]


def test_claim_due_respects_the_limit(redis_client: redis.Redis, keys: Keys) -> None:
    registry = FeedRegistry(redis_client, keys)
    now = 1_700_000_000.0
    urls = [f"https://f{i:02d}.example/feed" for i in range(5)]
    for i, url in enumerate(urls):
        registry.add(Feed(url=url), first_poll_at=now - 100 + i)
    assert registry.claim_due(now=now, lease_s=60, limit=2) == urls[:2]
    assert registry.claim_due(now=now, lease_s=60, limit=2) == urls[2:4]
    assert registry.claim_due(now=now, lease_s=60, limit=2) == urls[4:]
    assert registry.claim_due(now=now, lease_s=60, limit=2) == []


def test_concurrent_claim_due_never_hands_out_a_feed_twice(redis_client: redis.Redis, keys: Keys) -> None:
    registry = FeedRegistry(redis_client, keys)
    now = 1_700_000_000.0
    urls = {f"https://feed{i:02d}.example/rss" for i in range(50)}
    for url in urls:
        registry.add(Feed(url=url), first_poll_at=now - 10)

    def drain(_: int) -> list[str]:
        taken: list[str] = []
        while batch := registry.claim_due(now=now, lease_s=600, limit=3):
            taken.extend(batch)
        return taken

    results = in_threads(4, drain)
    everything = [url for taken in results for url in taken]
    assert len(everything) == 50
    assert set(everything) == urls


# -- DeadLetters -------------------------------------------------------------------------------------------


def letter(key: str, stage: str, failed_at: str, **extra: object) -> DeadLetter:
    return DeadLetter(stage=stage, key=key, url=f"https://x.example/{key}", reason=f"{stage}.error",
                      error=f"{key} failed", failed_at=failed_at, **extra)  # type: ignore[arg-type]


def test_dead_letters_record_list_get_remove_count(redis_client: redis.Redis, keys: Keys) -> None:
    letters = DeadLetters(redis_client, keys)
    assert letters.count() == 0
    assert letters.list() == []
    first = letter("doc-1", "fetch", "2024-01-01T10:00:00+00:00", attempts=5, traceback_tail="Traceback...\nBoom",
                   payload={"item": {"doc_id": "doc-1", "tags": ["a", "b"]}, "n": 3})
    second = letter("doc-2", "extract", "2024-01-01T09:00:00+00:00")
    third = letter("https://feed.example/rss", "poll", "2024-01-01T11:00:00+00:00")
    for item in (first, second, third):
        letters.record(item)

    assert letters.count() == 3
    assert [d.key for d in letters.list()] == ["doc-2", "doc-1", "https://feed.example/rss"]
    assert letters.list(stage="fetch") == [first]
    assert letters.list(stage="extract") == [second]
    assert letters.list(stage="index") == []
    assert letters.get("doc-1") == first
    assert letters.get("missing") is None

    assert letters.remove("doc-1") is True
    assert letters.remove("doc-1") is False
    assert letters.get("doc-1") is None
    assert letters.count() == 2
    assert [d.key for d in letters.list()] == ["doc-2", "https://feed.example/rss"]


def test_recording_the_same_key_again_replaces(redis_client: redis.Redis, keys: Keys) -> None:
    letters = DeadLetters(redis_client, keys)
    letters.record(letter("doc", "fetch", "2024-01-01T10:00:00+00:00"))
    again = letter("doc", "extract", "2024-01-02T10:00:00+00:00", attempts=2)
    stored = letters.record(again)
    assert letters.count() == 1
    assert letters.get("doc") == stored
    # everything is the new letter's, except the time of the first failure, which is kept
    assert stored.first_failed_at == "2024-01-01T10:00:00+00:00"
    assert dataclasses.replace(stored, first_failed_at=again.first_failed_at) == again


def test_dead_letter_defaults(redis_client: redis.Redis, keys: Keys) -> None:
    letters = DeadLetters(redis_client, keys)
    letters.record(DeadLetter(stage="fetch", key="doc", url="https://x.example/doc", reason="fetch.http_404",
                              error="404 Not Found"))
    got = letters.get("doc")
    assert got is not None
    assert (got.attempts, got.traceback_tail, got.payload) == (1, None, None)
    assert got.failed_at.endswith("+00:00")


# -- Stats ---------------------------------------------------------------------------------------------------


def test_stats_counts_and_reasons(redis_client: redis.Redis, keys: Keys) -> None:
    stats = Stats(redis_client, keys)
    assert stats.snapshot() == {}
    assert stats.reasons() == {}
    stats.incr("fetch", "ok")
    stats.incr("fetch", "ok", 2)
    stats.incr("fetch", "failed", reason="fetch.timeout")
    stats.incr("extract", "failed", 3, reason="extract.empty")
    stats.incr("fetch", "retried", reason="fetch.timeout")
    assert stats.snapshot() == {"fetch.ok": 3, "fetch.failed": 1, "extract.failed": 3, "fetch.retried": 1}
    assert stats.reasons() == {"fetch.timeout": 2, "extract.empty": 3}


def test_stats_concurrent_increments_add_up(redis_client: redis.Redis, keys: Keys) -> None:
    stats = Stats(redis_client, keys)

    def bump(_: int) -> None:
        for _ in range(25):
            stats.incr("index", "ok", reason="index.batch")

    in_threads(4, bump)
    assert stats.snapshot() == {"index.ok": 100}
    assert stats.reasons() == {"index.batch": 100}


def test_claim_many_takes_each_new_item_once(redis_client: redis.Redis, namespace: str) -> None:
    keys = Keys(namespace)
    tracker = ItemTracker(redis_client, keys, inflight_ttl_s=3600)
    tracker.finish(["done"])
    assert tracker.claim("busy") is True
    answers = tracker.claim_many([("new", '{"url": "u"}'), ("done", ""), ("busy", ""), ("new", ""), ("other", "")])
    assert answers == [True, False, False, False, True]
    assert redis_client.hget(keys.inflight_items, "new") == '{"url": "u"}'
    assert tracker.claim_many([]) == []
