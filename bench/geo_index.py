"""What the Tantivy distance filter costs, with its grid cells against the exact check alone, in the same run.

Indexes N articles (one to three places each, 70% around a dozen cities, the rest anywhere), once with
the geo fields and once without any place (to weigh the cells' cost at indexing), then times searches:
- ``--near`` at 5, 50, 500 and 3,000 km of Baghdad, and a country-sized ``--bbox``;
- each with the cell cover (what the backend does) and with the cover switched off, so every document
  with a point is checked exactly (the baseline an index without cells would have);
- the plain count of the same query without a geo filter, for scale.
Every cell answer is checked against the exact answer, so a wrong speed-up cannot pass.

    .venv/bin/python bench/geo_index.py [--docs 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.core.models import Article, DateSource, Place  # noqa: E402
from workers.search.geofilter import BBox, Near  # noqa: E402
from workers.search.model import SearchQuery  # noqa: E402
from workers.search.tantivy import query as tantivy_query  # noqa: E402
from workers.search.tantivy.backend import TantivyBackend  # noqa: E402

START = datetime(2023, 1, 1, tzinfo=UTC)
CITIES = [(33.34, 44.40), (35.69, 51.42), (30.06, 31.25), (48.85, 2.35), (51.51, -0.13), (40.71, -74.01),
          (38.90, -77.04), (39.92, 32.85), (50.45, 30.52), (31.77, 35.21), (-33.87, 151.21), (35.68, 139.69)]


def doc(i: int, rng: random.Random, *, places: bool) -> Article:
    found = []
    for k in range(rng.randint(1, 3) if places else 0):
        if rng.random() < 0.7:
            lat0, lon0 = rng.choice(CITIES)
            lat, lon = max(-90.0, min(90.0, lat0 + rng.gauss(0, 2))), (lon0 + rng.gauss(0, 2) + 180) % 360 - 180
        else:
            lat, lon = rng.uniform(-90, 90), rng.uniform(-180, 180)
        found.append(Place(name=f"p{i}-{k}", geonames_id=i * 10 + k, country="XX", lat=lat, lon=lon))
    return Article(id=f"{i:032x}", id_version=1, url=f"https://bench.example/{i}", domain="bench.example",
                   title=f"Dispatch {i}", body=f"Reports from day {i % 97}.", published_at=START + timedelta(minutes=i),
                   date_source=DateSource.PAGE, fetched_at=START, places=found)


def timed(backend: TantivyBackend, query: SearchQuery, repeat: int) -> tuple[float, int]:
    total = backend.search(query).total  # warm
    started = time.perf_counter()
    for _ in range(repeat):
        backend.search(query)
    return (time.perf_counter() - started) / repeat, total


def build(path: Path, docs: int, *, places: bool) -> tuple[TantivyBackend, float]:
    rng = random.Random(18)
    articles = [doc(i, rng, places=places) for i in range(docs)]
    backend = TantivyBackend(path, writer=True)
    started = time.perf_counter()
    for at in range(0, docs, 5000):
        backend.upsert(articles[at : at + 5000])
    return backend, time.perf_counter() - started


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain, plain_s = build(Path(tmp) / "plain", args.docs, places=False)
        plain.close()
        backend, geo_s = build(Path(tmp) / "geo", args.docs, places=True)
        print(f"indexed {args.docs} documents: {geo_s:.2f}s with places ({size_mb(Path(tmp) / 'geo'):.1f} MiB), "
              f"{plain_s:.2f}s without ({size_mb(Path(tmp) / 'plain'):.1f} MiB)")
        plain_ms = timed(backend, SearchQuery(limit=10), args.repeat)[0] * 1000
        print(f"no geo filter, first page of 10: {plain_ms:.1f} ms")
        areas = [Near(33.34, 44.40, 5), Near(33.34, 44.40, 50), Near(33.34, 44.40, 500), Near(33.34, 44.40, 3000),
                 BBox(29, 38.8, 37.4, 48.6)]
        cover = tantivy_query.cover
        print(f"{'filter':<28}{'matches':>9}{'cells ms':>11}{'exact-only ms':>15}{'speed-up':>10}")
        for area in areas:
            kind = "near" if isinstance(area, Near) else "bbox"
            query = SearchQuery(limit=10, **{kind: area})
            with_cells, found = timed(backend, query, args.repeat)
            tantivy_query.cover = lambda _area: None  # type: ignore[assignment,misc]  # every point checked
            try:
                exact, expected = timed(backend, query, args.repeat)
            finally:
                tantivy_query.cover = cover
            assert found == expected, (area, found, expected)
            print(f"{kind + ' ' + area.text():<28}{found:>9}{with_cells * 1000:>11.1f}{exact * 1000:>15.1f}"
                  f"{exact / with_cells:>9.1f}x")
        backend.close()


if __name__ == "__main__":
    main()
