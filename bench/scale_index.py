"""The index part of bench/scale.py: a Tantivy index grown to a million documents, and what it costs.

Documents are synthetic news articles (a 300-word body drawn from a Zipf vocabulary, entities and domains
from pools, dates over five years) indexed through :class:`workers.search.tantivy.backend.TantivyBackend`
in the index stage's batches. The indexer and the reader each run in a process of their own, so each
one's peak memory is its own.
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy

from workers.core.ids import document_id
from workers.core.models import Article, DateSource
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend

__all__ = ["measure_index"]

BATCH = 1_000  # the index stage's batch size in a busy deployment
_START = datetime(2021, 1, 1, tzinfo=UTC)
_SPAN_S = 5 * 365 * 86_400
QUERY = SearchQuery(text="budget election", facets=["persons", "organizations", "locations"], histogram="week",
                    limit=20)


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"budget", "election", "minister", "council", "storm", "court", "market", "police"}
    while len(words) < 20_000:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 10))))
    return sorted(words)


def articles(count: int, *, seed: int = 7) -> Iterator[Article]:
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    # Zipf: a few words are everywhere. Drawn a thousand bodies at a time: one draw a word in Python would
    # take longer than indexing them.
    draw = numpy.random.default_rng(seed)
    ranks = numpy.arange(1, len(vocabulary) + 1)
    probabilities = (1 / ranks) / (1 / ranks).sum()
    words = numpy.array(vocabulary, dtype=object)
    persons = [f"Person {n}" for n in range(5_000)]
    organizations = [f"Organization {n}" for n in range(2_000)]
    locations = [f"Place {n}" for n in range(3_000)]
    domains = [f"outlet{n}.example" for n in range(2_000)]
    fetched = datetime(2026, 12, 1, tzinfo=UTC)
    for first in range(0, count, BATCH):
        size = min(BATCH, count - first)
        bodies = words[draw.choice(len(vocabulary), size=(size, 308), p=probabilities)]
        for offset, row in enumerate(bodies):
            n = first + offset
            domain = domains[n % len(domains)]
            url = f"https://{domain}/news/{n}.html"
            yield Article(
                id=document_id(url), id_version=1, url=url, domain=domain, title=" ".join(row[300:]),
                body=" ".join(row[:300]), language="en",
                published_at=_START + timedelta(seconds=rng.randrange(_SPAN_S)), date_source=DateSource.PAGE,
                fetched_at=fetched, word_count=300, persons=rng.sample(persons, 3),
                organizations=rng.sample(organizations, 2), locations=rng.sample(locations, 2), tags=[row[0]],
            )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _search_p95(path: Path, queries: int) -> dict[str, float]:
    backend = TantivyBackend(path)
    backend.search(QUERY)  # first query warms the reader
    times = []
    for _ in range(queries):
        started = time.perf_counter()
        backend.search(QUERY)
        times.append(time.perf_counter() - started)
    backend.close()
    return {"p95_ms": statistics.quantiles(times, n=20)[-1] * 1000, "reader_rss_mb": _rss_mb()}


def _search_child(path: str, queries: int, out: Any) -> None:
    out.put(_search_p95(Path(path), queries))


def _search_in_child(path: Path, queries: int) -> dict[str, float]:
    results: Any = multiprocessing.Queue()
    child = multiprocessing.Process(target=_search_child, args=(str(path), queries, results))
    child.start()
    found = results.get(timeout=900)
    child.join()
    return dict(found)


def _index_child(path: str, count: int, queries: int, out: Any) -> None:
    backend = TantivyBackend(Path(path), writer=True)
    tenth = max(count // 10, BATCH)
    rates: list[float] = []
    at_tenth: dict[str, float] = {}
    batch: list[Article] = []
    started = time.perf_counter()
    for n, article in enumerate(articles(count), 1):
        batch.append(article)
        if len(batch) == BATCH or n == count:
            backend.upsert(batch)
            batch = []
        if n % tenth == 0 or n == count:
            now = time.perf_counter()
            rates.append(tenth / (now - started))
            started = now
            if len(rates) == 1:
                at_tenth = _search_in_child(Path(path), queries)
                started = time.perf_counter()  # the search measurement is not indexing time
    backend.close()
    out.put({"rates": rates, "at_tenth": at_tenth, "writer_rss_mb": _rss_mb()})


def measure_index(*, docs: int, path: Path, queries: int = 60) -> dict[str, Any]:
    results: Any = multiprocessing.Queue()
    child = multiprocessing.Process(target=_index_child, args=(str(path), docs, queries, results))
    child.start()
    indexed = results.get(timeout=4 * 3600)
    child.join()
    at_all = _search_in_child(path, queries)
    disk = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    rates = indexed["rates"]
    return {
        "index_docs": docs, "index_docs_per_s_first_tenth": rates[0], "index_docs_per_s_last_tenth": rates[-1],
        "index_rate_ratio": rates[-1] / rates[0], "search_p95_ms_tenth": indexed["at_tenth"]["p95_ms"],
        "search_p95_ms_all": at_all["p95_ms"], "search_p95_growth": at_all["p95_ms"] / indexed["at_tenth"]["p95_ms"],
        "index_disk_bytes_per_doc": disk / docs, "index_writer_rss_mb": indexed["writer_rss_mb"],
        "index_reader_rss_mb": at_all["reader_rss_mb"],
    }
