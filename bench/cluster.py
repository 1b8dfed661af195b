"""Scale-out across hosts, shown with real processes on hosts made of Linux network namespaces.

    sudo .venv/bin/python bench/cluster.py --articles 300 --json

Host 1 (198.18.0.1) runs Redis, the index writer (Tantivy), a scheduler and the
fixture site's generated feeds and pages; hosts 2 and 3 run poll/fetch (``worker
io``) and extract workers that reach Redis and the site over the veth network
only (bench/netns.py). The run goes in three waves of feeds:

1. hosts 2 and 3 share the first quarter of the articles;
2. host 4 joins (new namespace, new workers, nothing restarted) and the second
   quarter is registered: host 4's share shows it was picked up;
3. the last half is registered and, while host 2 is extracting it, host 2 is
   cut off (link down on both ends) and its processes are killed; what it held
   unacknowledged comes back after the visibility timeout to hosts 3 and 4.

A second scheduler runs on host 3 the whole time; every feed must be polled
exactly once (one due time each: the run is shorter than ``poll_interval_s``),
counted on the fixture site. At the end the index is read: ``indexed`` counts
the generated articles found, ``lost`` those missing, ``duplicates`` the
documents beyond one per id, URL or article. ``shares`` counts articles
extracted per worker host, read from each host's own Prometheus multiprocess
files (each host has its own data directory), so a page extracted by host 2
before the cut and again after it counts for both hosts.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.netns import Network, can_create_namespaces, in_namespace, sweep_stale  # noqa: E402
from tests.site import FixtureSite, make_handler  # noqa: E402
from workers.core.models import Feed  # noqa: E402
from workers.settings import Settings  # noqa: E402
from workers.state.embedded_redis import redis_server_binary  # noqa: E402

__all__ = ["PER_FEED", "main", "run_cluster"]

PER_FEED = 10
"""Items per generated feed."""

REDIS_PORT = 6379  # a fresh namespace has no listener at all: every port is free in host 1
_TITLE = re.compile(r"^Gen (\d+)-(\d+):")


def _environment(namespace: str, data_dir: Path, visibility_timeout_s: int, redis_url: str) -> dict[str, str]:
    """A worker host's environment: our Redis over the veth network, limits that let the cluster set the pace."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NEWSWORKERS_") and k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    settings = {
        "namespace": namespace, "data_dir": str(data_dir),
        # The page archive is the one volume every worker host mounts (as in docker-compose.yml): a page one
        # host fetched is read back by whichever host extracts it.
        "archive_dir": str(data_dir.parent / "archive"),
        "allowed_networks": "198.18.0.0/24",  # the guard refuses the benchmarking range otherwise
        "domain_min_interval_s": "0", "domain_max_concurrency": "64", "feed_host_spacing_s": "0",
        "obey_robots_txt": "false", "visibility_timeout_s": str(visibility_timeout_s),
        "extract_concurrency": "1", "fetch_concurrency": "8", "poll_concurrency": "4",
        "index_batch_size": "50", "index_flush_interval_s": "0.5", "metrics_port": "0", "log_format": "json",
    }
    env.update({f"NEWSWORKERS_{k.upper()}": v for k, v in settings.items()})
    env["REDIS_URL"] = redis_url
    return env


def _newsworkers() -> list[str]:
    script = Path(sys.executable).parent / "newsworkers"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from workers.cli.main import main; main()"]


def extracted(data_dir: Path) -> int:
    """Articles the extract workers of one host finished, from its Prometheus multiprocess files."""
    from prometheus_client.multiprocess import MultiProcessCollector

    files = glob.glob(str(data_dir / "metrics" / "*" / "*.db"))
    for metric in MultiProcessCollector.merge(files, accumulate=True):
        for sample in metric.samples:
            if sample.name == "newsworkers_items_out_total" and sample.labels.get("stage") == "extract":
                return int(sample.value)
    return 0


