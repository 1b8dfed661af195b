"""The dead-letter store against a real Redis: what a record holds, the bound, counts, purge, redrive."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import redis

from workers.core.errors import FetchError
from workers.ops.redrive import redrive
from workers.settings import Settings
from workers.state import DeadLetter, DeadLetters, Keys, Stats
from workers.worker.app import create_app
from workers.worker.middleware import retry_or_dead_letter


def iso(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def letter(key: str, stage: str = "fetch", reason: str = "fetch.http_404", seconds_ago: float = 0) -> DeadLetter:
    return DeadLetter(stage=stage, key=key, url=f"https://x.example/{key}", reason=reason,
                      error="FetchError: HTTP 404 Not Found", failed_at=iso(seconds_ago),
                      payload={"doc_id": key, "url": f"https://x.example/{key}", "feed_url": "https://x.example/rss"})


def test_a_final_failure_leaves_everything_a_person_needs(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    item = {"doc_id": "doc-1", "url": "https://x.example/1", "feed_url": "https://x.example/rss"}
    retry_or_dead_letter(app.tasks["newsworkers.fetch"], runtime, FetchError("HTTP 410 Gone", reason="fetch.http_410"),
                         stage="fetch", key="doc-1", url=item["url"], payload=item)
    got = runtime.dead_letters.get("doc-1")
    assert got is not None
    shown = got.to_json()
    assert {k: shown[k] for k in ("id", "stage", "url", "feed_url", "error_class", "message", "reason", "attempts",
                                  "task", "payload")} == {
        "id": "doc-1", "stage": "fetch", "url": "https://x.example/1", "feed_url": "https://x.example/rss",
        "error_class": "FetchError", "message": "HTTP 410 Gone", "reason": "fetch.http_410", "attempts": 1,
        "task": "newsworkers.fetch", "payload": item}
    assert shown["first_failed_at"] == shown["last_failed_at"] == got.failed_at
    assert runtime.dead_letters.counts().by_reason == {"fetch.http_410": 1}


def test_failing_again_keeps_the_first_failure_time(redis_client: redis.Redis, namespace: str) -> None:
    letters = DeadLetters(redis_client, Keys(namespace))
    letters.record(letter("doc", seconds_ago=3600))
    again = letters.record(letter("doc", stage="extract", reason="extract.empty"))
    got = letters.get("doc")
    assert got == again
    assert got.first_failed_at < got.failed_at
    assert (got.stage, got.reason) == ("extract", "extract.empty")
    counts = letters.counts()
    assert (counts.by_stage, counts.by_reason, counts.total) == ({"extract": 1}, {"extract.empty": 1}, 1)


def test_the_store_is_bounded_oldest_dropped_first_and_counted(redis_client: redis.Redis, namespace: str) -> None:
    letters = DeadLetters(redis_client, Keys(namespace), max_letters=3)
    for i in range(5):
        letters.record(letter(f"doc-{i}", reason=f"fetch.http_40{i % 2}", seconds_ago=100 - i))
    assert [d.key for d in letters.list()] == ["doc-2", "doc-3", "doc-4"]
    counts = letters.counts()
    assert counts.dropped == 2 and counts.total == 3
    assert counts.by_reason == {"fetch.http_400": 2, "fetch.http_401": 1}


def test_counts_agree_with_the_letters_under_concurrent_writers(redis_client: redis.Redis, namespace: str) -> None:
    letters = DeadLetters(redis_client, Keys(namespace), max_letters=50)
    barrier = threading.Barrier(4)

    def write(worker: int) -> None:
        barrier.wait()
        for i in range(40):
            letters.record(letter(f"w{worker}-{i}", reason=f"fetch.r{i % 3}"))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = letters.counts()
    assert letters.count() == counts.total == 50
    assert counts.dropped == 160 - 50
    held = letters.list()
    assert counts.by_reason == {r: sum(d.reason == r for d in held) for r in {d.reason for d in held}}


def test_list_filters_by_stage_and_reason(redis_client: redis.Redis, namespace: str) -> None:
    letters = DeadLetters(redis_client, Keys(namespace))
    letters.record(letter("a", "fetch", "fetch.http_404"))
    letters.record(letter("b", "fetch", "fetch.timeout"))
    letters.record(letter("c", "extract", "extract.empty"))
    assert {d.key for d in letters.list(stage="fetch")} == {"a", "b"}
    assert [d.key for d in letters.list(reason="fetch.timeout")] == ["b"]
    assert {d.key for d in letters.list(reason="fetch.*")} == {"a", "b"}
    assert letters.list(stage="extract", reason="fetch.timeout") == []


def test_purge_everything_or_only_the_old(redis_client: redis.Redis, namespace: str) -> None:
    letters = DeadLetters(redis_client, Keys(namespace))
    letters.record(letter("old", seconds_ago=3 * 86400))
    letters.record(letter("new", seconds_ago=60))
    assert letters.purge(older_than_s=86400) == 1
    assert [d.key for d in letters.list()] == ["new"]
    assert letters.counts().total == 1
    assert letters.purge() == 1
    assert letters.count() == 0 and letters.counts().by_stage == {}


def test_letters_written_before_the_new_fields_still_load(redis_client: redis.Redis, namespace: str) -> None:
    keys = Keys(namespace)
    redis_client.hset(keys.failed, "legacy", '{"stage": "fetch", "key": "legacy", "url": "u", "reason": "fetch.x", '
                                       '"error": "boom", "attempts": 2, "failed_at": "2024-01-01T00:00:00+00:00", '
                                       '"unknown_field": 1}')
    got = DeadLetters(redis_client, keys).get("legacy")
    assert got is not None and got.first_failed_at == "2024-01-01T00:00:00+00:00" and got.error_class is None


def test_retry_by_stage_sends_back_only_that_stage(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    for key, stage in (("f1", "fetch"), ("f2", "fetch"), ("x1", "poll")):
        runtime.dead_letters.record(DeadLetter(stage=stage, key=key, url=f"https://x.example/{key}",
                                               reason=f"{stage}.x", error="E: e",
                                               payload={"doc_id": key, "url": f"https://x.example/{key}"}))
    assert redrive(app, runtime, runtime.dead_letters.list(stage="fetch")) == 2
    assert runtime.redis.llen(runtime.keys.queue("fetch")) == 2
    assert [d.key for d in runtime.dead_letters.list()] == ["x1"]
    assert runtime.dead_letters.counts().by_stage == {"poll": 1}


def test_minute_counters_give_the_last_hour_and_a_rate(redis_client: redis.Redis, namespace: str) -> None:
    stats = Stats(redis_client, Keys(namespace))
    stats.incr("index", "ok", 30)
    stats.incr("fetch", "failed", reason="fetch.timeout")
    now = time.time()
    assert stats.window(60, now=now) == {"index.ok": 30, "fetch.failed": 1, "reason:fetch.timeout": 1}
    buckets = stats.per_minute(5, now=now)
    assert len(buckets) == 5 and buckets[-1]["index.ok"] == 30 and buckets[0] == {}
    assert stats.window(5, now=now + 3600) == {}  # an hour later the minute is out of the window


def test_a_letter_without_its_message_is_skipped_not_fatal(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    runtime.dead_letters.record(DeadLetter(stage="extract", key="bare", url="https://x.example/b",
                                           reason="extract.crash", error="E: e"))
    runtime.dead_letters.record(letter("ok"))
    assert redrive(app, runtime, runtime.dead_letters.list()) == 1
    assert [d.key for d in runtime.dead_letters.list()] == ["bare"]
    assert runtime.dead_letters.get("bare").to_json(payload=False)["task"] == "newsworkers.extract"


def test_recent_pages_through_a_full_store_newest_first(redis_client: redis.Redis, namespace: str) -> None:
    letters = DeadLetters(redis_client, Keys(namespace))
    for i in range(600):  # more than one chunk of 500
        letters.record(letter(f"doc-{i:04}", reason="fetch.timeout" if i % 100 == 0 else "fetch.http_404",
                              seconds_ago=2000 - i))
    assert [d.key for d in letters.recent(3)] == ["doc-0597", "doc-0598", "doc-0599"]
    timeouts = letters.recent(5, reason="fetch.timeout")
    assert [d.key for d in timeouts] == ["doc-0100", "doc-0200", "doc-0300", "doc-0400", "doc-0500"]
    assert len(letters.recent(50, stage="extract")) == 0
