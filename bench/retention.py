"""What retention, takedowns and backups cost, each against a raw baseline measured in the same run.

- backup of the embedded data directory (Redis DUMP of the namespace, hard-linked index snapshot) against a
  plain ``shutil.copytree`` of the index folder alone; restore against the same copy;
- the blocklist check the poll makes on each feed document (100 items) with a list of 1,000 domains and
  1,000 URLs, against the same poll's items with an empty list (one EXISTS round trip);
- a takedown of one domain (10% of the documents, fingerprints cleared) against deleting the same ids by id.

    .venv/bin/python bench/retention.py [--documents 20000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.core.ids import document_id  # noqa: E402
from workers.core.models import Article, DateSource, Feed, FeedItem  # noqa: E402
from workers.ops.backup import backup, restore  # noqa: E402
from workers.pipeline.index.deletion import Selection, delete_selected  # noqa: E402
from workers.runtime import Runtime  # noqa: E402
from workers.search.tantivy.backend import TantivyBackend  # noqa: E402
from workers.settings import Settings  # noqa: E402
from workers.state.blocklist import Blocklist, drop_blocked_items  # noqa: E402
from workers.state.embedded_redis import EmbeddedRedis  # noqa: E402

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _article(i: int) -> Article:
    domain = f"site{i % 10}.example"
    url = f"https://{domain}/news/{i}"
    return Article(id=document_id(url), id_version=2, url=url, domain=domain, title=f"Story {i}",
                   body=f"Story number {i} about the harbour, the council and the weather. " * 8,
                   published_at=T0 + timedelta(minutes=i), date_source=DateSource.PAGE, fetched_at=T0)


def _timed(work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as server:
        base = Path(tmp)
        settings = Settings(data_dir=base / "data", redis_url=server.url, namespace="bench")
        runtime = Runtime(settings)
        articles = [_article(i) for i in range(args.documents)]
        for start in range(0, len(articles), 2000):
            runtime.index_writer.upsert(articles[start:start + 2000])
        runtime.index_writer.close()
        del runtime.__dict__["index_writer"]
        runtime.tracker.finish([a.id for a in articles])
        for i in range(50):
            runtime.registry.add(Feed(url=f"https://feeds.example/{i}.xml"))

        raw_copy = _timed(lambda: shutil.copytree(settings.index_dir, base / "raw-copy"))
        took = _timed(lambda: backup(settings, base / "backup"))
        fresh = settings.model_copy(update={"data_dir": base / "fresh", "namespace": "bench-restored"})
        back = _timed(lambda: restore(fresh, base / "backup"))
        print(f"{args.documents} documents, {runtime.tracker.seen_count()} seen ids, 50 feeds")
        print(f"  copytree of the index alone   {raw_copy:7.3f} s")
        print(f"  backup                        {took:7.3f} s  = {took / raw_copy:5.2f} x copytree")
        print(f"  restore                       {back:7.3f} s  = {back / raw_copy:5.2f} x copytree")

        items = [FeedItem(doc_id=document_id(f"https://news{i}.example/a/{i}"), url=f"https://news{i}.example/a/{i}",
                          feed_url="https://feeds.example/0.xml") for i in range(100)]
        rounds = 50
        empty = _timed(lambda: [drop_blocked_items(runtime, items) for _ in range(rounds)]) / rounds
        listed = Blocklist(runtime.redis, settings.namespace)
        for i in range(1000):
            listed.block_domain(f"blocked{i}.example")
            listed.block_url(f"https://other{i}.example/story/{i}")
        full = _timed(lambda: [drop_blocked_items(runtime, items) for _ in range(rounds)]) / rounds
        print("  blocklist check per feed document of 100 items:")
        print(f"    empty list                  {empty * 1000:7.2f} ms")
        print(f"    1,000 domains + 1,000 URLs  {full * 1000:7.2f} ms  = {full / empty:5.1f} x empty "
              f"({full / len(items) * 1e6:.0f} µs per item)")

        writer = TantivyBackend(settings.index_dir, writer=True)
        by_domain = _timed(lambda: delete_selected(writer, runtime.clusters, Selection(domain="site3.example")))
        ids = [a.id for a in articles if a.domain == "site4.example"]
        by_id = _timed(lambda: writer.delete(ids))
        print(f"  takedown of a domain ({len(ids)} documents)  {by_domain:7.3f} s  = {by_domain / by_id:5.2f} x "
              "deleting the same number by id")
        writer.close()
        runtime.close()


if __name__ == "__main__":
    main()
