"""Operations during a real `newsworkers run`: metrics scraped over HTTP, `status` while it runs and after,
and the logs it writes, against a test redis-server that has a password (which must never be printed)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import ROOT, newsworkers_cli, wait_until
from tests.site import FixtureSite
from workers.core.models import Feed
from workers.state import FeedRegistry, Keys
from workers.state.embedded_redis import free_port, redis_server_binary

pytestmark = pytest.mark.slow

PASSWORD = "Hunter2-s3cret-Pa55"
PAGES = 24


@pytest.fixture(scope="module")
def secret_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of this module's own with ``requirepass``."""
    port = free_port()
    process = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--requirepass", PASSWORD,
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("secret-redis"))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"

    def pings() -> bool:
        try:
            return bool(redis.Redis.from_url(url).ping())
        except redis.ConnectionError:
            return False

    wait_until(pings, timeout_s=10, what="redis-server with a password")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def scrape(port: int) -> dict[str, float]:
    """The endpoint's samples: 'name{labels}' → value."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def metric(samples: dict[str, float], name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for key, value in samples.items():
        base, _, rest = key.partition("{")
        found = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if base == name and all(found.get(k) == v for k, v in labels.items()):
            total += value
    return total


def status(env: dict[str, str]) -> dict:
    result = subprocess.run([*newsworkers_cli(), "status", "--json"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_metrics_status_and_logs_of_a_real_run(secret_redis: str, site: FixtureSite, namespace: str,
                                               tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    run_port, extract_port = free_port(), free_port()
    worker_base = extract_port - 2  # extract's offset (see the standalone test for why the port is bind(0)'s)
    env = {**os.environ, "REDIS_URL": secret_redis, "NEWSWORKERS_NAMESPACE": namespace,
           "NEWSWORKERS_DATA_DIR": str(data_dir), "NEWSWORKERS_METRICS_PORT": str(run_port),
           "NEWSWORKERS_WORKER_METRICS_PORT": str(worker_base), "NEWSWORKERS_EXTRACT_CONCURRENCY": "1",
           "NEWSWORKERS_FETCH_TIMEOUT_S": "5", "NEWSWORKERS_MAX_RETRIES": "0", "NEWSWORKERS_STATUS_PING_TIMEOUT_S": "2"}
    env.pop("ELASTICSEARCH_URL", None)
    client = redis.Redis.from_url(secret_redis, decode_responses=True)
    registry = FeedRegistry(client, Keys(namespace))
    registry.add(Feed(url=site.url(f"/feeds/many.xml?n={PAGES}"), title="Many"))
    registry.add(Feed(url=site.url("/feeds/news.xml"), title="News"))
    # A dead link that carries the Redis password: every line that names it must mask it.
    registry.add(Feed(url=site.url(f"/feeds/links.xml?to=/articles/gone.html%3Ftoken%3D{PASSWORD}"), title="Links"))

    out, err = (tmp_path / "run.out").open("w"), (tmp_path / "run.err").open("w")
    run = subprocess.Popen([*newsworkers_cli(), "run"], env=env, cwd=ROOT, stdout=out, stderr=err)
    try:
        wait_until(lambda: _scrapes(run_port), timeout_s=30, what="the run's metrics endpoint")
        first = scrape(run_port)
        wait_until(lambda: metric(scrape(run_port), "newsworkers_items_out_total", stage="index") > 0,
                   timeout_s=180, what="a first indexed article", interval_s=0.5)

        # The index worker is a solo pool: it answers inspect between tasks, so a busy moment may miss it.
        seen: list[dict] = []
        wait_until(lambda: seen.append(status(env)) or seen[-1]["workers"]["alive"] == 4, timeout_s=60,
                   what="all four workers answering inspect", interval_s=0.5)
        assert {q: s["workers"] for q, s in seen[-1]["queues"].items()} == {
            "poll": 1, "fetch": 1, "extract": 1, "index": 1}

        def settled() -> bool:
            now = status(env)
            return (now["items"]["in_flight"] == 0 and now["failures"]["dead_letters"] >= 2
                    and all(q["depth"] == 0 and q["inflight"] == 0 for q in now["queues"].values()))

        wait_until(settled, timeout_s=180, what="the run to finish the feeds' items", interval_s=1)
        after = status(env)
        documents = after["index"]["documents"]
        assert documents >= PAGES
        samples = scrape(run_port)
        # the counters moved, and agree with the index and the dead letters
        assert metric(first, "newsworkers_items_out_total", stage="index") == 0
        assert metric(samples, "newsworkers_items_out_total", stage="index") == documents
        assert metric(samples, "newsworkers_items_in_total", stage="fetch") >= documents + 1
        assert metric(samples, "newsworkers_items_failed_total", stage="fetch", reason="fetch.http_404") == 2
        assert metric(samples, "newsworkers_task_seconds_count", stage="extract") >= documents
        assert metric(samples, "newsworkers_queue_depth", queue="extract") == 0
        assert metric(samples, "newsworkers_redis_up") == 1
        assert metric(samples, "newsworkers_dead_letters", stage="fetch") == 2
        # the extract worker's own endpoint: what its prefork child counted
        extract_own = scrape(extract_port)
        assert metric(extract_own, "newsworkers_items_in_total", stage="extract") >= documents
        assert metric(extract_own, "newsworkers_items_in_total", stage="fetch") == 0
        assert sum(after["rate"]["per_minute"]) == documents
        assert after["failures"]["last_hour"].get("fetch") == 2
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=90)
        out.close()
        err.close()

    assert status(env)["queues"]["extract"]["workers"] == 0  # no run: no workers, and status still answers

    outputs = {p.name: p.read_text(errors="replace") for p in (data_dir / "logs").iterdir()}
    outputs |= {"run.out": (tmp_path / "run.out").read_text(), "run.err": (tmp_path / "run.err").read_text()}
    leaked = [name for name, text in outputs.items() if PASSWORD in text or PASSWORD in text.replace("\n", "")]
    assert leaked == []
    lines = [line for line in outputs["fetch.log"].splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    failures = [e for e in events if e.get("event") == "dead-lettered"]
    assert sorted((e["url"], e["reason"]) for e in failures) == [
        (site.url("/articles/gone.html"), "fetch.http_404"),
        (site.url("/articles/gone.html?token=***"), "fetch.http_404")]
    assert "gone.html?token=***: fetch.http_404" in " ".join(outputs["run.out"].split())
    assert failures[0]["level"] == "warning" and failures[0]["timestamp"]


def _scrapes(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_standalone_worker_serves_its_own_metrics_and_logs_json(site: FixtureSite, settings_env: dict[str, str],
                                                                  tmp_path: Path) -> None:
    from workers.core.ids import document_id
    from workers.settings import Settings
    from workers.worker.app import create_app

    # The port itself comes from bind(0): Linux hands outgoing connections ports of the other parity, so a
    # neighbour of a free port may be any connection's (the worker's own to Redis among them).
    port = free_port()
    env = {**settings_env, "NEWSWORKERS_WORKER_METRICS_PORT": str(port - 1)}  # fetch is the base + 1
    stderr = (tmp_path / "worker.err").open("w")
    worker = subprocess.Popen([*newsworkers_cli(), "worker", "fetch", "--loglevel", "WARNING"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    try:
        try:
            wait_until(lambda: _scrapes(port), timeout_s=60, what="the fetch worker's metrics endpoint")
        except TimeoutError:
            pytest.fail(f"no endpoint on {port}; worker exit {worker.poll()}, its stderr:\n"
                        + (tmp_path / "worker.err").read_text()[-3000:])
        assert metric(scrape(port), "newsworkers_redis_up") == 1
        app = create_app(Settings(redis_url=env["REDIS_URL"], namespace=env["NEWSWORKERS_NAMESPACE"]))
        for path in ("/articles/lima-election.html", "/articles/gone.html"):
            url = site.url(path)
            app.tasks["newsworkers.fetch"].apply_async(({"doc_id": document_id(url), "url": url,
                                                         "feed_url": site.url("/feeds/news.xml")},))
        wait_until(lambda: metric(scrape(port), "newsworkers_items_in_total", stage="fetch") == 2, timeout_s=60,
                   what="two fetches counted", interval_s=0.3)
        wait_until(lambda: metric(scrape(port), "newsworkers_items_failed_total", stage="fetch") == 1,
                   timeout_s=30, what="the dead page counted", interval_s=0.3)
        samples = scrape(port)
        assert metric(samples, "newsworkers_items_out_total", stage="fetch") == 1
        assert metric(samples, "newsworkers_queue_depth", queue="extract") == 1  # no extract worker: it waits
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        stderr.close()
    events = [json.loads(line) for line in (tmp_path / "worker.err").read_text().splitlines() if line.strip()]
    assert [(e["event"], e["reason"]) for e in events if e["event"] == "dead-lettered"] == [
        ("dead-lettered", "fetch.http_404")]


@pytest.fixture
def settings_env(redis_url: str, namespace: str, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "REDIS_URL": redis_url, "NEWSWORKERS_NAMESPACE": namespace,
           "NEWSWORKERS_DATA_DIR": str(tmp_path / "data"), "NEWSWORKERS_FETCH_TIMEOUT_S": "5",
           "NEWSWORKERS_MAX_RETRIES": "0"}
    env.pop("ELASTICSEARCH_URL", None)
    return env