class Cluster:
    """The processes of one run, each in its host's namespace, and the fixture site served on host 1."""

    def __init__(self, work: Path, *, visibility_timeout_s: int) -> None:
        self.work = work
        self.net = Network()
        self.namespace = f"cluster{os.getpid()}"
        self.visibility_timeout_s = visibility_timeout_s
        self.processes: dict[int, list[subprocess.Popen[bytes]]] = {}
        self.site = FixtureSite()
        self.server: ThreadingHTTPServer | None = None
        # Redis refuses non-loopback clients without a password (protected mode); a real deployment has one too.
        self.password = secrets.token_hex(12)
        self.redis_url = f"redis://:{self.password}@{Network.address(1)}:{REDIS_PORT}/0"
        self.socket = work / "redis" / "redis.sock"

    def data_dir(self, host: int) -> Path:
        return self.work / f"host{host}"

    def start(self, host: int, *argv: str) -> subprocess.Popen[bytes]:
        env = _environment(self.namespace, self.data_dir(host), self.visibility_timeout_s, self.redis_url)
        logs = self.work / "logs"
        logs.mkdir(exist_ok=True)
        role = argv[argv.index("worker") + 1] if "worker" in argv else "scheduler" if "scheduler" in argv else argv[0]
        label = f"host{host}-{Path(role).name}"
        with open(logs / f"{label}.out", "ab") as out:
            # A session of its own: the process and its prefork children are killed as one group, by its id.
            process = subprocess.Popen(self.net.exec_argv(host, list(argv)), env=env, cwd=ROOT, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.setdefault(host, []).append(process)
        return process

    def start_hub(self) -> None:
        self.net.add_host(1)
        (self.work / "redis").mkdir()
        self.start(1, redis_server_binary(), "--bind", Network.address(1),
                   "--port", str(REDIS_PORT), "--unixsocket", str(self.socket), "--requirepass", self.password,
                   "--unixsocketperm", "700", "--dir", str(self.work / "redis"), "--save", "", "--appendonly", "no")
        with in_namespace(self.net.name(1)):
            self.server = ThreadingHTTPServer((Network.address(1), 0), make_handler(self.site))
        self.server.daemon_threads = True
        self.site.base = f"http://{Network.address(1)}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        _wait(lambda: self._redis_pings(), 15, "redis-server on host 1")
        self.start(1, *_newsworkers(), "worker", "index", "--loglevel", "WARNING")
        self.start(1, *_newsworkers(), "scheduler")

    def _redis_pings(self) -> bool:
        import redis

        with contextlib.suppress(redis.RedisError):
            return bool(self.redis().ping())
        return False

    def redis(self) -> Any:
        import redis

        return redis.Redis(unix_socket_path=str(self.socket), password=self.password, decode_responses=True)

    def settings(self) -> Settings:
        """Settings for the harness's own look into host 1's Redis (its unix socket) and index."""
        return Settings(redis_url=f"unix://:{self.password}@{self.socket}?db=0", namespace=self.namespace,
                        data_dir=self.data_dir(1), feed_host_spacing_s=0)

    def start_worker_host(self, host: int) -> None:
        self.net.add_host(host)
        self.start(host, *_newsworkers(), "worker", "io", "--loglevel", "WARNING")
        self.start(host, *_newsworkers(), "worker", "extract", "--loglevel", "WARNING")

    def kill_host(self, host: int) -> None:
        for process in self.processes.pop(host, []):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        for host in list(self.processes):
            for process in self.processes[host]:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for host in list(self.processes):
            for process in self.processes[host]:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
            self.kill_host(host)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        self.net.close()


def _wait(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout_s:.0f} s")
        time.sleep(0.25)


def index_contents(settings: Settings) -> tuple[int, Counter[str], Counter[str], Counter[str]]:
    """Documents in the index, and how many per id, per URL and per title."""
    from workers.search.model import SearchQuery
    from workers.search.tantivy.backend import TantivyBackend

    if not settings.index_dir.exists():
        return 0, Counter(), Counter(), Counter()
    try:
        backend = TantivyBackend(settings.index_dir)
    except Exception:  # the writer creates it with its first batch
        return 0, Counter(), Counter(), Counter()
    try:
        count = backend.count()
        hits = backend.search(SearchQuery(text="", limit=max(count, 1) + 10)).hits if count else []
    finally:
        backend.close()
    return count, Counter(h.id for h in hits), Counter(h.url for h in hits), Counter(h.title for h in hits)


def _generated(titles: Counter[str]) -> set[tuple[int, int]]:
    return {(int(m.group(1)), int(m.group(2))) for t in titles if (m := _TITLE.match(t))}


def run_cluster(articles: int = 300, *, visibility_timeout_s: int = 15, timeout_s: float = 200.0,
                keep: bool = False, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """One run of the three waves (see the module docstring); returns the report."""
    reason = can_create_namespaces()
    if reason:
        raise RuntimeError(reason)
    sweep_stale()
    _sweep_work_dirs()
    feeds = max(4, -(-articles // PER_FEED))
    waves = [range(0, feeds // 4), range(feeds // 4, feeds // 2), range(feeds // 2, feeds)]
    total = feeds * PER_FEED
    work = Path(tempfile.mkdtemp(prefix=f"nwcluster-{os.getpid()}-"))
    cluster = Cluster(work, visibility_timeout_s=visibility_timeout_s)
    began = time.monotonic()
    deadline = began + timeout_s
    report: dict[str, Any] = {"articles": total, "feeds": feeds, "work_dir": str(work)}
    try:
        cluster.start_hub()
        for host in (2, 3):
            cluster.start_worker_host(host)
        cluster.start(3, *_newsworkers(), "scheduler")  # the second scheduler, on another host
        settings = cluster.settings()
        from workers.runtime import Runtime

        runtime = Runtime(settings)
        _wait_workers(cluster, settings, {2, 3}, deadline)
        log(f"hosts 2 and 3 ready after {time.monotonic() - began:.1f} s")

        def register(wave: range) -> None:
            for f in wave:
                runtime.registry.add(Feed(url=cluster.site.url(f"/gen/{f}.xml?m={PER_FEED}"), title=f"gen {f}"))

        def indexed() -> int:
            return len(_generated(index_contents(settings)[3]))

        def remaining() -> float:
            return max(1.0, deadline - time.monotonic())

        register(waves[0])
        _wait(lambda: indexed() >= len(waves[0]) * PER_FEED, remaining(), "wave 1 indexed")
        report["wave1_shares"] = {f"host{h}": extracted(cluster.data_dir(h)) for h in (2, 3)}
        report["wave1_extract_ok"] = runtime.stats.snapshot().get("extract.ok", 0)
        log(f"wave 1 indexed at {time.monotonic() - began:.1f} s: {report['wave1_shares']}")

        cluster.start_worker_host(4)  # joins a running cluster: nothing else is restarted
        _wait_workers(cluster, settings, {2, 3, 4}, deadline)
        joined = time.monotonic()
        register(waves[1])
        _wait(lambda: indexed() >= len(waves[0]) * PER_FEED + len(waves[1]) * PER_FEED, remaining(),
              "wave 2 indexed")
        report["host4_joined_s"] = round(joined - began, 1)
        report["host4_wave2_share"] = extracted(cluster.data_dir(4))
        log(f"wave 2 indexed at {time.monotonic() - began:.1f} s; host 4 extracted {report['host4_wave2_share']}")

        report["cut"] = _cut_host_2(cluster, runtime, register, waves[2], remaining, began)
        log(f"host 2 cut at {report['cut']['at_s']:.1f} s holding {report['cut']['held_messages']} messages")
        _wait(lambda: indexed() >= total, remaining(), "every article indexed after the cut")
        report["recovered_s"] = round(time.monotonic() - began - report["cut"]["at_s"], 1)  # from the cut on
        # Settle: anything the dead host held and that comes back late would show as a duplicate now.
        time.sleep(2.0)
        count, ids, urls, titles = index_contents(settings)
        found = _generated(titles)
        report.update({
            "indexed": len(found),
            "documents": count,
            "lost": total - len(found),
            "duplicates": max(count - len(ids), sum(urls.values()) - len(urls),
                              sum(titles.values()) - len(titles)),
            "shares": {f"host{h}": extracted(cluster.data_dir(h)) for h in (2, 3, 4)},
            "dead_letters": runtime.dead_letters.counts().total,
            "polls": _polls(cluster.site, feeds),
            "schedulers_alive": sum(p.poll() is None for h in (1, 3) for p in cluster.processes.get(h, [])
                                    if "scheduler" in " ".join(map(str, p.args))),
            "elapsed_s": round(time.monotonic() - began, 1),
        })
        report["shares_sum"] = sum(report["shares"].values())
        # The same count kept in Redis by every stage (workers.state.Stats): the shares must add up to it.
        report["extract_ok"] = runtime.stats.snapshot().get("extract.ok", 0)
        runtime.close()
        return report
    finally:
        cluster.stop()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _sweep_work_dirs() -> None:
    """Work directories of earlier runs killed before their cleanup (their namespaces went in sweep_stale)."""
    for path in Path(tempfile.gettempdir()).glob("nwcluster-*-*"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


def _wait_workers(cluster: Cluster, settings: Settings, hosts: set[int], deadline: float) -> None:
    """Until the extract and io workers of ``hosts`` and the index writer answer a ping over Redis."""
    from workers.worker.app import create_app

    # Celery's Redis transport takes no unix socket URL that our key prefix goes with: the harness pings over
    # TCP from inside host 1, and its connection stays in host 1's namespace after the block.
    app = create_app(settings.model_copy(update={"redis_url": cluster.redis_url}))
    wanted = {p.pid for h in hosts | {1} for p in cluster.processes.get(h, []) if "worker" in p.args}

    def answered() -> bool:
        with in_namespace(cluster.net.name(1)):
            replies = app.control.ping(timeout=1.0) or []
        nodes = {name.split("@", 1)[0] for reply in replies for name in reply}
        pids = {int(n.rsplit("-", 1)[1]) for n in nodes if n.rsplit("-", 1)[-1].isdigit()}
        return wanted <= pids

    try:
        _wait(answered, max(1.0, deadline - time.monotonic()), f"workers of hosts {sorted(hosts)}")
    finally:
        app.close()


def _cut_host_2(cluster: Cluster, runtime: Any, register: Callable[[range], None], wave: range,
                remaining: Callable[[], float], began: float) -> dict[str, Any]:
    """Register the last wave and cut host 2 off while it is extracting it; its processes are then killed."""
    before = extracted(cluster.data_dir(2))
    register(wave)
    polled = [f"/gen/{f}.xml" for f in wave]
    _wait(lambda: all(cluster.site.hits[p] for p in polled) and not runtime.redis.zcard(runtime.keys.pending_polls)
          and extracted(cluster.data_dir(2)) > before, remaining(), "host 2 at work on the last wave")
    unacked = f"{cluster.namespace}:unacked"
    held_at_cut = set(runtime.redis.hkeys(unacked))
    at = time.monotonic()
    cluster.net.cut(2)
    cluster.kill_host(2)
    # Healthy workers acknowledge what they held within a moment; what is still there 3 s on was host 2's.
    time.sleep(3.0)
    held = held_at_cut & set(runtime.redis.hkeys(unacked))
    queues: Counter[str] = Counter()
    for raw in runtime.redis.hmget(unacked, list(held)) if held else []:
        with contextlib.suppress(ValueError, TypeError, IndexError):
            queues[str(json.loads(raw)[2])] += 1  # kombu keeps [message, exchange, routing key]
    return {"at_s": round(at - began, 1), "extracted_before": extracted(cluster.data_dir(2)),
            "held_messages": len(held), "held_by_queue": dict(queues)}


def _polls(site: FixtureSite, feeds: int) -> dict[str, int]:
    """Polls per feed (one due time each): more than one GET of a feed's document is a double poll."""
    counts = [site.hits[f"/gen/{f}.xml"] for f in range(feeds)]
    return {"feeds": feeds, "polled": sum(1 for c in counts if c), "total": sum(counts),
            "double_polled": sum(1 for c in counts if c > 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="generated articles (10 per feed)")
    parser.add_argument("--visibility-timeout", type=int, default=15, help="seconds before unacked work returns")
    parser.add_argument("--timeout", type=float, default=200.0, help="seconds the whole run may take")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, index) until the next run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    reason = can_create_namespaces()
    if reason:
        sys.exit(f"cannot run the cluster harness: {reason}")
    log = (lambda _: None) if args.json else (lambda line: print(line, flush=True))
    with contextlib.suppress(ValueError):  # SIGTERM cleans up like Ctrl-C (atexit then removes the namespaces)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = run_cluster(args.articles, visibility_timeout_s=args.visibility_timeout, timeout_s=args.timeout,
                         keep=args.keep, log=log)
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
