"""Backfill against live news, in one run on this machine.

A real ``newsworkers run`` (private redis-server, real workers, Tantivy) ingests a live feed on the fixture
HTTP server that gains one article every ``--every`` seconds. Three phases, measured in the same run:

1. live only: each live article's time from the first poll that served it to its ``indexed_at`` (p50/p95);
2. the same while ``newsworkers backfill warc`` (a local WARC of ``--pages`` pages, enqueued for the running
   workers) is being indexed: live p95 again, and the backfill's rate in articles/s;
3. a live burst of ``--burst`` new items in one poll after the backfill: the live pipeline's rate in
   articles/s (poll, fetch over HTTP, extract, index), the baseline for the backfill's rate.

Prints live p95 during backfill / without (the goal is <= 1.5) and backfill rate / live rate.

    .venv/bin/python bench/backfill.py [--pages 1500] [--phase-s 80] [--every 1.0] [--burst 200] [--json]
"""

from __future__ import annotations

import argparse
import html
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

from tests.conftest import LOOPBACK_SETTINGS, RedisServer, newsworkers_cli  # noqa: E402
from tests.site import ARTICLES, Canned, FixtureSite, make_handler, rss  # noqa: E402
from tests.test_backfill import page_url  # noqa: E402
from workers.core.ids import document_id  # noqa: E402
from workers.search.tantivy.backend import TantivyBackend  # noqa: E402

_WORDS = sorted({w.strip(".,;:'\"()") for _t, _d, ps in ARTICLES.values() for p in ps for w in p.split()} - {""})
_NAMES = ["Berlin", "Nairobi", "Tokyo", "Angela Weber", "Siemens", "Kenya", "Osaka", "the United Nations"]


def distinct_page(rng: random.Random, title: str) -> str:
    """A news page whose body shares no run of words with any other (the fixture site's generated pages are
    near-duplicates of a few stories, which would make every article a member of a few huge clusters)."""
    paragraphs = []
    for _ in range(6):
        sentences = [" ".join([rng.choice(_NAMES), *rng.choices(_WORDS, k=14)]) + "." for _ in range(4)]
        paragraphs.append(f"<p>{html.escape(' '.join(sentences))}</p>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta property="article:published_time" content="2021-03-02T09:00:00Z"></head><body><main><article>'
            f"<h1>{html.escape(title)}</h1>{''.join(paragraphs)}</article></main></body></html>")


def write_history(path: Path, pages: int, rng: random.Random) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for number in range(pages):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            body = distinct_page(rng, f"History story {number}").encode()
            writer.write_record(writer.create_warc_record(page_url(number), "response", payload=io.BytesIO(body),
                                                          http_headers=headers))


class LiveFeed:
    """/dyn/live.xml gains items; each item's t0 is when a poll first received it."""

    def __init__(self, site: FixtureSite) -> None:
        self.site, self.items, self.first_served = site, [], {}
        self.lock = threading.Lock()
        self.publish([])
        self.stop = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def add_pages(self, names: list[str], rng: random.Random) -> list[str]:
        """Serve a distinct page at /dyn/<name> for each name; their URLs."""
        for name in names:
            self.site.dynamic[name] = Canned(body=distinct_page(rng, f"Live story {name}"),
                                             content_type="text/html; charset=utf-8")
        return [self.site.url(f"/dyn/{name}") for name in names]

    def publish(self, new: list[str]) -> None:
        with self.lock:
            self.items = (self.items + new)[-300:]
            body = rss("Live", [(f"Live story {u.rsplit('/', 1)[1]}", u) for u in reversed(self.items)])
            self.site.dynamic["live.xml"] = Canned(body=body)

    def _watch(self) -> None:
        seen_hits = 0
        while not self.stop.is_set():
            hits = self.site.hits["/dyn/live.xml"]
            if hits != seen_hits:
                seen_hits, now = hits, time.time()
                with self.lock:
                    for url in self.items:
                        self.first_served.setdefault(url, now)
            time.sleep(0.02)


