"""Back-pressure in a real run: a slow extract pool (one process) behind a fast poller. The fetch+extract
backlog, sampled from Redis all along, stays within the high-water mark plus what one poll enqueues plus
the fetch worker's prefetch window; polls are held, never failed; and every item is indexed in the end."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT, cli_environment, newsworkers_cli
from tests.site import FixtureSite
from workers.core.models import Feed
from workers.search.tantivy.backend import TantivyBackend
from workers.state import FeedRegistry, Keys

pytestmark = pytest.mark.slow

FEEDS, PER_FEED = 10, 8
HIGH, LOW = 12, 4
FETCH_THREADS = 2  # its prefetch (threads × 2) is out of the queue for a moment, then lands on extract


def test_backlog_stays_bounded_and_everything_is_indexed(site: FixtureSite, tmp_path: Path, redis_url: str,
                                                         namespace: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = Keys(namespace)
    registry = FeedRegistry(client, keys, host_spacing_s=0)
    for feed in range(FEEDS):
        registry.add(Feed(url=site.url(f"/gen/{500 + feed}.xml?m={PER_FEED}")))
    env = cli_environment(tmp_path / "data", redis_url, namespace)
    env.update(NEWSWORKERS_EXTRACT_CONCURRENCY="1", NEWSWORKERS_POLL_CONCURRENCY="1",
               NEWSWORKERS_FETCH_CONCURRENCY=str(FETCH_THREADS), NEWSWORKERS_BACKLOG_HIGH_WATER_MSGS=str(HIGH),
               NEWSWORKERS_BACKLOG_LOW_WATER_MSGS=str(LOW), NEWSWORKERS_BACKPRESSURE_RETRY_S="0.3",
               NEWSWORKERS_EXTRACT_BATCH_SIZE="2", NEWSWORKERS_METRICS_PORT="0",
               NEWSWORKERS_INDEX_FLUSH_INTERVAL_S="0.2")
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            pipe = client.pipeline(transaction=False)
            pipe.llen(keys.queue("fetch"))
            pipe.llen(keys.queue("extract"))
            peak[0] = max(peak[0], sum(pipe.execute()))
            stop.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = subprocess.run([*newsworkers_cli(), "run", "--once", "--timeout", "150"], env=env, cwd=ROOT,
                                capture_output=True, text=True, timeout=200)
    finally:
        stop.set()
        sampler.join()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert peak[0] <= HIGH + PER_FEED + 2 * FETCH_THREADS, peak[0]
    counts = client.hgetall(keys.stats)
    assert int(counts.get("backpressure.held", 0)) >= 1, counts  # it did hold back...
    assert int(counts.get("poll.held", 0)) >= 1, counts
    assert "poll.failed" not in counts  # ...and a held poll is no failure
    assert not client.exists(f"{namespace}:backpressure")  # drained: no longer held
    assert TantivyBackend(tmp_path / "data" / "index").count() == FEEDS * PER_FEED
    assert all(registry.state(f.url).error_streak == 0 for f in registry.all())
