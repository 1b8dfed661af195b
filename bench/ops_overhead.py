"""What the operations layer costs per item, against raw Redis commands measured in the same run.

- counters: ``Stats.incr`` (running total, per-minute bucket, reason, Prometheus observer) against one
  raw ``HINCRBY`` pipeline round trip (what a counter cannot cost less than);
- dead letters: ``DeadLetters.record`` (read of the earlier letter, one Lua script keeping the bound and
  the counts, a log line) against a raw ``HSET`` of the same JSON;
- status: one ``collect_status`` with no worker answering (so it includes the full inspect timeout)
  against one ``PING``.

Needs a Redis: ``REDIS_URL`` (a namespace of its own is used and deleted), else a private redis-server.

    .venv/bin/python bench/ops_overhead.py [--n 2000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from workers.settings import Settings  # noqa: E402
from workers.state import DeadLetter, Stats  # noqa: E402
from workers.state.embedded_redis import free_port, redis_server_binary  # noqa: E402
from workers.worker.app import create_app  # noqa: E402
from workers.worker.metrics import _Instruments  # noqa: E402


def per_op_us(n: int, work: Callable[[int], object]) -> float:
    started = time.perf_counter()
    for i in range(n):
        work(i)
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    server = None
    url = os.environ.get("REDIS_URL")
    if not url:
        port = free_port()
        server = subprocess.Popen([redis_server_binary(), "--port", str(port), "--save", "", "--appendonly", "no",
                                   "--dir", tempfile.mkdtemp()], stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        time.sleep(0.5)
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    logging.getLogger("workers").setLevel(logging.ERROR)  # the dead-lettered line is not what we time
    try:
        settings = Settings(redis_url=url, namespace=namespace, data_dir=Path(tempfile.mkdtemp()),
                            dead_letters_max=n // 2, status_ping_timeout_s=0.5)
        app = create_app(settings)
        runtime = app.runtime
        client = redis.Redis.from_url(url, decode_responses=True)
        instruments = _Instruments()
        Stats.observe(lambda *a: instruments.stat(*a))

        def raw_counter(i: int) -> None:
            client.pipeline(transaction=False).hincrby(f"{namespace}:raw", "fetch.ok", 1).execute()

        def counter(i: int) -> None:
            runtime.stats.incr("fetch", "failed", reason="fetch.http_404")

        letter = DeadLetter(stage="fetch", key="k", url="https://x.example/a", reason="fetch.http_404",
                            error="FetchError: HTTP 404", payload={"doc_id": "k", "url": "https://x.example/a"})
        raw_json = json.dumps(letter.to_json())

        def raw_letter(i: int) -> None:
            client.hset(f"{namespace}:rawfailed", f"k{i}", raw_json)

        def record(i: int) -> None:
            letter.key = f"k{i}"
            runtime.dead_letters.record(letter)

        rows = [("counter", per_op_us(n, counter), per_op_us(n, raw_counter)),
                ("dead letter (bounded)", per_op_us(n, record), per_op_us(n, raw_letter)),
                ("status", per_op_us(3, lambda i: __import__("workers.ops.status").status.collect_status(app, runtime)),
                 per_op_us(3, lambda i: client.ping()))]
        print(f"{'operation':24} {'ours µs':>10} {'raw µs':>10} {'ratio':>8}   (n={n}, Redis {url.split('@')[-1]})")
        for name, ours, raw in rows:
            print(f"{name:24} {ours:10.1f} {raw:10.1f} {ours / raw:8.1f}")
        counts = runtime.dead_letters.counts()
        print(f"dead letters held {counts.total} (bound {settings.dead_letters_max}), dropped {counts.dropped}")
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
        if server is not None:
            server.terminate()


if __name__ == "__main__":
    main()
