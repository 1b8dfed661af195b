"""The fault suite's harness: `newsworkers run` as a real process over generated feeds, and counts from the index.

Every run's environment is built from the shared ``settings`` fixture (tests/conftest.py), so whatever
the suite's settings carry (the test Redis, a namespace, network allow-lists) reaches the processes too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT, RedisServer, newsworkers_cli, wait_until
from tests.site import FixtureSite
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings

FEEDS, PER_FEED = 8, 20  # 160 articles per run: a few hundred pages, small enough for 2 shared cores
TOTAL = FEEDS * PER_FEED
HOOKS = Path(__file__).resolve().parent / "hooks"
_TITLE = re.compile(r"^Gen (\d+)-(\d+):")


def fault_settings(settings: Settings, **overrides: object) -> Settings:
    """The suite's settings for a pipeline that must show faults quickly: short timeouts, small batches."""
    return settings.model_copy(update={
        "visibility_timeout_s": 20, "index_batch_size": 20, "index_flush_interval_s": 0.3,
        "fetch_concurrency": 4, "extract_concurrency": 2, "max_retries": 4, "retry_backoff_s": 0.5,
        "retry_backoff_max_s": 2.0, "poll_interval_s": 10, "inflight_ttl_s": 120, "extract_time_limit_s": 60,
        "extract_max_alloc_mb": 512, **overrides,
    })


def run_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWORKERS_") and k != "ELASTICSEARCH_URL"}
    return {**env, **settings.as_environment(), **extra}


@dataclass
class Report:
    """What one fault did, printed for the closing note."""

    fault: str
    sent: int
    indexed: int = 0
    duplicated: int = 0
    lost: int = 0
    recover_s: list[float] = field(default_factory=list)
    total_s: float = 0.0
    extra: str = ""

    def print(self) -> None:
        recover = ", ".join(f"{s:.1f}" for s in self.recover_s) or "-"
        print(f"\nFAULT REPORT {self.fault}: sent={self.sent} indexed={self.indexed} duplicated={self.duplicated} "
              f"lost={self.lost} recover_s=[{recover}] total_s={self.total_s:.1f} {self.extra}")


@dataclass
class IndexContents:
    count: int
    ids: Counter[str]
    urls: Counter[str]
    titles: Counter[str]

    @property
    def duplicated(self) -> int:
        """Documents beyond one per id, per URL or per generated article: none may exist."""
        return max(self.count - len(self.ids), sum(self.urls.values()) - len(self.urls),
                   sum(self.titles.values()) - len(self.titles))

    def generated(self) -> set[tuple[int, int]]:
        found = set()
        for title in self.titles:
            match = _TITLE.match(title)
            if match:
                found.add((int(match.group(1)), int(match.group(2))))
        return found


def index_contents(settings: Settings) -> IndexContents:
    backend = TantivyBackend(settings.index_dir)
    try:
        count = backend.count()
        hits = backend.search(SearchQuery(text="", limit=max(count, 1) + 10)).hits
    finally:
        backend.close()
    return IndexContents(count, Counter(h.id for h in hits), Counter(h.url for h in hits),
                         Counter(h.title for h in hits))


def indexed_count(settings: Settings) -> int:
    if not settings.index_dir.exists():
        return 0
    try:
        backend = TantivyBackend(settings.index_dir)
    except Exception:  # created by the writer a moment from now
        return 0
    try:
        return backend.count()
    finally:
        backend.close()


def expected_articles(feeds: int = FEEDS, per_feed: int = PER_FEED) -> set[tuple[int, int]]:
    return {(f, i) for f in range(feeds) for i in range(per_feed)}