def latencies(backend: TantivyBackend, feed: LiveFeed, urls: list[str]) -> list[float]:
    out = []
    for url in urls:
        article = backend.get(document_id(url))
        if article is not None and article.indexed_at is not None and url in feed.first_served:
            out.append(article.indexed_at.timestamp() - feed.first_served[url])
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 2 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=1500)
    parser.add_argument("--phase-s", type=float, default=80.0)
    parser.add_argument("--every", type=float, default=1.0)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    redis_server = RedisServer(tmp / "redis")
    redis_server.start()
    site = FixtureSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {k: v for k, v in os.environ.items() if k != "ELASTICSEARCH_URL"}
    env.update({"REDIS_URL": redis_server.url, "NEWSWORKERS_NAMESPACE": f"bench{uuid.uuid4().hex[:6]}",
                "NEWSWORKERS_DATA_DIR": str(tmp / "data"), "NEWSWORKERS_POLL_INTERVAL_S": "10",
                "NEWSWORKERS_POLL_MIN_INTERVAL_S": "10", "NEWSWORKERS_POLL_JITTER_RATIO": "0",
                "NEWSWORKERS_INDEX_FLUSH_INTERVAL_S": "0.5"})
    env.update({f"NEWSWORKERS_{k.upper()}": v for k, v in LOOPBACK_SETTINGS.items()})
    feed = LiveFeed(site)
    subprocess.run([*newsworkers_cli(), "feeds", "add", site.url("/dyn/live.xml")], env=env, check=True,
                   capture_output=True)
    rng = random.Random(7)
    warc = tmp / "history.warc.gz"
    write_history(warc, args.pages, rng)
    run = subprocess.Popen([*newsworkers_cli(), "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    counter = iter(range(10**9))
    try:
        time.sleep(25)  # workers up, spaCy loaded, first poll done
        backend = TantivyBackend(tmp / "data" / "index")

        def trickle(seconds: float) -> list[str]:
            urls, end = [], time.monotonic() + seconds
            while time.monotonic() < end:
                [url] = feed.add_pages([f"live-{next(counter)}.html"], rng)
                feed.publish([url])
                urls.append(url)
                time.sleep(args.every)
            return urls

        trickle(15)  # warm-up, not measured: first batches, first cluster lookups
        quiet = trickle(args.phase_s)
        time.sleep(15)  # the last of them indexed
        backfill = subprocess.Popen([*newsworkers_cli(), "backfill", "warc", str(warc), "--json"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        started = time.time()
        busy = trickle(args.phase_s)
        backfill.wait(timeout=600)
        history = [backend.get(document_id(page_url(n))) for n in range(args.pages)]
        wait_end = time.monotonic() + 900
        while any(a is None for a in history) and time.monotonic() < wait_end:
            time.sleep(2)
            history = [a or backend.get(document_id(page_url(n))) for n, a in enumerate(history)]
        done = [a.indexed_at.timestamp() for a in history if a is not None and a.indexed_at]
        backfill_rate = len(done) / (max(done) - started) if done else 0.0
        busy = [u for u in busy if feed.first_served.get(u, 0) < max(done, default=0)]  # while backfill lasted
        time.sleep(15)
        burst = feed.add_pages([f"burst-{n}.html" for n in range(args.burst)], rng)
        feed.publish(burst)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            got = [backend.get(document_id(u)) for u in burst]
            if all(got):
                break
            time.sleep(2)
        burst_done = [a.indexed_at.timestamp() for a in got if a is not None and a.indexed_at]
        burst_start = min(feed.first_served.get(u, time.time()) for u in burst)
        live_rate = len(burst_done) / (max(burst_done) - burst_start) if burst_done else 0.0
        lat_quiet, lat_busy = latencies(backend, feed, quiet), latencies(backend, feed, busy)
    finally:
        feed.stop.set()
        run.terminate()
        try:
            run.wait(timeout=90)
        except subprocess.TimeoutExpired:
            run.kill()
        server.shutdown()
        redis_server.stop()
    result = {
        "live_quiet": {"n": len(lat_quiet), "p50_s": round(statistics.median(lat_quiet), 2),
                       "p95_s": round(p95(lat_quiet), 2)},
        "live_during_backfill": {"n": len(lat_busy), "p50_s": round(statistics.median(lat_busy), 2),
                                 "p95_s": round(p95(lat_busy), 2)},
        "p95_ratio": round(p95(lat_busy) / p95(lat_quiet), 2),
        "backfill_articles_per_s": round(backfill_rate, 2), "backfill_indexed": len(done),
        "live_burst_articles_per_s": round(live_rate, 2), "live_burst_indexed": len(burst_done),
        "backfill_vs_live_rate": round(backfill_rate / live_rate, 2) if live_rate else None,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"live p95 poll→searchable: {result['live_quiet']['p95_s']}s quiet ({len(lat_quiet)} articles), "
          f"{result['live_during_backfill']['p95_s']}s during backfill ({len(lat_busy)}): "
          f"ratio {result['p95_ratio']} (goal <= 1.5)")
    print(f"backfill from a local WARC: {result['backfill_articles_per_s']} articles/s ({len(done)} pages) vs live "
          f"burst {result['live_burst_articles_per_s']} articles/s ({len(burst_done)}): "
          f"ratio {result['backfill_vs_live_rate']}")


if __name__ == "__main__":
    main()
