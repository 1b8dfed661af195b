"""Ctrl-C in the middle of ingestion loses no accepted work and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT, newsworkers_cli, wait_until
from tests.site import FixtureSite

pytestmark = pytest.mark.slow

ARTICLES = 40


@pytest.fixture
def env(tmp_path, redis_url: str, namespace: str) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    environment = {**os.environ, "REDIS_URL": redis_url, "NEWSWORKERS_NAMESPACE": namespace,
                   "NEWSWORKERS_DATA_DIR": str(tmp_path / "data"), "NEWSWORKERS_FETCH_CONCURRENCY": "2",
                   "NEWSWORKERS_INDEX_BATCH_SIZE": "5", "NEWSWORKERS_INDEX_FLUSH_INTERVAL_S": "0.3"}
    environment.pop("ELASTICSEARCH_URL", None)
    yield environment


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*newsworkers_cli(), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)


def _indexed(env: dict[str, str]) -> int:
    client = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    return int(client.hget(f"{env['NEWSWORKERS_NAMESPACE']}:stats", "index.ok") or 0)


def test_interrupted_run_resumes_without_loss_or_duplicates(env: dict[str, str], site: FixtureSite) -> None:
    assert _cli(env, "feeds", "add", site.url(f"/feeds/many.xml?n={ARTICLES}")).returncode == 0
    proc = subprocess.Popen([*newsworkers_cli(), "run"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: _indexed(env) >= 5, timeout_s=90, what="first indexed batch", interval_s=0.1)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    interrupted_at = _indexed(env)
    assert interrupted_at < ARTICLES, "the run finished before it was interrupted; the test proves nothing"

    started = time.monotonic()
    resumed = _cli(env, "run", "--once", "--timeout", "120")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert time.monotonic() - started < 120

    result = json.loads(_cli(env, "search", "", "--json", "--limit", "100").stdout)
    titles = [hit["title"] for hit in result["hits"]]
    assert result["total"] == ARTICLES
    assert len(set(titles)) == ARTICLES
    assert json.loads(_cli(env, "failed", "list", "--json").stdout) == []


def test_an_item_left_in_flight_with_no_message_is_resent_not_waited_for(
    env: dict[str, str], site: FixtureSite
) -> None:
    from workers.core.ids import document_id
    from workers.core.models import FeedItem
    from workers.state import ItemTracker, Keys

    client = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    url = site.url("/articles/lima-election.html")
    item = FeedItem(doc_id=document_id(url), url=url, feed_url=site.url("/feeds/other.atom"))
    # A run that died between claiming this item and sending it on: no message exists anywhere.
    assert ItemTracker(client, Keys(env["NEWSWORKERS_NAMESPACE"]), 3600).claim(item.doc_id, item.model_dump_json())
    assert _cli(env, "feeds", "add", site.url("/feeds/other.atom")).returncode == 0
    result = _cli(env, "run", "--once", "--timeout", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    titles = {hit["title"] for hit in json.loads(_cli(env, "search", "", "--json").stdout)["hits"]}
    assert titles == {"Peru heads to a runoff as Lima counts the last ballots",
                      "Sony and TSMC to build a chip plant near Tokyo"}


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False


def test_a_killed_runner_takes_its_workers_along_and_the_next_run_finishes(
    env: dict[str, str], site: FixtureSite
) -> None:
    assert _cli(env, "feeds", "add", site.url(f"/feeds/many.xml?n={ARTICLES}")).returncode == 0
    proc = subprocess.Popen([*newsworkers_cli(), "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _indexed(env) >= 5, timeout_s=90, what="first indexed batch", interval_s=0.1)
        workers = _children(proc.pid)
        assert len(workers) == 4
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    wait_until(lambda: not any(_alive(pid) for pid in workers), timeout_s=60, what="orphaned workers to exit")
    resumed = _cli(env, "run", "--once", "--timeout", "120")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    result = json.loads(_cli(env, "search", "", "--json", "--limit", "100").stdout)
    assert result["total"] == ARTICLES
    assert len({hit["title"] for hit in result["hits"]}) == ARTICLES


def test_a_killed_runner_takes_the_embedded_redis_along(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env["NEWSWORKERS_DATA_DIR"] = str(tmp_path / "data")
    pidfile = tmp_path / "data" / "redis" / "redis.pid"
    proc = subprocess.Popen([*newsworkers_cli(), "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_until(pidfile.exists, timeout_s=60, what="embedded redis")
        redis_pid = int(pidfile.read_text())
        wait_until(lambda: len(_children(proc.pid)) >= 5, timeout_s=60, what="workers")
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    wait_until(lambda: not _alive(redis_pid), timeout_s=30, what="the embedded redis to exit")
    resumed = _cli(env, "run", "--once", "--timeout", "120")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert json.loads(_cli(env, "search", "", "--json").stdout)["total"] == 30  # the whole offline corpus


def test_a_second_run_on_an_owned_data_directory_is_refused(tmp_path: Path) -> None:
    from workers.state.ownership import DataDirLock

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env["NEWSWORKERS_DATA_DIR"] = str(tmp_path / "data")
    owner = DataDirLock(tmp_path / "data")
    assert owner.acquire()
    try:
        result = _cli(env, "run", "--once")
    finally:
        owner.release()
    assert result.returncode == 2
    assert f"is in use by process {os.getpid()}" in " ".join(result.stderr.split())


def test_a_continuous_run_picks_up_news_as_the_feed_grows(env: dict[str, str], site: FixtureSite) -> None:
    site.growing = 2
    env = {**env, "NEWSWORKERS_POLL_INTERVAL_S": "10"}
    assert _cli(env, "feeds", "add", site.url("/feeds/growing.xml")).returncode == 0
    proc = subprocess.Popen([*newsworkers_cli(), "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _indexed(env) == 2, timeout_s=60, what="the first two articles", interval_s=0.2)
        site.growing = 5
        wait_until(lambda: _indexed(env) == 5, timeout_s=60, what="the news that came later", interval_s=0.2)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    result = json.loads(_cli(env, "search", "dispatch", "--json", "--limit", "20").stdout)
    assert sorted(int(hit["title"].split(":")[0].split()[1]) for hit in result["hits"]) == [0, 1, 2, 3, 4]
