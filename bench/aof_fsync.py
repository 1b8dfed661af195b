"""The embedded Redis's AOF fsync policy: what `always` and `everysec` cost, and what a kill -9 loses.

Each "article" is the Redis traffic one article causes on its way through
the pipeline, roughly: claim (Lua-free here: ZADD + HSET), then per stage a
broker push, pop, unacked HSET/HDEL and a counter, and finally the seen SADD
and in-flight cleanup: 26 writes. Several client threads (the workers) run
articles concurrently against a real redis-server started three ways:

- raw baseline: the append-only file off;
- ``appendfsync everysec`` (the default) and ``appendfsync always``.

It prints articles/s and the ratio to the baseline, then kills -9 a server
under ``everysec`` right after a burst of writes and counts what survived.

    .venv/bin/python bench/aof_fsync.py [--articles 3000] [--threads 8]

Why everysec is the default: Redis writes the AOF to the kernel before it
answers a client, so a kill -9 of Redis (the fault we test) loses nothing it
acknowledged under either policy; ``always`` only adds safety against a power
cut or kernel crash, at an fsync per event-loop round. What a power cut loses
under everysec (about the last second of writes) comes back by itself: an item is
marked *seen* only once it is indexed, so an item whose claim or message was
lost is listed by the next poll of its feed and claimed again, and one whose
in-flight mark survived but whose message did not is re-sent by the runner's
orphan watch or after ``inflight_ttl_s``. Documents are upserted by an id
derived from the URL, so a replayed article never makes a second document.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.state.embedded_redis import free_port, redis_server_binary  # noqa: E402

STAGES = ("poll", "fetch", "extract", "index")


def start(directory: Path, appendonly: bool, fsync: str) -> tuple[subprocess.Popen[bytes], str]:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "",
         "--appendonly", "yes" if appendonly else "no", "--appendfsync", fsync],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            if client.ping() and client.info("persistence").get("loading", 0) == 0:
                break
        except (redis.ConnectionError, redis.BusyLoadingError):
            time.sleep(0.05)
    client.close()
    return proc, url


def article(client: redis.Redis, n: int) -> None:
    doc = f"doc-{n}"
    client.zadd("nw:inflight", {doc: time.time()})
    client.hset("nw:inflight-items", doc, json.dumps({"url": f"https://example.org/{n}"}))
    for stage in STAGES:
        message = json.dumps({"body": doc, "stage": stage})
        client.lpush(f"nw:{stage}", message)
        client.rpop(f"nw:{stage}")
        client.hset("nw:unacked", f"tag-{n}-{stage}", message)
        client.hdel("nw:unacked", f"tag-{n}-{stage}")
        client.hincrby("nw:stats", f"{stage}.ok", 1)
    client.sadd("nw:seen", doc)
    client.zrem("nw:inflight", doc)
    client.hdel("nw:inflight-items", doc)
    client.hdel("nw:deliveries", f"extract:{doc}")
    client.hincrby("nw:stats", "index.ok", 1)


def throughput(url: str, articles: int, threads: int) -> float:
    def work(offset: int) -> None:
        client = redis.Redis.from_url(url)
        for n in range(offset, articles, threads):
            article(client, n)
        client.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return articles / (time.perf_counter() - started)


def kill_under_everysec(directory: Path, burst: int) -> tuple[int, int]:
    """Write ``burst`` seen ids, kill -9 at once, restart on the same files: (written, survived)."""
    proc, url = start(directory, True, "everysec")
    client = redis.Redis.from_url(url)
    pipe = client.pipeline(transaction=False)
    for n in range(burst):
        pipe.sadd("nw:seen", f"doc-{n}")
        if n % 100 == 99:
            pipe.execute()
    pipe.execute()
    proc.kill()
    proc.wait()
    proc, url = start(directory, True, "everysec")
    survived = int(redis.Redis.from_url(url).scard("nw:seen"))
    proc.terminate()
    proc.wait()
    return burst, survived


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, appendonly, fsync in (("raw (AOF off)", False, "no"), ("everysec", True, "everysec"),
                                         ("always", True, "always")):
            proc, url = start(Path(tmp) / label.split()[0], appendonly, fsync)
            try:
                throughput(url, 200, args.threads)  # warm up
                results[label] = throughput(url, args.articles, args.threads)
            finally:
                proc.terminate()
                proc.wait()
        written, survived = kill_under_everysec(Path(tmp) / "killed", 20_000)
    raw = results["raw (AOF off)"]
    print(f"{args.articles} articles x 26 Redis writes, {args.threads} client threads")
    for label, rate in results.items():
        print(f"  {label:14} {rate:9.0f} articles/s   ratio to raw {rate / raw:.2f}")
    print(f"kill -9 under everysec right after a burst: {survived}/{written} writes survived "
          f"({written - survived} lost, the last moment's; items not marked seen are polled again)")
    print("conclusion: everysec. Redis write()s the AOF before it answers, so a kill -9 of Redis loses nothing it\n"
          "acknowledged (only a power cut or kernel crash can lose the last ~second, which the next poll\n"
          "re-enqueues: items count as seen only once indexed). The pipeline itself runs at a few articles/s per\n"
          "core (extract+NER is the bottleneck), far below either policy; always buys power-cut safety at the\n"
          "cost of an fsync per event-loop round, the ratio above.")


if __name__ == "__main__":
    main()
