"""Redis out of reach in the middle of a task, and a broker connection lost under a half-full batch: the
message comes back at once, whole, and nothing waits for the in-flight TTL or the visibility timeout."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT, RedisServer, newsworkers_cli
from tests.faults.conftest import (
    HOOKS,
    PER_FEED,
    Pipeline,
    Report,
    count_index,
    fault_settings,
    indexed_count,
    prepare_run,
    run_env,
    wait_for_index,
)
from tests.site import FixtureSite
from workers.settings import Settings
from workers.worker.app import create_app

pytestmark = pytest.mark.slow

FEEDS_HERE = 2
TOTAL = FEEDS_HERE * PER_FEED
# Far beyond the test's waits: an article that came through did not come back the slow way.
SLOW_WAYS = {"visibility_timeout_s": 900, "inflight_ttl_s": 900}


def test_an_outage_mid_task_gives_every_stage_its_message_back(
    settings: Settings, site: FixtureSite, pipeline: Callable[[dict[str, str]], Pipeline], tmp_path: Path
) -> None:
    marks = tmp_path / "outages"
    marks.mkdir()
    settings, env = prepare_run(settings, site, feeds=FEEDS_HERE, env={
        "NEWSWORKERS_TEST_FAULT_OUTAGES": str(marks), "PYTHONPATH": f"{HOOKS}:{ROOT}"}, **SLOW_WAYS)
    report = Report("Redis away mid-task, once in each of poll, fetch, extract and index", sent=TOTAL)
    started = time.monotonic()
    run = pipeline(env)
    wait_for_index(settings, TOTAL, timeout_s=180, run=run)  # fails at once on a dead letter
    report.total_s = time.monotonic() - started
    time.sleep(1)
    assert run.stop() == 0, run.output()
    assert sorted(p.name for p in marks.iterdir()) == ["extract", "fetch", "index", "poll"]
    stats = redis.Redis.from_url(settings.redis_url or "", decode_responses=True).hgetall(
        f"{settings.namespace}:stats")
    report.extra = f"stats={stats}"
    count_index(report, settings, feeds=FEEDS_HERE)
    report.print()
    assert (report.lost, report.duplicated) == (0, 0)
    # Nothing was recorded against a feed or a page, and nothing had to be re-sent as lost in flight.
    assert not {k: v for k, v in stats.items() if k.endswith((".failed", ".resent"))}
    assert int(stats["fetch.ok"]) == TOTAL


def index_message(n: int) -> dict[str, object]:
    doc_id = f"reconnect-{n}"
    article = {"id": doc_id, "id_version": 1, "url": f"https://x.example/{doc_id}", "domain": "x.example",
               "title": f"Article {n}", "body": "Body text.", "fetched_at": "2021-01-01T00:00:00Z",
               "published_at": "2021-01-01T00:00:00Z", "date_source": "page"}
    return {"batch": [{"article": article, "done": [doc_id]}]}


def test_a_batch_short_of_full_still_flushes_on_time_after_the_broker_comes_back(
    settings: Settings, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "own-redis")
    server.start()
    # 50 messages make a full index batch: these single messages go only by the flush timer.
    settings = fault_settings(settings, redis_url=server.url, index_batch_size=400, **SLOW_WAYS)
    with (tmp_path / "index-worker.log").open("wb") as log:
        worker = subprocess.Popen([*newsworkers_cli(), "worker", "index", "--loglevel", "INFO"], env=run_env(settings),
                                  cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        app = create_app(settings)
        index = app.tasks["newsworkers.index"]
        index.apply_async((index_message(1),))
        wait_until_indexed(settings, 1, worker, tmp_path)
        server.stop()  # the worker's consumer loses its connection, and Celery drops its event loop's timers
        time.sleep(1)
        server.start()
        index.apply_async((index_message(2),))
        wait_until_indexed(settings, 2, worker, tmp_path)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        server.stop()


def wait_until_indexed(settings: Settings, count: int, worker: subprocess.Popen[bytes], tmp_path: Path) -> None:
    deadline = time.monotonic() + 60
    while indexed_count(settings) < count:
        assert worker.poll() is None, (tmp_path / "index-worker.log").read_text()[-3000:]
        assert time.monotonic() < deadline, (
            f"{indexed_count(settings)} of {count} documents after 60 s:\n"
            + (tmp_path / "index-worker.log").read_text()[-3000:])
        time.sleep(0.2)
