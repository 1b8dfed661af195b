"""The scheduler decides which feeds are due and hands them to the poll queue.

Due feeds come from the registry's sorted set, claimed atomically (two
schedulers never poll one feed twice). With an empty registry the offline
corpus in seeds/ is polled instead, without being added to the registry.
The scheduler holds back while the fetch and extract backlog is above the
high-water mark, and until it is back under the low one (:mod:`workers.pipeline.poll.backpressure`),
so queues never grow without bound.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from celery import Celery

from workers.broker.delivery import queue_depths
from workers.core.models import Feed
from workers.core.stages import FETCH_TASK, POLL_TASK
from workers.ops.retention import RetentionSchedule
from workers.pipeline.poll.backpressure import BackPressure
from workers.runtime import Runtime
from workers.state import DeadLetter

__all__ = ["Scheduler", "seed_feeds"]

_LEASE_S = 600.0  # a claimed feed is not handed out again while its poll may still be running
_LOST_CHECK_EVERY_S = 30.0
_MAX_REDELIVERIES = 3  # a lost item re-sent this often and lost again is dead-lettered, not looped on


def seed_feeds(seeds_dir: Path | None) -> list[Feed]:
    """The offline corpus's feeds, as local file: feeds."""
    if seeds_dir is None:
        return []
    feeds_dir = seeds_dir / "feeds"
    paths = sorted(p for p in feeds_dir.iterdir() if p.suffix in (".xml", ".rss", ".atom", ".rdf"))
    return [Feed(url=p.resolve().as_uri(), title=p.stem, local=True) for p in paths]


class Scheduler:
    def __init__(self, app: Celery, runtime: Runtime, *, seed: list[Feed] | None = None) -> None:
        self.app = app
        self.runtime = runtime
        self.seed = seed or []
        self._seed_due: dict[str, float] = {}
        self._next_lost_check = 0.0
        self.retention = RetentionSchedule(runtime, app)

    def backlog(self) -> int:
        """Messages waiting for fetch and extract, the stages polling feeds."""
        depths = queue_depths(self.runtime.redis, self.runtime.keys, broker_url=self.runtime.settings.broker_url)
        return depths["fetch"] + depths["extract"]

    def enqueue(self, feed: Feed) -> None:
        self.runtime.redis.zadd(self.runtime.keys.pending_polls, {feed.url: time.time()})
        self.app.tasks[POLL_TASK].apply_async((feed.model_dump(mode="json"),))

    def pending_polls(self) -> int:
        """Polls enqueued and not finished; one older than the lease was lost and no longer counts."""
        return int(self.runtime.redis.zcount(self.runtime.keys.pending_polls, time.time() - _LEASE_S, "+inf"))

    def requeue_lost_polls(self) -> int:
        """Send again every poll still marked pending; only for a caller that knows no poll message is left
        anywhere (queued or unacknowledged), so those polls were lost with their message (a broker restart)."""
        pending = self.runtime.redis.zrange(self.runtime.keys.pending_polls, 0, -1)
        if not pending:
            return 0
        self.runtime.redis.zrem(self.runtime.keys.pending_polls, *pending)
        seeds = {feed.url: feed for feed in self.seed}
        sent = 0
        for url in pending:
            feed = self.runtime.registry.get(url) or seeds.get(url)
            if feed is not None:
                self.enqueue(feed)
                sent += 1
        return sent

    def poll_all(self, feeds: list[Feed]) -> int:
        """Enqueue one poll of every feed now (``run --once``)."""
        for feed in feeds:
            self.enqueue(feed)
        return len(feeds)

    def tick(self, now: float | None = None) -> int:
        """Enqueue the feeds due by ``now``; returns how many."""
        now = time.time() if now is None else now
        if now >= self._next_lost_check:
            self._next_lost_check = now + _LOST_CHECK_EVERY_S
            self.resend_lost(now=now)
        self.retention.tick(now)  # retention_days: one prune per interval, nothing otherwise
        if BackPressure(self.runtime).check().held:
            return 0
        if self.seed and self.runtime.registry.count():
            self.seed = []  # feeds were registered while we ran: the offline corpus steps aside
        if self.seed:
            due = [f for f in self.seed if self._seed_due.get(f.url, 0.0) <= now]
            for feed in due:
                self._seed_due[feed.url] = now + self.runtime.settings.poll_interval_s
                self.enqueue(feed)
            return len(due)
        registry = self.runtime.registry
        count = 0
        for url in registry.claim_due(now=now, lease_s=_LEASE_S):
            feed = registry.get(url)
            if feed is not None:
                self.enqueue(feed)
                count += 1
        return count

    def resend_lost(self, *, now: float | None = None, any_age: bool = False) -> int:
        """Re-send in-flight items whose mark outlived the TTL (or all of them, when the caller knows no
        message is left that could finish them): their message was lost on the way."""
        tracker, resent = self.runtime.tracker, 0
        now = time.time() if now is None else now
        cutoff = now + self.runtime.settings.inflight_ttl_s if any_age else now
        for doc_id, item_json in tracker.stale(now=cutoff):
            if item_json is None:
                tracker.release(doc_id)  # nothing to re-send: the next poll that lists it takes it again
                continue
            item = json.loads(item_json)
            if tracker.count_redelivery(doc_id) > _MAX_REDELIVERIES:
                self.runtime.dead_letters.record(DeadLetter(
                    stage="pipeline", key=doc_id, url=item.get("url", ""), reason="pipeline.lost",
                    error=f"lost in flight {_MAX_REDELIVERIES} times", attempts=_MAX_REDELIVERIES + 1, payload=item,
                ))
                tracker.finish([doc_id])
                self.runtime.stats.incr("pipeline", "failed", reason="pipeline.lost")
                continue
            tracker.release(doc_id)
            if tracker.claim(doc_id, item_json):
                self.app.tasks[FETCH_TASK].apply_async((item,))
                self.runtime.stats.incr("pipeline", "resent")
                resent += 1
        return resent
