"""The whole pipeline, end to end with real processes, against the machine's limit measured in the same run.

- Serves N generated article-sized news pages (random sentences full of names, so NER and the
  near-duplicate fingerprint do real work and no two pages are copies) and their feeds (50 items each)
  from loopback HTTP servers on several 127.0.0.x hosts, with politeness limits set for the benchmark.
- Runs ``newsworkers run --once`` against a private redis-server and a Tantivy index on disk, and
  samples every process of it (psutil): CPU time and resident memory per worker kind.
- End to end: articles/s from the first feed request the server saw to the moment ``index.ok`` (counted
  right after the index commit, so the documents are searchable) reached N.
- Limit: the same pages through ``workers.pipeline.extract.batch.extract_pages`` (the extract task's own code:
  extraction, metadata, language, NER, fingerprint) in one process per core, batches of
  ``extract_batch_size``, no queue, no HTTP, no index. For context: plain ``trafilatura.extract`` plus
  ``nlp.pipe`` on the same pages, one process per core.
- Per-stage CPU per article: poll, fetch, index worker CPU over N; extract and NER split by the plain
  run's shares of the extract stage's CPU in the limit run; Celery/Redis overhead = extract-worker CPU
  beyond the limit's own + redis-server CPU + the run process (scheduler, progress, drain checks).

Timings are noisy on a shared machine: compare the ratio, which is measured within one run.

    .venv/bin/python bench/pipeline.py [--articles 2000] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import redis  # noqa: E402

from workers.core.models import Feed  # noqa: E402
from workers.settings import Settings  # noqa: E402
from workers.state import FeedRegistry, Keys  # noqa: E402
from workers.state.embedded_redis import free_port, redis_server_binary  # noqa: E402

ITEMS_PER_FEED = 50
HOSTS = 8
NAMESPACE = "nw"

# Politeness must not set the pace: the pages are ours, on loopback.
BENCH_ENVIRONMENT = {
    "NEWSWORKERS_ALLOWED_NETWORKS": "127.0.0.0/8",
    "NEWSWORKERS_DOMAIN_MIN_INTERVAL_S": "0",
    "NEWSWORKERS_DOMAIN_MAX_CONCURRENCY": "64",
    "NEWSWORKERS_FEED_HOST_SPACING_S": "0",
    "NEWSWORKERS_METRICS_PORT": "0",
}

_PEOPLE = ["Angela Merkel", "Olaf Scholz", "Emmanuel Macron", "Joe Biden", "Kamala Harris", "Rishi Sunak",
           "Giorgia Meloni", "Pedro Sanchez", "Justin Trudeau", "Anthony Albanese", "Lula da Silva",
           "Narendra Modi", "Fumio Kishida", "Cyril Ramaphosa", "Jacinda Ardern", "Mark Rutte",
           "Ursula von der Leyen", "Christine Lagarde", "Jerome Powell", "Janet Yellen", "Tim Cook",
           "Satya Nadella", "Sundar Pichai", "Mary Barra", "Elon Musk", "Warren Buffett", "Jamie Dimon"]
_ORGS = ["the European Commission", "the Federal Reserve", "the World Bank", "the United Nations", "NATO",
         "Siemens", "Volkswagen", "Toyota", "Microsoft", "Apple", "Google", "Amazon", "Reuters",
         "the International Monetary Fund", "the World Health Organization", "Deutsche Bank", "Airbus",
         "the Bundestag", "the Senate", "the Supreme Court", "Goldman Sachs", "Samsung", "Nestle"]
_PLACES = ["Berlin", "Paris", "London", "Madrid", "Rome", "Warsaw", "Vienna", "Brussels", "Tokyo", "Seoul",
           "Sydney", "Toronto", "Chicago", "Boston", "Lagos", "Nairobi", "Cairo", "Lima", "Santiago", "Delhi",
           "Mumbai", "Jakarta", "Manila", "Hamburg", "Munich", "Lyon", "Milan", "Oslo", "Stockholm", "Dublin"]
_VERBS = ["announced", "rejected", "approved", "criticised", "welcomed", "delayed", "proposed", "questioned",
          "defended", "expanded", "reviewed", "cancelled", "negotiated", "doubled", "halved", "postponed"]
_THINGS = ["budget", "rail line", "trade deal", "tax plan", "housing programme", "climate package", "merger",
           "pension reform", "chip plant", "vaccine order", "wind farm", "port expansion", "bond sale",
           "election timetable", "research grant", "water project", "energy subsidy", "wage agreement"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_TAILS = ["after weeks of talks", "despite protests outside parliament", "in a surprise move",
          "according to people familiar with the matter", "citing rising costs", "amid a slowing economy",
          "as opposition lawmakers demanded a vote", "while markets waited for details",
          "in a statement published late at night", "before a summit next month"]


def _sentence(rng: random.Random) -> str:
    shapes = [
        lambda: (f"{rng.choice(_PEOPLE)} of {rng.choice(_ORGS)} said on {rng.choice(_DAYS)} that {rng.choice(_PLACES)} "
                 f"had {rng.choice(_VERBS)} the {rng.choice(_THINGS)} worth {rng.randint(2, 900)} million euros "
                 f"{rng.choice(_TAILS)}."),
        lambda: (f"In {rng.choice(_PLACES)}, {rng.choice(_ORGS)} {rng.choice(_VERBS)} a {rng.choice(_THINGS)} "
                 f"that {rng.choice(_PEOPLE)} had first described in {rng.randint(1990, 2024)}, "
                 f"{rng.choice(_TAILS)}."),
        lambda: (f"{rng.choice(_PEOPLE)} met {rng.choice(_PEOPLE)} in {rng.choice(_PLACES)} and the two "
                 f"{rng.choice(_VERBS)} the {rng.choice(_THINGS)}, which {rng.choice(_ORGS)} expects to cost "
                 f"{rng.randint(3, 97)} percent more than planned."),
        lambda: (f"Officials from {rng.choice(_ORGS)} and {rng.choice(_ORGS)} will travel to {rng.choice(_PLACES)} "
                 f"on {rng.choice(_DAYS)}, where {rng.randint(2, 60)} delegations are expected to discuss the "
                 f"{rng.choice(_THINGS)} {rng.choice(_TAILS)}."),
    ]
    return rng.choice(shapes)()


def page_html(number: int) -> str:
    """An article-sized news page (about 600 words of text in a page of navigation and boilerplate)."""
    rng = random.Random(number)
    title = f"{rng.choice(_PEOPLE)} and the {rng.choice(_THINGS)} of {rng.choice(_PLACES)} ({number})"
    paragraphs = ["<p>" + " ".join(_sentence(rng) for _ in range(rng.randint(3, 5))) + "</p>" for _ in range(8)]
    nav = "".join(f'<li><a href="/section/{s}">{s.title()}</a></li>' for s in
                  ("world", "politics", "business", "tech", "science", "sport", "culture", "opinion", "video"))
    related = "".join(f'<li><a href="/p/{(number + k) % 997}.html">More on the {rng.choice(_THINGS)}</a></li>'
                      for k in range(1, 7))
    day = f"2021-{1 + number % 12:02d}-{1 + number % 28:02d}"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | The Loopback Post</title>'
            f'<meta property="og:title" content="{title}"><meta property="og:site_name" content="The Loopback Post">'
            f'<meta property="article:published_time" content="{day}T09:00:00Z"><meta name="author" '
            f'content="Staff Reporter"></head><body><header class="site-header"><a href="/">The Loopback Post</a>'
            f'<nav><ul>{nav}</ul></nav><div class="cookie-banner">We use cookies to improve your experience. '
            f'<button>Accept all</button></div></header><div class="ad-slot">Advertisement</div><main><article>'
            f'<h1>{title}</h1><p class="byline">By Staff Reporter</p><time datetime="{day}T09:00:00Z">{day}</time>'
            f'{"".join(paragraphs)}</article><aside class="related"><h2>Related stories</h2><ul>{related}</ul>'
            f'</aside><div class="newsletter">Sign up for our morning briefing. <input type="email"></div></main>'
            f'<footer><p>&copy; 2021 The Loopback Post. All rights reserved.</p><a href="/privacy">Privacy</a>'
            f"</footer></body></html>")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Workers killed at the end of a run drop their keep-alive connections: no traceback for that.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class NewsServer:
    """The generated pages and feeds on ``HOSTS`` loopback addresses; feed f and its pages live on one host."""

    def __init__(self, articles: int, hosts: int = HOSTS) -> None:
        self.articles = articles
        self.feeds = math.ceil(articles / ITEMS_PER_FEED)
        self.first_feed_at: float | None = None
        self.requests = 0
        self.servers: list[ThreadingHTTPServer] = []
        self.bases: list[str] = []
        self.hosts = hosts
        self.pages: dict[int, bytes] = {}  # rendered on first request

    def page(self, number: int) -> bytes:
        if number not in self.pages:
            self.pages[number] = page_html(number).encode()
        return self.pages[number]

    def feed_url(self, feed: int) -> str:
        return f"{self.bases[feed % self.hosts]}/f/{feed}.xml"

    def feed_xml(self, feed: int) -> bytes:
        base = self.bases[feed % self.hosts]
        numbers = range(feed * ITEMS_PER_FEED, min(self.articles, (feed + 1) * ITEMS_PER_FEED))
        items = "".join(f"<item><title>Story {i}</title><link>{base}/p/{i}.html</link><guid>{base}/p/{i}.html</guid>"
                        f"<pubDate>Sat, 01 May 2021 09:00:00 GMT</pubDate></item>" for i in numbers)
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench {feed}</title>'
                f"{items}</channel></rss>").encode()

    def start(self) -> None:
        bench = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                bench.requests += 1
                path = self.path.split("?")[0]
                if path.startswith("/f/"):
                    if bench.first_feed_at is None:
                        bench.first_feed_at = time.time()
                    body, kind, status = bench.feed_xml(int(path[3:-4])), "application/rss+xml", 200
                elif path.startswith("/p/") and 0 <= int(path[3:-5]) < bench.articles:
                    body, kind, status = bench.page(int(path[3:-5])), "text/html; charset=utf-8", 200
                else:
                    body, kind, status = b"not found", "text/plain", 404
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        for host in range(self.hosts):
            server = _QuietServer((f"127.0.0.{host + 2}", 0), Handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
            self.bases.append(f"http://127.0.0.{host + 2}:{server.server_address[1]}")

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-redis-")
        self.process = subprocess.Popen([redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no", "--dir", self.dir],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _kind(process: psutil.Process, run_pid: int) -> str:
    """Which worker kind a process of the run belongs to (a prefork child counts as its parent's kind)."""
    if process.pid == run_pid:
        return "run"
    try:
        cmdline = process.cmdline()
        if "--hostname" in cmdline:
            return cmdline[cmdline.index("--hostname") + 1].split("-")[0]
        parent = process.parent()
        return _kind(parent, run_pid) if parent is not None else "other"
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "other"


class Sampler(threading.Thread):
    """CPU seconds and resident memory of every process of the run, by kind; and when index.ok reached N."""

    def __init__(self, run_pid: int, redis_pid: int, client: redis.Redis, server: NewsServer) -> None:
        super().__init__(daemon=True)
        self.run_pid, self.client, self.server, self.articles = run_pid, client, server, server.articles
        # CPU spent before the first poll (imports, model loads, Celery start-up) is start-up, not per article.
        self.baseline: dict[int, float] | None = None
        # The extract worker loads its models (workers.pipeline.extract.batch.warm_up) before it forks its pool: CPU
        # of start-up even when it runs past the first poll, so its parent's count starts once it has children.
        self.pools_started: set[int] = set()
        self.warm_up_cpu = 0.0
        self.redis_process = psutil.Process(redis_pid)
        self.cpu: dict[int, tuple[str, float]] = {}  # pid → (kind, CPU seconds so far)
        self.kinds: dict[int, str] = {}
        self.peak_rss: dict[str, float] = defaultdict(float)
        self.redis_cpu_start = sum(self.redis_process.cpu_times()[:2])
        self.redis_cpu = 0.0
        self.redis_peak_used = 0
        self.all_indexed_at: float | None = None
        self.indexed = 0
        self.message_bytes: dict[str, list[int]] = defaultdict(list)  # raw broker messages seen queued, by stage
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(0.25)

    def sample(self) -> None:
        try:
            root = psutil.Process(self.run_pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            processes = []
        rss: dict[str, float] = defaultdict(float)
        for process in processes:
            try:
                if process.status() == psutil.STATUS_ZOMBIE:  # exited, not yet reaped: no memory, no kind
                    continue
                kind = self.kinds.get(process.pid) or _kind(process, self.run_pid)
                if kind != "run" or process.pid == self.run_pid:  # a child not yet exec'd shows its parent's
                    self.kinds[process.pid] = kind
                times = process.cpu_times()
                if kind == "extract" and self.kinds.get(process.ppid()) != "extract":
                    kind = "extract-parent"  # the prefork pool's parent: Celery's consumer, not extraction
                self.cpu[process.pid] = (kind, times.user + times.system)
                if kind == "extract-parent" and process.pid not in self.pools_started and process.children():
                    self.pools_started.add(process.pid)
                    if self.baseline is not None:
                        self.warm_up_cpu += times.user + times.system - self.baseline.get(process.pid, 0.0)
                        self.baseline[process.pid] = times.user + times.system
                rss[kind.removesuffix("-parent")] += process.memory_info().rss / 2**20
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        for kind, mb in rss.items():
            self.peak_rss[kind] = max(self.peak_rss[kind], mb)
        if self.baseline is None and self.server.first_feed_at is not None:
            self.baseline = {pid: seconds for pid, (_kind, seconds) in self.cpu.items()}
            self.redis_cpu_start = sum(self.redis_process.cpu_times()[:2])
        try:
            self.redis_cpu = sum(self.redis_process.cpu_times()[:2]) - self.redis_cpu_start
            self.redis_peak_used = max(self.redis_peak_used, int(self.client.info("memory")["used_memory"]))
            self.indexed = int(self.client.hget(Keys(NAMESPACE).stats, "index.ok") or 0)
            pipe = self.client.pipeline(transaction=False)
            for stage in ("fetch", "extract", "index"):
                pipe.lindex(Keys(NAMESPACE).queue(stage), 0)
            for stage, message in zip(("fetch", "extract", "index"), pipe.execute(), strict=True):
                if message:
                    self.message_bytes[stage].append(len(message.encode()))
        except (redis.ConnectionError, psutil.NoSuchProcess):
            return
        if self.all_indexed_at is None and self.indexed >= self.articles:
            self.all_indexed_at = time.time()

    def cpu_by_kind(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        baseline = self.baseline or {}
        for pid, (kind, seconds) in self.cpu.items():
            totals[kind] += seconds - baseline.get(pid, 0.0)
        return dict(totals)


def profile_workers(sampler: Sampler, server: NewsServer, out: Path) -> list[subprocess.Popen[bytes]]:
    """py-spy on every worker kind (children included) from the first poll on, as collapsed stacks."""
    while server.first_feed_at is None and not sampler.done.is_set():
        time.sleep(0.05)
    spy = str(Path(sys.executable).parent / "py-spy")
    out.mkdir(parents=True, exist_ok=True)
    roots = {kind: pid for pid, kind in sampler.kinds.items()
             if kind in ("poll", "fetch", "extract", "index", "run") and _is_root(pid, kind, sampler)}
    # Only the extract pool's children are its own work; the run process's children are the other kinds.
    return [subprocess.Popen([spy, "record", "-p", str(pid), *(["--subprocesses"] if kind == "extract" else []),
                              "--format", "raw", "--rate", "50", "--nonblocking", "-o", str(out / f"{kind}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for kind, pid in roots.items()]


def _is_root(pid: int, kind: str, sampler: Sampler) -> bool:
    try:
        parent = psutil.Process(pid).parent()
    except psutil.NoSuchProcess:
        return False
    return parent is None or sampler.kinds.get(parent.pid) != kind


def top_of_profile(path: Path, count: int = 12) -> list[tuple[str, float, float]]:
    """(function, self share, inclusive share) of a py-spy raw profile, by self share."""
    own: dict[str, int] = defaultdict(int)
    inclusive: dict[str, int] = defaultdict(int)
    total = 0
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        frames = [f.split(" (")[0] + " " + f.split(" (")[1].split(":")[0].rsplit("/", 1)[-1]
                  if " (" in f else f for f in stack.split(";")[1:]]
        n = int(samples)
        total += n
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    ranked = sorted(own, key=own.__getitem__, reverse=True)[:count]
    return [(f, own[f] / total, inclusive[f] / total) for f in ranked] if total else []


def end_to_end(server: NewsServer, broker: RedisServer, data_dir: Path,
               profile: Path | None = None) -> dict[str, Any]:
    client = redis.Redis.from_url(broker.url, decode_responses=True)
    registry = FeedRegistry(client, Keys(NAMESPACE), host_spacing_s=0)
    for feed in range(server.feeds):
        registry.add(Feed(url=server.feed_url(feed), title=f"Bench {feed}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWORKERS_") and k != "ELASTICSEARCH_URL"}
    env.update(BENCH_ENVIRONMENT, REDIS_URL=broker.url, NEWSWORKERS_DATA_DIR=str(data_dir),
               NEWSWORKERS_NAMESPACE=NAMESPACE)
    started = time.time()
    steal = _Steal()
    steal.start()
    process = subprocess.Popen([sys.executable, "-c", "from workers.cli.main import main; main()", "run", "--once"],
                               env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = Sampler(process.pid, broker.process.pid, client, server)
    sampler.start()
    spies: list[subprocess.Popen[bytes]] = []
    if profile is not None:
        threading.Thread(target=lambda: spies.extend(profile_workers(sampler, server, profile)), daemon=True).start()
    output, _ = process.communicate(timeout=3600)
    for spy in spies:
        spy.wait(timeout=60)
    sampler.done.set()
    sampler.join()
    sampler.sample()
    if process.returncode != 0:
        raise SystemExit(f"newsworkers run --once failed ({process.returncode}):\n{output[-4000:]}")
    first, last = server.first_feed_at or started, sampler.all_indexed_at or time.time()
    return {"indexed": sampler.indexed, "elapsed_s": last - first, "startup_s": first - started,
            "steal_pct": steal.pct(), "warm_up_cpu_s": sampler.warm_up_cpu,
            "cpu_s": sampler.cpu_by_kind(), "redis_cpu_s": sampler.redis_cpu, "peak_rss_mb": dict(sampler.peak_rss),
            "redis_peak_used_mb": sampler.redis_peak_used / 2**20,
            "message_bytes": {stage: round(sum(sizes) / len(sizes)) for stage, sizes in sampler.message_bytes.items()
                              if sizes}}


# -- the limit: our extract stage in one process per core ------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_stage(redis_url: str, namespace: str) -> None:
    from workers.runtime import Runtime

    runtime = Runtime(Settings(redis_url=redis_url, namespace=namespace))
    _worker["runtime"] = runtime
    _ = runtime.ner  # model loads are start-up, not per-article work
    _stage_batch([(10**7 + os.getpid(), page_html(10**7).encode().decode())])


def _stage_batch(batch: list[tuple[int, str]]) -> tuple[float, int]:
    from workers.core.ids import document_id
    from workers.core.models import Article, FeedItem, FetchedPage
    from workers.pipeline.extract.batch import extract_pages

    runtime = _worker["runtime"]
    pages = []
    for number, html in batch:
        url = f"http://127.0.0.2/p/{number}.html"
        item = FeedItem(doc_id=document_id(url), url=url, feed_url="http://127.0.0.2/f/0.xml", title=f"Story {number}")
        pages.append(FetchedPage(item=item, final_url=url, status=200, html=html))
    cpu = time.process_time()
    clusters = runtime.clusters if runtime.settings.near_dup_enabled else None
    results = extract_pages(pages, runtime.settings, runtime.ner, clusters)
    return time.process_time() - cpu, sum(isinstance(r, Article) for r in results)


def _init_plain() -> None:
    import spacy

    settings = Settings()
    _worker["nlp"] = spacy.load(settings.spacy_model)
    _plain_batch([page_html(10**7)])


def _plain_batch(batch: list[str]) -> tuple[float, float]:
    import trafilatura

    cpu = time.process_time()
    texts = [trafilatura.extract(html) or "" for html in batch]
    extract_cpu = time.process_time() - cpu
    for _doc in _worker["nlp"].pipe(texts):
        pass
    return extract_cpu, time.process_time() - cpu - extract_cpu


def _batches(server: NewsServer) -> list[list[tuple[int, str]]]:
    batch_size = Settings().extract_batch_size
    numbers = list(range(server.articles))
    return [[(n, server.page(n).decode()) for n in numbers[i:i + batch_size]]
            for i in range(0, len(numbers), batch_size)]


def limit(server: NewsServer, broker: RedisServer, cores: int, namespace: str) -> dict[str, Any]:
    """The same pages through the extract stage's own function, one process per core."""
    batches = _batches(server)
    context = multiprocessing.get_context("spawn")
    steal = _Steal()
    with context.Pool(cores, initializer=_init_stage, initargs=(broker.url, namespace)) as pool:
        pool.map(_noop, range(cores))  # every process has loaded its models
        steal.start()
        started = time.perf_counter()
        results = pool.map(_stage_batch, batches, chunksize=1)
        wall = time.perf_counter() - started
    cpu, articles = sum(r[0] for r in results), sum(r[1] for r in results)
    return {"per_s": server.articles / wall, "cpu_s": cpu, "articles": articles, "steal_pct": steal.pct()}


def plain(server: NewsServer, cores: int) -> dict[str, Any]:
    """For context: plain trafilatura.extract and nlp.pipe on the same pages, one process per core."""
    plain_batches = [[html for _n, html in batch] for batch in _batches(server)]
    with multiprocessing.get_context("spawn").Pool(cores, initializer=_init_plain) as pool:
        pool.map(_noop, range(cores))
        started = time.perf_counter()
        results = pool.map(_plain_batch, plain_batches, chunksize=1)
        wall = time.perf_counter() - started
    return {"plain_per_s": server.articles / wall, "plain_extract_cpu_s": sum(p[0] for p in results),
            "plain_ner_cpu_s": sum(p[1] for p in results)}


def _drop_namespace(broker: RedisServer, namespace: str) -> None:
    client = redis.Redis.from_url(broker.url)
    for key in client.scan_iter(f"{namespace}:*", count=1000):
        client.delete(key)
    client.close()


class _Steal:
    """The share of the machine's CPU time taken by other guests on the host (a VM's ``steal``) since start."""

    def start(self) -> None:
        self.begin = psutil.cpu_times()

    def pct(self) -> float:
        end = psutil.cpu_times()
        total = sum(end) - sum(self.begin)
        stolen = getattr(end, "steal", 0.0) - getattr(self.begin, "steal", 0.0)
        return round(100 * stolen / total, 1) if total else 0.0


def _noop(_: int) -> None:
    time.sleep(0.2)


def measure(articles: int, profile: Path | None = None) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    server = NewsServer(articles)
    server.start()
    broker = RedisServer()
    try:
        # The limit is measured before and after the run and the two averaged: on a shared host the CPU a
        # process gets per second drifts over minutes, and one measurement on one side would carry that drift.
        before = limit(server, broker, cores, "limit-before")
        _drop_namespace(broker, "limit-before")  # its fingerprints are not the run's Redis memory
        with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
            run = end_to_end(server, broker, Path(tmp) / "data", profile)
        after = limit(server, broker, cores, "limit-after")
        lim = {"per_s": (before["per_s"] + after["per_s"]) / 2, "cpu_s": (before["cpu_s"] + after["cpu_s"]) / 2,
               "articles": min(before["articles"], after["articles"])} | plain(server, cores)
    finally:
        broker.stop()
        server.stop()
    n = articles
    e2e = run["indexed"] / run["elapsed_s"] if run["elapsed_s"] > 0 else 0.0
    cpu = dict(run["cpu_s"])
    cpu["extract"] = cpu.get("extract", 0.0) + cpu.get("extract-parent", 0.0)
    cpu_by_process = {k: round(v, 2) for k, v in sorted(run["cpu_s"].items())}
    ner_share = lim["plain_ner_cpu_s"] / max(1e-9, lim["plain_extract_cpu_s"] + lim["plain_ner_cpu_s"])
    limit_cpu_ms = lim["cpu_s"] / n * 1000
    extract_worker_ms = cpu.get("extract", 0.0) / n * 1000
    per_stage = {
        "poll": cpu.get("poll", 0.0) / n * 1000,
        "fetch": cpu.get("fetch", 0.0) / n * 1000,
        "extract": limit_cpu_ms * (1 - ner_share),
        "ner": limit_cpu_ms * ner_share,
        "index": cpu.get("index", 0.0) / n * 1000,
        "celery_redis_overhead": (max(0.0, extract_worker_ms - limit_cpu_ms) + run["redis_cpu_s"] / n * 1000
                                  + cpu.get("run", 0.0) / n * 1000),
    }
    pipeline_cpu_ms = sum(run["cpu_s"].values()) / n * 1000 + run["redis_cpu_s"] / n * 1000
    return {
        "articles": n, "indexed": run["indexed"], "cores": cores,
        "end_to_end_per_s": round(e2e, 2), "end_to_end_s": round(run["elapsed_s"], 2),
        "startup_s": round(run["startup_s"], 2),
        "warm_up_after_first_poll_cpu_s": round(run["warm_up_cpu_s"], 2),
        "limit_per_s": round(lim["per_s"], 2), "limit_articles": lim["articles"],
        "limit_before_after_per_s": [round(before["per_s"], 2), round(after["per_s"], 2)],
        "steal_pct": {"limit_before": before["steal_pct"], "end_to_end": run["steal_pct"],
                      "limit_after": after["steal_pct"]},
        "plain_trafilatura_spacy_per_s": round(lim["plain_per_s"], 2),
        "ratio": round(e2e / lim["per_s"], 3) if lim["per_s"] else 0.0,
        # What a quiet machine's ratio tends to when both are CPU-bound: the limit's CPU per article over the
        # whole pipeline's (every process of the run and redis-server). Less sensitive to a busy neighbour.
        "cpu_ratio": round(limit_cpu_ms / pipeline_cpu_ms, 3) if pipeline_cpu_ms else 0.0,
        "pipeline_cpu_ms_per_article": round(pipeline_cpu_ms, 2),
        "cpu_ms_per_article": {k: round(v, 2) for k, v in per_stage.items()},
        "extract_worker_cpu_ms_per_article": round(extract_worker_ms, 2),
        "limit_cpu_ms_per_article": round(limit_cpu_ms, 2),
        "cpu_s_by_process_kind": cpu_by_process | {
            "redis-server": round(run["redis_cpu_s"], 2)},
        "peak_rss_mb": {k: round(v, 1) for k, v in sorted(run["peak_rss_mb"].items())},
        "redis_peak_used_mb": round(run["redis_peak_used_mb"], 1),
        # Mean size of a queued broker message per stage (sampled): the extract message carries the page's HTML.
        "message_bytes": run["message_bytes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", type=Path, help="py-spy every worker kind into this folder; print the top")
    args = parser.parse_args()
    result = measure(args.articles, args.profile)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['indexed']}/{result['articles']} articles indexed on {result['cores']} cores")
    print(f"end to end (first poll to last searchable): {result['end_to_end_per_s']:8.1f} articles/s "
          f"({result['end_to_end_s']} s, after {result['startup_s']} s start-up)")
    if result["warm_up_after_first_poll_cpu_s"]:
        print("  the extract worker's model loading ran past the first poll: "
              f"{result['warm_up_after_first_poll_cpu_s']} CPU s, counted as start-up")
    print(f"limit (extract_pages, one process per core): {result['limit_per_s']:8.1f} articles/s "
          f"(mean of {result['limit_before_after_per_s'][0]} before and {result['limit_before_after_per_s'][1]} "
          "after the run)")
    print("CPU stolen by the host's other guests (%): "
          + ", ".join(f"{k} {v}" for k, v in result["steal_pct"].items()))
    print(f"plain trafilatura + nlp.pipe, per core:     {result['plain_trafilatura_spacy_per_s']:8.1f} articles/s")
    print(f"ratio end to end / limit:                   {result['ratio']:8.3f}")
    print(f"CPU ratio (limit CPU / whole pipeline CPU per article): {result['cpu_ratio']:.3f} "
          f"({result['limit_cpu_ms_per_article']} / {result['pipeline_cpu_ms_per_article']} ms)")
    print("CPU per article (ms): " + ", ".join(f"{k} {v}" for k, v in result["cpu_ms_per_article"].items()))
    print(f"  extract worker {result['extract_worker_cpu_ms_per_article']} ms vs the limit's "
          f"{result['limit_cpu_ms_per_article']} ms")
    print("CPU seconds by process: " + ", ".join(f"{k} {v}" for k, v in result["cpu_s_by_process_kind"].items()))
    print("peak RSS (MB) by worker kind: " + ", ".join(f"{k} {v}" for k, v in result["peak_rss_mb"].items()))
    print(f"redis used_memory peak: {result['redis_peak_used_mb']} MB")
    print("mean queued message size (bytes): " + ", ".join(f"{k} {v}" for k, v in result["message_bytes"].items()))
    if args.profile:
        for path in sorted(args.profile.glob("*.txt")):
            print(f"profile {path.stem} (self %, inclusive %):")
            for function, own, inclusive in top_of_profile(path):
                print(f"  {own * 100:5.1f} {inclusive * 100:5.1f}  {function}")


if __name__ == "__main__":
    main()
