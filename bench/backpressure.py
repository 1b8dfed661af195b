"""Redis memory while a slow extract pool (one process) falls behind a fast poller, with and without
back-pressure, in the same run.

Serves ``--items`` generated article pages (default 20,000) in feeds of 50 on loopback hosts (the pages of
bench/pipeline.py), registers the feeds, and runs ``newsworkers run --once`` for ``--seconds`` per phase
against a private redis-server, sampling ``INFO memory`` used_memory and the fetch+extract backlog (queue
lengths) twice a second:

- with back-pressure: ``backlog_high_water_msgs`` = ``--high``, ``backlog_low_water_msgs`` = ``--high``/2;
- without: the high-water mark out of reach (what the pipeline did before back-pressure).

Extraction cannot finish 20,000 pages in a phase on one process: the point is what piles up meanwhile.
It prints, per phase, the items polled, the backlog and used_memory at their peak and at the end, and the
articles indexed; then the ratio of the peaks. used_memory also holds what every indexed article leaves for
good (seen ids, near-duplicate fingerprints, entity names), which grows with the articles in either phase;
so the memory of the work under way (the queues, unacknowledged, delayed and in-flight messages) is sampled
apart, as ``MEMORY USAGE`` of those keys: that is what back-pressure bounds.

    .venv/bin/python bench/backpressure.py [--items 20000] [--seconds 90] [--high 500] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import redis  # noqa: E402
from pipeline import BENCH_ENVIRONMENT, NAMESPACE, NewsServer, RedisServer  # noqa: E402

from workers.core.models import Feed  # noqa: E402
from workers.state import FeedRegistry, Keys  # noqa: E402


def phase(items: int, seconds: float, high: int) -> dict[str, Any]:
    server = NewsServer(items)
    server.start()
    broker = RedisServer()
    client = redis.Redis.from_url(broker.url, decode_responses=True)
    keys = Keys(NAMESPACE)
    registry = FeedRegistry(client, keys, host_spacing_s=0)
    for feed in range(server.feeds):
        registry.add(Feed(url=server.feed_url(feed), title=f"Bench {feed}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWORKERS_") and k != "ELASTICSEARCH_URL"}
    env.update(BENCH_ENVIRONMENT, REDIS_URL=broker.url, NEWSWORKERS_NAMESPACE=NAMESPACE,
               NEWSWORKERS_EXTRACT_CONCURRENCY="1", NEWSWORKERS_BACKLOG_HIGH_WATER_MSGS=str(high),
               NEWSWORKERS_BACKLOG_LOW_WATER_MSGS=str(high // 2))
    samples: list[tuple[float, int, int, int, int]] = []  # (t, used_memory, backlog, indexed, in-flight work)
    work_keys = [*(keys.queue(q) for q in ("poll", "fetch", "extract", "index")), keys.unacked,
                 f"{keys.unacked}_index", f"{NAMESPACE}:delayed", keys.inflight, keys.inflight_items,
                 keys.pending_polls]
    with tempfile.TemporaryDirectory(prefix="bench-backpressure-") as tmp:
        env["NEWSWORKERS_DATA_DIR"] = str(Path(tmp) / "data")
        process = subprocess.Popen([sys.executable, "-c", "from workers.cli.main import main; main()", "run", "--once"],
                                   env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        started = time.monotonic()
        try:
            while time.monotonic() - started < seconds and process.poll() is None:
                pipe = client.pipeline(transaction=False)
                pipe.info("memory")
                pipe.llen(keys.queue("fetch"))
                pipe.llen(keys.queue("extract"))
                pipe.hget(keys.stats, "index.ok")
                for key in work_keys:
                    pipe.memory_usage(key)
                memory, fetch, extract, indexed, *work = pipe.execute()
                samples.append((time.monotonic() - started, int(memory["used_memory"]), fetch + extract,
                                int(indexed or 0), sum(int(w or 0) for w in work)))
                time.sleep(0.5)
            counts = client.hgetall(keys.stats)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # a throwaway Redis and index: nothing to keep
            process.wait()
            for child in _orphans(env["NEWSWORKERS_DATA_DIR"]):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child, signal.SIGKILL)
            broker.stop()
            server.stop()
    return {
        "items_polled": int(counts.get("poll.items_new", 0)),
        "polls_held": int(counts.get("poll.held", 0)),
        "indexed": samples[-1][3] if samples else 0,
        "peak_backlog": max(s[2] for s in samples),
        "end_backlog": samples[-1][2],
        "peak_used_memory_mb": round(max(s[1] for s in samples) / 2**20, 1),
        "end_used_memory_mb": round(samples[-1][1] / 2**20, 1),
        "used_memory_mb_by_10s": [round(s[1] / 2**20, 1) for s in samples[::20]],
        "peak_work_mb": round(max(s[4] for s in samples) / 2**20, 2),
        "work_mb_by_10s": [round(s[4] / 2**20, 2) for s in samples[::20]],
    }


def _orphans(data_dir: str) -> list[int]:
    """Worker process groups of this phase's run (they run in sessions of their own)."""
    groups = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if data_dir.encode() in (proc / "environ").read_bytes():
                groups.append(os.getpgid(int(proc.name)))
    return sorted(set(groups))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--high", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {"items": args.items, "seconds": args.seconds, "high_water": args.high,
              "with_backpressure": phase(args.items, args.seconds, args.high),
              "without_backpressure": phase(args.items, args.seconds, 10**9)}
    result["peak_memory_ratio_without_over_with"] = round(
        result["without_backpressure"]["peak_used_memory_mb"] / result["with_backpressure"]["peak_used_memory_mb"], 2)
    result["peak_work_ratio_without_over_with"] = round(
        result["without_backpressure"]["peak_work_mb"] / max(result["with_backpressure"]["peak_work_mb"], 0.01), 1)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.items} items, {args.seconds:.0f} s per phase, one extract process, high-water {args.high}")
    for name in ("with_backpressure", "without_backpressure"):
        r = result[name]
        print(f"{name.replace('_', ' '):>21}: polled {r['items_polled']:6d}, held polls {r['polls_held']:5d}, "
              f"indexed {r['indexed']:5d}; backlog peak {r['peak_backlog']:6d} end {r['end_backlog']:6d}; "
              f"used_memory peak {r['peak_used_memory_mb']:7.1f} MB end {r['end_used_memory_mb']:7.1f} MB")
        print(f"{'':>23}used_memory every 10 s (MB): {r['used_memory_mb_by_10s']}")
        print(f"{'':>23}work under way (queues, unacked, delayed, in flight) every 10 s (MB): {r['work_mb_by_10s']}, "
              f"peak {r['peak_work_mb']}")
    print(f"peak used_memory without / with back-pressure: {result['peak_memory_ratio_without_over_with']}x; "
          f"work under way: {result['peak_work_ratio_without_over_with']}x")


if __name__ == "__main__":
    main()
