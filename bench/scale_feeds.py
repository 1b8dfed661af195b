"""The feeds part of bench/scale.py: many feeds polled from a loopback server, and what Redis holds for them.

Each feed is realistically sized (20 items with a GUID, a date, categories and a 400-character summary,
about 11 KB), answers 200 with an ETag and 304 when it matches. Pollers are ``processes`` processes of
``threads`` threads, each with its own Runtime, calling the poll task's own code path
(:func:`workers.pipeline.poll.cycle.run_poll`); the raw baselines are plain and conditional GETs of the same
feeds by the same processes and clients, in the same run.
"""

from __future__ import annotations

import html
import multiprocessing
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from workers.core.models import Feed
from workers.pipeline.poll.cycle import run_poll
from workers.runtime import Runtime
from workers.settings import Settings

__all__ = ["feed_document", "measure_feeds", "serve_feeds"]

ITEMS = 20
_WORDS = (
    "minister", "council", "budget", "election", "court", "police", "storm", "energy", "market",
    "health", "school", "border", "trade", "talks", "report", "vote", "union", "city",
    "river", "workers", "prices", "strike", "summit", "climate", "water", "rail",
)
_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)


def feed_document(base: str, number: int) -> bytes:
    rng = random.Random(number)
    items = []
    for i in range(ITEMS):
        words = " ".join(rng.choice(_WORDS) for _ in range(60))
        published = format_datetime(_EPOCH - timedelta(hours=number % 97 + i))
        link = f"{base}/a/{number}/{i}.html"
        items.append(
            f"<item><title>Story {number}-{i}: {html.escape(words[:60])}</title><link>{link}</link>"
            f'<guid isPermaLink="false">urn:scale:{number}:{i}</guid><pubDate>{published}</pubDate>'
            f"<category>{rng.choice(_WORDS)}</category><category>{rng.choice(_WORDS)}</category>"
            f"<description>{html.escape(words[:400])}</description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Scale feed {number}</title>'
            f"<link>{base}/</link><description>Feed {number} of the scale benchmark</description>"
            f"{''.join(items)}</channel></rss>").encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    base = ""

    def do_GET(self) -> None:
        number = int(self.path.removeprefix("/s/").removesuffix(".xml"))
        etag = f'"s-{number}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = feed_document(self.base, number)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def serve_feeds(port_out: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    _Handler.base = f"http://127.0.0.1:{server.server_address[1]}"
    port_out.put(server.server_address[1])
    server.serve_forever()


def _settings(redis_url: str, data_dir: str, threads: int) -> Settings:
    return Settings(data_dir=data_dir, redis_url=redis_url, namespace="scale", feed_host_spacing_s=0,
                    allowed_networks="127.0.0.0/8", feed_timeout_s=60, poll_concurrency=threads)


def _worker(job: tuple[str, str, str, int, list[str]]) -> tuple[float, int, list[str]]:
    """One poller process: (seconds, items enqueued, statuses) for its slice of feeds."""
    what, redis_url, data_dir, threads, urls = job
    runtime = Runtime(_settings(redis_url, data_dir, threads))
    client = runtime.feed_client
    client.get(urls[0])  # warm connections, as a running worker's are
    enqueued: list[str] = []
    statuses: list[str] = []
    etags = {url: f'"s-{url.rsplit("/", 1)[1].removesuffix(".xml")}"' for url in urls}

    def work(url: str) -> None:
        if what == "raw_get":
            client.get(url).read()
        elif what == "raw_304":
            client.get(url, headers={"If-None-Match": etags[url]})
        else:
            outcome = run_poll(runtime, Feed(url=url), lambda item: enqueued.append(item["doc_id"]))
            statuses.append(str(outcome["status"]))

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(work, urls):
            pass
    elapsed = time.perf_counter() - started
    if what == "poll" and enqueued:
        runtime.tracker.finish(enqueued)  # as the index stage does once they are indexed: the live window
    runtime.close()
    return elapsed, len(enqueued), statuses


def _timed(pool: Any, what: str, redis_url: str, data_dir: str, threads: int, slices: list[list[str]]) -> tuple[
        float, int, list[str]]:
    started = time.perf_counter()
    results = pool.map(_worker, [(what, redis_url, data_dir, threads, s) for s in slices])
    wall = time.perf_counter() - started
    return wall, sum(r[1] for r in results), [s for r in results for s in r[2]]


