"""What collapse and deep paging cost in the Tantivy backend, against plain searches in the same run.

Indexes N tiny articles (clusters of three near-duplicates) once, then times:
- collapse: ``--collapse`` pages vs the same page uncollapsed (the raw baseline);
- deep page: a page at offset 10,000 vs the first page (the raw baseline);
- request building for Elasticsearch: ``search_body`` per query (no cluster involved).

    .venv/bin/python bench/search_paths.py [--docs 30000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.core.models import Article, DateSource  # noqa: E402
from workers.search.elasticsearch import requests as es_requests  # noqa: E402
from workers.search.model import SearchQuery, Sort  # noqa: E402
from workers.search.tantivy.backend import TantivyBackend  # noqa: E402

START = datetime(2023, 1, 1, tzinfo=UTC)


def doc(i: int) -> Article:
    cluster = f"{i // 3 * 3:032x}"
    return Article(id=f"{i:032x}", id_version=1, url=f"https://bench.example/{i}", domain="bench.example",
                   title=f"Dispatch {i} on the markets", body=f"Stocks moved on day {i % 97}. Markets and bonds.",
                   published_at=START + timedelta(minutes=i), date_source=DateSource.PAGE, fetched_at=START,
                   cluster_id=None if cluster == f"{i:032x}" else cluster)


def timed(backend: TantivyBackend, query: SearchQuery, repeat: int) -> float:
    backend.search(query)  # warm
    started = time.perf_counter()
    for _ in range(repeat):
        backend.search(query)
    return (time.perf_counter() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backend = TantivyBackend(Path(tmp) / "index", writer=True)
        started = time.perf_counter()
        backend.upsert([doc(i) for i in range(args.docs)])
        print(f"indexed {args.docs} documents in {time.perf_counter() - started:.2f}s")
        for label, base, probe in [
            ("collapse, first page of 20", SearchQuery(text="markets", sort=Sort.DATE, limit=20),
             SearchQuery(text="markets", sort=Sort.DATE, limit=20, collapse=True)),
            ("collapse, page at offset 1,000", SearchQuery(text="markets", sort=Sort.DATE, limit=20, offset=1000),
             SearchQuery(text="markets", sort=Sort.DATE, limit=20, offset=1000, collapse=True)),
            ("offset 10,000 vs first page", SearchQuery(text="markets", sort=Sort.DATE, limit=20),
             SearchQuery(text="markets", sort=Sort.DATE, limit=20, offset=10_000)),
        ]:
            raw, ours = timed(backend, base, args.repeat), timed(backend, probe, args.repeat)
            print(f"{label:34s} {ours * 1000:8.2f} ms vs {raw * 1000:8.2f} ms raw  ratio {ours / raw:6.2f}")
        backend.close()
    query = SearchQuery(text='rocket "drone strike" -sports title:gaza', filters={"locations": ["Baghdad"]},
                        facets=["locations", "persons"], collapse=True)
    started = time.perf_counter()
    for _ in range(2000):
        es_requests.search_body(query, size=20)
    print(f"Elasticsearch search_body: {(time.perf_counter() - started) / 2000 * 1e6:.1f} µs per request body")


if __name__ == "__main__":
    main()
