"""When feeds are polled: the adaptive interval and its bounds, publisher hints,
backoff, jitter, per-host spreading, and the atomic claim of due feeds by two
schedulers racing on a real Redis."""

from __future__ import annotations

import itertools
import random
import threading
import time

import pytest
import redis

from workers.core.models import Feed
from workers.pipeline.poll.schedule import (
    adapt_interval,
    failure_delay,
    interval_bounds,
    jittered,
    max_age_seconds,
    publisher_hint_seconds,
)
from workers.settings import Settings
from workers.state import FeedRegistry, Keys


@pytest.fixture
def policy(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(data_dir=tmp_path, poll_interval_s=900, poll_min_interval_s=300, poll_max_interval_s=14_400,
                    poll_jitter_ratio=0.1, feed_error_backoff_max_s=86_400)


def _run(policy: Settings, new_per_poll: list[int], *, hint_s: float | None = None) -> list[float]:
    rate, interval, intervals = None, None, []
    for i, new in enumerate(new_per_poll):
        elapsed = None if i == 0 else interval
        rate, interval = adapt_interval(policy, rate_per_s=rate, interval_s=interval, new_items=new,
                                        elapsed_s=elapsed, hint_s=hint_s)
        intervals.append(interval)
    return intervals


def test_a_busy_feed_goes_to_the_minimum_and_a_quiet_one_to_the_maximum(policy: Settings) -> None:
    busy = _run(policy, [50] + [20] * 15)
    assert busy[0] == 900  # the first poll's items are the backlog: no rate from them
    assert busy[-1] == 300
    quiet = _run(policy, [50] + [0] * 30)
    assert quiet[-1] == 14_400
    for before, after in itertools.pairwise(quiet):
        assert after <= 2 * before  # one quiet poll never sends a feed to the maximum
    assert all(300 <= i <= 14_400 for i in busy + quiet)


def test_a_feed_with_one_item_an_hour_is_polled_about_hourly(policy: Settings) -> None:
    rate, interval = None, None
    for i in range(40):
        elapsed = None if i == 0 else interval
        new = 0 if i == 0 else round((elapsed or 0) / 3600 * 1000) / 1000  # fractional: the long-run average
        rate, interval = adapt_interval(policy, rate_per_s=rate, interval_s=interval, new_items=new,  # type: ignore[arg-type]
                                        elapsed_s=elapsed, hint_s=None)
    assert 3000 <= (interval or 0) <= 4300


def test_publisher_hints_are_floors_capped_by_the_maximum(policy: Settings) -> None:
    assert _run(policy, [5, 50, 50, 50], hint_s=3600)[-1] == 3600
    assert _run(policy, [5, 50], hint_s=10 * 86_400)[-1] == 14_400


def test_bounds_widen_to_take_poll_interval_s(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert interval_bounds(Settings(data_dir=tmp_path, poll_interval_s=10)) == (10, 14_400)
    assert interval_bounds(Settings(data_dir=tmp_path, poll_interval_s=86_400)) == (300, 86_400)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("public, max-age=600", 600), ("max-age=0", None), ("no-cache, max-age=600", None), (None, None),
     ('max-age="120"', 120), ("s-maxage=50", None)],
)
def test_max_age(value: str | None, seconds: float | None) -> None:
    assert max_age_seconds(value) == seconds


def test_publisher_hints() -> None:
    assert publisher_hint_seconds(max_age_s=None, ttl="60", update_period=None, update_frequency=None) == 3600
    assert publisher_hint_seconds(max_age_s=None, ttl=None, update_period="hourly", update_frequency="2") == 1800
    assert publisher_hint_seconds(max_age_s=None, ttl=None, update_period=" Daily ", update_frequency=None) == 86_400
    assert publisher_hint_seconds(max_age_s=900, ttl="5", update_period="bogus", update_frequency="x") == 900
    assert publisher_hint_seconds(max_age_s=None, ttl="soon", update_period=None, update_frequency=None) is None