def add_generated_feeds(env: dict[str, str], site: FixtureSite, feeds: int = FEEDS, per_feed: int = PER_FEED) -> None:
    for f in range(feeds):
        result = subprocess.run([*newsworkers_cli(), "feeds", "add", site.url(f"/gen/{f}.xml?m={per_feed}")],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr


def prepare_run(settings: Settings, site: FixtureSite, *, feeds: int = FEEDS, env: dict[str, str] | None = None,
                **overrides: object) -> tuple[Settings, dict[str, str]]:
    """The fault settings (with ``overrides``) and a run environment (with ``env``) whose feeds are added."""
    settings = fault_settings(settings, **overrides)
    run_environment = run_env(settings, **(env or {}))
    add_generated_feeds(run_environment, site, feeds)
    return settings, run_environment


def count_index(report: Report, settings: Settings, *, feeds: int = FEEDS) -> IndexContents:
    """Fills ``report`` from the index itself (indexed, duplicated, lost) and returns what was counted."""
    contents = index_contents(settings)
    report.indexed, report.duplicated = len(contents.generated()), contents.duplicated
    report.lost = len(expected_articles(feeds) - contents.generated())
    return contents


class Pipeline:
    """One `newsworkers run` process (continuous), its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Pipeline:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([*newsworkers_cli(), "run"], env=self.env, cwd=ROOT, stdout=out,
                                         stderr=subprocess.STDOUT)
        return self

    def worker_pid(self, kind: str) -> int | None:
        """The pid of the Celery worker of ``kind`` that the runner started (the live one)."""
        assert self.proc is not None
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                try:
                    argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if b"--queues" not in argv:
                    continue
                live_queue = argv[argv.index(b"--queues") + 1].split(b",")[0]  # backfill queues follow it
                if live_queue.split(b".")[-1] == kind.encode():
                    return int(child)
        return None

    def kill_worker(self, kind: str) -> int:
        """kill -9 the worker's whole process group (the prefork children too); returns the pid."""
        wait_until(lambda: self.worker_pid(kind) is not None, timeout_s=60, what=f"{kind} worker")
        pid = self.worker_pid(kind)
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)
        return pid

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout_s: float = 90) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def pipeline(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[dict[str, str]], Pipeline]]:
    started: list[Pipeline] = []

    def start(env: dict[str, str]) -> Pipeline:
        run = Pipeline(env, tmp_path / f"run{len(started)}.log").start()
        started.append(run)
        return run

    yield start
    for run in started:
        if run.proc is not None and run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()
    artifacts = os.environ.get("NEWSWORKERS_FAULT_ARTIFACTS")
    if artifacts:  # pytest prunes old temporary folders; keep the runs' output and worker logs to read later
        target = Path(artifacts) / request.node.name
        shutil.copytree(tmp_path, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("index", "redis*"))


def dead_letter_reasons(settings: Settings) -> dict[str, str]:
    client = redis.Redis.from_url(settings.redis_url or "", decode_responses=True)
    try:
        return {key: json.loads(raw)["reason"] for key, raw in client.hgetall(f"{settings.namespace}:failed").items()}
    except redis.ConnectionError:
        return {}
    finally:
        client.close()


def wait_for_index(settings: Settings, target: int, *, timeout_s: float, run: Pipeline | None = None,
                   failures_allowed: bool = False) -> float:
    """Seconds until the index holds ``target`` documents; fails with the run's output otherwise."""
    started = time.monotonic()
    while indexed_count(settings) < target:
        if not failures_allowed and (failed := dead_letter_reasons(settings)):
            pytest.fail(f"articles were dead-lettered: {failed}\n" + (run.output() if run else ""))
        if run is not None and run.proc is not None and run.proc.poll() is not None:
            pytest.fail(f"newsworkers run exited ({run.proc.returncode}):\n{run.output()}")
        if time.monotonic() - started > timeout_s:
            pytest.fail(f"only {indexed_count(settings)} of {target} documents after {timeout_s}s:\n"
                        + (run.output() if run else ""))
        time.sleep(0.5)
    return time.monotonic() - started


def stage_done(settings: Settings, stage: str) -> int:
    client = redis.Redis.from_url(settings.redis_url or "", decode_responses=True)
    try:
        return int(client.hget(f"{settings.namespace}:stats", f"{stage}.ok") or 0)
    finally:
        client.close()


def wait_for_stage(settings: Settings, stage: str, *, total: int, timeout_s: float = 120) -> float:
    """Seconds until ``stage`` finishes one more item than now (the killed kind works again), or all of them."""
    started, before = time.monotonic(), stage_done(settings, stage)
    wait_until(lambda: stage_done(settings, stage) > min(before, total - 1), timeout_s=timeout_s,
               what=f"{stage} to resume", interval_s=0.1)
    return time.monotonic() - started


def wait_for_growth(settings: Settings, *, timeout_s: float = 120, run: Pipeline | None = None) -> float:
    """Seconds until the index grows past its size now (the pipeline works again)."""
    return wait_for_index(settings, indexed_count(settings) + 1, timeout_s=timeout_s, run=run)


class AofRedisServer(RedisServer):
    """A test's own redis-server with its append-only file on, so a kill -9 and restart keeps the data."""

    def __init__(self, directory: Path, appendfsync: str = "everysec") -> None:
        super().__init__(directory)
        self.appendfsync = appendfsync

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self._binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--save", "", "--appendonly", "yes", "--appendfsync", self.appendfsync],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        from tests.conftest import _pings

        wait_until(lambda: _pings(self.url), timeout_s=30, what="redis-server")

    @staticmethod
    def _binary() -> str:
        from workers.state.embedded_redis import redis_server_binary

        return redis_server_binary()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