def _claim_rate(redis_url: str, data_dir: str, feeds: int, hosts: int) -> dict[str, Any]:
    """The scheduler at this size, feeds spread over ``hosts`` hosts with a per-host spacing: feeds registered
    a second, due feeds claimed a second, and how many pairs of one host's feeds were scheduled too close."""
    spacing = 2.0
    settings = _settings(redis_url, data_dir, 1).model_copy(update={"namespace": "scale-claim",
                                                                    "feed_host_spacing_s": spacing})
    runtime = Runtime(settings)
    registry, now = runtime.registry, time.time()
    urls = [f"https://h{n % hosts}.example/feed/{n}.xml" for n in range(feeds)]
    started = time.perf_counter()
    for url in urls:
        registry.add(Feed(url=url), first_poll_at=now)
    added = time.perf_counter() - started
    by_host: dict[str, list[float]] = {}
    for url, at in runtime.redis.zrange(runtime.keys.schedule, 0, -1, withscores=True):
        by_host.setdefault(url.split("/")[2], []).append(at)
    too_close = sum(1 for times in by_host.values() for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
                    if b - a < spacing - 1e-6)
    claimed, started = 0, time.perf_counter()
    while batch := registry.claim_due(now=now + feeds * spacing, lease_s=3600, limit=500):
        claimed += len(batch)
    elapsed = time.perf_counter() - started
    runtime.redis.flushdb()  # the bench's own Redis: the feeds part starts from nothing
    runtime.close()
    return {"claim_feeds": claimed, "claim_hosts": hosts, "register_feeds_per_s": feeds / added,
            "claim_feeds_per_s": claimed / elapsed, "claim_spacing_violations": too_close}


def _used_memory(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


def _bytes_by_family(redis_url: str, namespace: str) -> dict[str, int]:
    """``MEMORY USAGE`` summed by key family (the name part after the namespace: entries, feedstate, seen...)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    families: dict[str, int] = {}
    try:
        for key in client.scan_iter(match=f"{namespace}:*", count=1_000):
            family = key.decode().split(":")[1]
            families[family] = families.get(family, 0) + int(client.memory_usage(key, samples=0) or 0)
    finally:
        client.close()
    return families


def measure_feeds(*, feeds: int, processes: int, threads: int, redis_url: str, data_dir: str,
                  claim_hosts: int) -> dict[str, Any]:
    report = _claim_rate(redis_url, data_dir, feeds, claim_hosts)
    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve_feeds, args=(ports,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"
    urls = [f"{base}/s/{n}.xml" for n in range(feeds)]
    slices = [urls[p::processes] for p in range(processes)]
    try:
        before = _used_memory(redis_url)
        runtime = Runtime(_settings(redis_url, data_dir, threads))
        for url in urls:
            runtime.registry.add(Feed(url=url))
        runtime.close()
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            raw_get, _, _ = _timed(pool, "raw_get", redis_url, data_dir, threads, slices)
            full, items, _ = _timed(pool, "poll", redis_url, data_dir, threads, slices)
            held = _used_memory(redis_url) - before
            families = _bytes_by_family(redis_url, "scale")
            raw_304, _, _ = _timed(pool, "raw_304", redis_url, data_dir, threads, slices)
            repoll, _, statuses = _timed(pool, "poll", redis_url, data_dir, threads, slices)
    finally:
        server.terminate()
    if set(statuses) != {"304"}:
        raise SystemExit(f"the re-poll should answer 304 only, got {sorted(set(statuses))}")
    report.update({
        "feeds": feeds, "processes": processes, "threads": threads, "items_enqueued": items,
        "redis_bytes_per_feed": held / feeds, "redis_bytes_per_live_item": held / max(items, 1),
        "raw_get_feeds_per_s": feeds / raw_get, "full_poll_feeds_per_s": feeds / full,
        "full_vs_raw": raw_get / full, "raw_304_feeds_per_s": feeds / raw_304,
        "repoll_feeds_per_s": feeds / repoll, "repoll_vs_raw_304": raw_304 / repoll,
        "repoll_cost_ratio": repoll / full,
        "redis_key_bytes_per_feed": {family: round(size / feeds) for family, size in sorted(families.items())},
    })
    return report