def test_failure_backoff(policy: Settings) -> None:
    assert [failure_delay(policy, error_streak=n, retry_after_s=None) for n in (1, 2, 3)] == [900, 1800, 3600]
    assert failure_delay(policy, error_streak=60, retry_after_s=None) == 86_400
    assert failure_delay(policy, error_streak=1, retry_after_s=7200) == 7200  # Retry-After wins when longer
    assert failure_delay(policy, error_streak=1, retry_after_s=60 * 86_400) == 7 * 86_400  # within reason


def test_jitter_only_adds(policy: Settings) -> None:
    rng = random.Random(7)
    values = [jittered(1000, policy, rng) for _ in range(500)]
    assert min(values) >= 1000 and max(values) <= 1100
    assert max(values) - min(values) > 50  # it does spread


# -- Redis: the schedule ----------------------------------------------------------------------------


@pytest.fixture
def client(redis_url: str):  # type: ignore[no-untyped-def]
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    yield connection
    connection.close()


def test_feeds_of_one_host_are_spread_apart(client: redis.Redis, namespace: str) -> None:
    registry = FeedRegistry(client, Keys(namespace), host_spacing_s=2.0)
    now = time.time()
    for n in range(40):
        registry.add(Feed(url=f"https://paper.example/section/{n}.xml"), first_poll_at=now)
    registry.add(Feed(url="https://other.example/feed.xml"), first_poll_at=now)
    times = sorted(registry.next_poll_at(f"https://paper.example/section/{n}.xml") or 0 for n in range(40))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 2.0 - 1e-6
    assert times[-1] - times[0] <= 40 * 2.0  # spread, not pushed away
    assert registry.next_poll_at("https://other.example/feed.xml") == pytest.approx(now)  # other hosts unaffected
    # A rescheduled feed takes a free slot near its wish, not one taken.
    chosen = registry.schedule("https://paper.example/section/0.xml", times[5])
    assert chosen is not None and all(abs(chosen - t) >= 2.0 - 1e-6 for t in times[1:])


def test_two_schedulers_racing_never_claim_a_feed_twice(client: redis.Redis, redis_url: str, namespace: str) -> None:
    keys = Keys(namespace)
    FeedRegistry(client, keys)  # no spacing: every feed due at once, the worst case
    seeding = FeedRegistry(client, keys)
    now = time.time()
    for n in range(600):
        seeding.add(Feed(url=f"https://h{n % 50}.example/{n}.xml"), first_poll_at=now - 1)
    claimed: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def scheduler(slot: int) -> None:
        own = redis.Redis.from_url(redis_url, decode_responses=True)  # each scheduler its own connection
        registry = FeedRegistry(own, keys)
        start.wait()
        while batch := registry.claim_due(now=time.time(), lease_s=600, limit=7):
            claimed[slot].extend(batch)
        own.close()

    threads = [threading.Thread(target=scheduler, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    first, second = claimed
    assert first and second, "both schedulers should have won some feeds"
    assert not set(first) & set(second)
    assert len(first) + len(second) == len(set(first) | set(second)) == 600


def test_two_scheduler_processes_racing_enqueue_each_due_feed_once(settings: Settings) -> None:
    from workers.ops.scheduler import Scheduler
    from workers.worker.app import create_app

    apps = [create_app(settings), create_app(settings)]  # two schedulers, each its own Redis connections
    registry = apps[0].runtime.registry
    now = time.time()
    for n in range(120):
        registry.add(Feed(url=f"https://race{n % 12}.example/{n}.xml"), first_poll_at=now - 1)
    start = threading.Barrier(2)
    counts = [0, 0]

    def run(slot: int) -> None:
        scheduler = Scheduler(apps[slot], apps[slot].runtime)
        start.wait()
        for _ in range(20):
            counts[slot] += scheduler.tick(time.time() + 120 * settings.feed_host_spacing_s)

    threads = [threading.Thread(target=run, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    client = redis.Redis.from_url(settings.redis_url or "", decode_responses=True)
    queued = client.llen(f"{settings.namespace}:poll")
    client.close()
    assert sum(counts) == queued == 120
