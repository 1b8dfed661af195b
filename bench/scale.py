"""Cost as feeds and years pile up: feeds polled at scale, Redis past the seen window, a big Tantivy index.

Three parts, each with its raw baseline or its own before in the same run:

- **feeds** (bench/scale_feeds.py): the scheduler's claim rate and per-host spacing at ``--feeds`` feeds
  over ``--hosts`` hosts; then that many realistic feeds from a loopback server, a full poll and a re-poll
  where every feed answers 304, beside raw GET and raw conditional GET; Redis bytes per feed after the full
  poll, its live window included (20 items a feed, finished as the index stage would).
- **articles**: ``--articles`` documents finished through the item tracker at a steady rate, with the seen
  window set to ``--window`` seconds; Redis growth per article once the window is full.
- **index** (bench/scale_index.py): a Tantivy index grown to ``--index-docs`` documents: docs/s over the
  last tenth beside the first, search p95 (two words, three facets, a weekly histogram) at a tenth and at
  all, disk bytes per document, the writer's and a reader's peak memory.

Not a test: it takes about 45 minutes on two cores at the full sizes. The last line is one JSON object.

    .venv/bin/python bench/scale.py [--feeds 100000] [--articles 1000000] [--index-docs 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import redis  # noqa: E402
from scale_feeds import measure_feeds  # noqa: E402
from scale_index import measure_index  # noqa: E402

from tests.conftest import RedisServer  # noqa: E402
from workers.runtime import Runtime  # noqa: E402
from workers.settings import Settings  # noqa: E402


def measure_articles(*, articles: int, window_s: int, redis_url: str, data_dir: str) -> dict[str, Any]:
    """Finish ``articles`` ids at a steady rate over four windows; Redis growth per article after the first."""
    settings = Settings(data_dir=data_dir, redis_url=redis_url, namespace="scale-articles", seen_window_s=window_s)
    runtime = Runtime(settings)
    client = redis.Redis.from_url(redis_url)
    span_s = 4 * window_s + 2 * runtime.tracker.seen.bucket_s
    batch = 1_000
    per_batch_s = span_s / (articles / batch)
    started = time.time()
    full_at, full_bytes, full_count = started + window_s + 2 * runtime.tracker.seen.bucket_s, None, 0
    done = 0
    while done < articles:
        ids = [f"{n:032x}" for n in range(done, min(done + batch, articles))]
        runtime.tracker.finish(ids)
        done += len(ids)
        if full_bytes is None and time.time() >= full_at:
            full_bytes, full_count = int(client.info("memory")["used_memory"]), done
        pause = started + (done / batch) * per_batch_s - time.time()
        if pause > 0:
            time.sleep(pause)
    end_bytes = int(client.info("memory")["used_memory"])
    in_window = runtime.tracker.seen_count()
    runtime.close()
    client.close()
    if full_bytes is None:
        raise SystemExit("the articles finished before the window filled: raise --articles or lower --window")
    return {"articles": articles, "seen_window_s": window_s, "articles_in_window_at_end": in_window,
            "redis_bytes_per_article_after_window": (end_bytes - full_bytes) / max(done - full_count, 1),
            "redis_bytes_in_window_per_article": full_bytes / max(in_window, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100_000)
    parser.add_argument("--hosts", type=int, default=20_000, help="Hosts the claim-rate feeds are spread over.")
    parser.add_argument("--processes", type=int, default=2, help="Poller processes (one per core).")
    parser.add_argument("--threads", type=int, default=8, help="Threads per poller process.")
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--window", type=int, default=30, help="Seen window of the articles part, in seconds.")
    parser.add_argument("--index-docs", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="Print only the JSON object.")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp) / "redis")
        server.start()
        try:
            if args.feeds:
                report.update(measure_feeds(feeds=args.feeds, processes=args.processes, threads=args.threads,
                                            redis_url=server.url, data_dir=str(Path(tmp) / "data"),
                                            claim_hosts=args.hosts))
                _show(args, report, "feeds")
            if args.articles:
                redis.Redis.from_url(server.url).flushdb()
                report.update(measure_articles(articles=args.articles, window_s=args.window, redis_url=server.url,
                                               data_dir=str(Path(tmp) / "data")))
                _show(args, report, "articles")
        finally:
            server.stop()
        if args.index_docs:
            report.update(measure_index(docs=args.index_docs, path=Path(tmp) / "index"))
            _show(args, report, "index")
    print(json.dumps(report))


def _show(args: argparse.Namespace, report: dict[str, Any], part: str) -> None:
    if not args.json:
        print(f"-- {part}: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                        for k, v in report.items()), flush=True)


if __name__ == "__main__":
    main()
