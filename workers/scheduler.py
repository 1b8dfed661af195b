"""The scheduler decides which feeds are due and hands them to the poll queue.

Due feeds come from the registry's sorted set, claimed atomically (two
schedulers never poll one feed twice). With an empty registry the offline
corpus in seeds/ is polled instead, without being added to the registry.
The scheduler holds back while the fetch and extract backlog is above the
high-water mark, so queues never grow without bound.
"""

from __future__ import annotations

import time
from pathlib import Path

from celery import Celery

from workers.models import Feed
from workers.runtime import Runtime

__all__ = ["Scheduler", "seed_feeds"]

_LEASE_S = 600.0  # a claimed feed is not handed out again while its poll may still be running


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

    def backlog(self) -> int:
        redis, keys = self.runtime.redis, self.runtime.keys
        pipe = redis.pipeline(transaction=False)
        for name in ("fetch", "extract"):
            pipe.llen(keys.queue(name))
        return sum(int(n) for n in pipe.execute())

    def enqueue(self, feed: Feed) -> None:
        self.runtime.redis.sadd(self.runtime.keys.pending_polls, feed.url)
        self.app.tasks["newsworkers.poll"].apply_async((feed.model_dump(mode="json"),))

    def poll_all(self, feeds: list[Feed]) -> int:
        """Enqueue one poll of every feed now (``run --once``)."""
        for feed in feeds:
            self.enqueue(feed)
        return len(feeds)

    def tick(self, now: float | None = None) -> int:
        """Enqueue the feeds due by ``now``; returns how many."""
        now = time.time() if now is None else now
        if self.backlog() > self.runtime.settings.backlog_high_water:
            return 0
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
