"""Polling 2,000 feeds from a loopback server: a full poll, then a re-poll where every feed answers 304.

What runs is the poll task's own code path, :func:`workers.pipeline.poll.cycle.run_poll`
(conditional GET, parse, dedupe against a real Redis, state, schedule), called
in-process from ``--threads`` threads like the poll worker's thread pool. New
items go to a list, or with ``--celery`` to the real fetch queue through
``apply_async`` (what the task does; it adds one broker write per new item).
What Celery adds on top, the delivery of each poll message to a worker, is
not in these numbers.

The raw baselines, measured in the same run over the same server and client:
plain GETs of every feed (no parse, no Redis), and plain conditional GETs
that come back 304. The feed server runs in its own process (tests/site.py),
so it does not share our interpreter lock.

    .venv/bin/python bench/poll.py [--feeds 2000] [--threads 8] [--celery] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import RedisServer  # noqa: E402
from tests.site import FixtureSite, make_handler  # noqa: E402
from workers.core.models import Feed  # noqa: E402
from workers.pipeline.poll.cycle import run_poll  # noqa: E402
from workers.runtime import Runtime  # noqa: E402
from workers.settings import Settings  # noqa: E402


def _serve(port_out: Any) -> None:
    site = FixtureSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    port_out.put(server.server_address[1])
    server.serve_forever()


def _timed(threads: int, work: Any, feeds: list[Feed]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(work, feeds):
            pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--celery", action="store_true", help="Send new items to the real fetch queue.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp) / "redis")
        redis_server.start()
        try:
            report = _bench(args, base, redis_server.url, Path(tmp))
        finally:
            redis_server.stop()
            server.terminate()
    if args.json:
        print(json.dumps(report))
        return
    n = report["feeds"]
    print(f"{n} feeds, {args.threads} threads, {report['items_enqueued']} items enqueued"
          f"{' through Celery' if args.celery else ''}")
    print(f"  raw GET (no parse, no Redis)      {report['raw_get_feeds_per_s']:8.0f} feeds/s")
    print(f"  full poll (run_poll)              {report['full_poll_feeds_per_s']:8.0f} feeds/s  "
          f"= {report['full_vs_raw']:.2f} x raw GET")
    print(f"  raw conditional GET (304)         {report['raw_304_feeds_per_s']:8.0f} feeds/s")
    print(f"  re-poll, every feed 304           {report['repoll_feeds_per_s']:8.0f} feeds/s  "
          f"= {report['repoll_vs_raw_304']:.2f} x raw 304")
    print(f"  re-poll cost / full poll cost     {report['repoll_cost_ratio']:8.3f}  (target < 0.1)")


def _bench(args: argparse.Namespace, base: str, redis_url: str, tmp: Path) -> dict[str, Any]:
    settings = Settings(data_dir=tmp / "data", redis_url=redis_url, namespace="bench", feed_host_spacing_s=0,
                        allowed_networks="127.0.0.0/8", feed_timeout_s=30, poll_concurrency=args.threads)
    runtime = Runtime(settings)
    feeds = [Feed(url=f"{base}/feeds/bench/{i}.xml") for i in range(args.feeds)]
    for feed in feeds:
        runtime.registry.add(feed)
    client = runtime.feed_client
    enqueued: list[dict[str, Any]] = []
    enqueue: Any = enqueued.append
    if args.celery:
        from workers.worker.app import create_app

        fetch_task = create_app(settings).tasks["newsworkers.fetch"]
        enqueue = lambda item_json: (fetch_task.apply_async((item_json,)), enqueued.append(item_json))  # noqa: E731

    client.get(feeds[0].url)  # connections warm, like a running worker's
    raw_get = _timed(args.threads, lambda f: client.get(f.url).content, feeds)
    full = _timed(args.threads, lambda f: run_poll(runtime, f, enqueue), feeds)
    etags = {f.url: runtime.registry.state(f.url).etag or "" for f in feeds}
    raw_304 = _timed(args.threads, lambda f: client.get(f.url, headers={"If-None-Match": etags[f.url]}), feeds)
    statuses: list[int] = []
    repoll = _timed(args.threads, lambda f: statuses.append(run_poll(runtime, f, enqueue)["status"]), feeds)
    runtime.close()
    if set(statuses) != {304}:
        raise SystemExit(f"the re-poll should answer 304 only, got {sorted(set(statuses))}")
    n = len(feeds)
    return {
        "feeds": n, "threads": args.threads, "celery": args.celery, "items_enqueued": len(enqueued),
        "raw_get_feeds_per_s": n / raw_get, "full_poll_feeds_per_s": n / full, "full_vs_raw": raw_get / full,
        "raw_304_feeds_per_s": n / raw_304, "repoll_feeds_per_s": n / repoll, "repoll_vs_raw_304": raw_304 / repoll,
        "repoll_cost_ratio": repoll / full,
    }


if __name__ == "__main__":
    main()
