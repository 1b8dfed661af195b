"""What the search page's requests cost on a big embedded index, against Tantivy's own searcher in the same run.

Builds a Tantivy index of N generated articles (default 100,000: a year of dates, entities drawn from
skewed pools, 50 sources, a few languages, a fifth of the stories in near-duplicate clusters) in batches,
serves it with the real app under uvicorn on 127.0.0.1, and times what the page asks for one search: a
page of 20 hits with the page's ten facets, the date histogram and near-duplicates collapsed, over HTTP. The raw
baseline runs the same compiled queries straight on tantivy's searcher (top 20 plus one aggregation
of the same ten facets and histogram), no HTTP, no snippets, no collapse.

    .venv/bin/python bench/search_page.py [--docs 100000] [--repeat 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import tantivy  # noqa: E402
import uvicorn  # noqa: E402

from workers.api import create_app  # noqa: E402
from workers.core.models import Article, DateSource  # noqa: E402
from workers.search.model import HISTOGRAM_INTERVALS, SearchQuery  # noqa: E402
from workers.search.request import build_query  # noqa: E402
from workers.search.tantivy.backend import TantivyBackend  # noqa: E402
from workers.settings import Settings  # noqa: E402

START = datetime(2024, 1, 1, tzinfo=UTC)
# The ten facets the page asks for (workers/api/static/state.js FACETS).
PAGE_FACETS = ["persons", "organizations", "locations", "groups", "events", "tags", "collections", "source_name",
               "language", "domain"]
WORDS = ("market shares election minister government talks ceasefire storm flood court ruling police "  # noqa: SIM905
         "attack protest economy inflation bank trade deal summit climate energy oil gas border army "
         "health hospital vaccine school strike union workers football match season record science "
         "space rocket launch study research company profits chief report budget tax parliament vote").split()
FIRST = "Anna Omar Li Maria John Fatima Pedro Yuki Ivan Amara Lars Chen Sofia Ahmed Grace Tom".split()  # noqa: SIM905
LAST = "Smith Haddad Wang Garcia Okafor Rossi Novak Kim Silva Dubois Khan Meyer Sato Jones Ali".split()  # noqa: SIM905
PLACES = ("Baghdad Iraq Cairo Egypt London Paris Berlin Kyiv Ukraine Gaza Israel Tehran Iran Beijing "  # noqa: SIM905
          "China Tokyo Japan Delhi India Lagos Nigeria Nairobi Kenya Brasilia Brazil Lima Peru Ottawa "
          "Canada Washington Texas Madrid Spain Rome Italy Moscow Russia Sydney Australia").split()
ORGS = [f"{w.title()} {kind}" for w in WORDS[:40] for kind in ("Group", "Ministry", "Council")]
GROUPS = "Iraqis Kurds Europeans Catholics Democrats Republicans Farmers Unions Muslims Sunnis".split()  # noqa: SIM905
EVENTS = [f"{w.title()} Summit" for w in WORDS[:15]] + [f"{w.title()} Crisis" for w in WORDS[15:30]]
TAGS = WORDS[:25]
COLLECTIONS = ["World", "Europe", "Middle East", "Business", "Science"]
LANGUAGES = ["en"] * 8 + ["fr", "de", "es", "ar"]
QUERIES = {
    "browse (no words, newest first)": {"sort": "date"},
    "one common word": {"q": "market"},
    "phrase + location facet": {"q": '"peace talks"', "locations": "Iraq"},
    "boolean, two facets, 90 days": {"q": "(election OR vote) -football", "language": "en",
                                     "source_name": "Source 7", "since": "2024-03-01", "until": "2024-05-29"},
}


def pick(rng: random.Random, pool: list[str], k: int) -> list[str]:
    # Skewed like real news: a few names everywhere, a long tail.
    return sorted({pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)] for _ in range(k)})


def generate(n: int, seed: int = 8) -> list[Article]:
    rng = random.Random(seed)
    persons = [f"{first} {last}" for first in FIRST for last in LAST]
    rng.shuffle(persons)
    articles: list[Article] = []
    i = 0
    while i < n:
        published = START + timedelta(seconds=rng.randrange(365 * 86400))
        words = rng.choices(WORDS, k=80)
        if rng.random() < 0.05:
            words[10:12] = ["peace", "talks"]
        title = " ".join(rng.choices(WORDS, k=6)).capitalize()
        copies = rng.choice([2, 3, 4, 5]) if rng.random() < 0.2 else 1
        head = f"{i:032x}"
        for c in range(min(copies, n - i)):
            doc_id = f"{i:032x}"
            source = rng.randrange(50)
            articles.append(Article(
                id=doc_id, id_version=1, url=f"https://source{source}.example/{i}", domain=f"source{source}.example",
                source_name=f"Source {source}", title=title, body=" ".join(words) + ".",
                language=rng.choice(LANGUAGES), published_at=published + timedelta(minutes=37 * c),
                date_source=DateSource.PAGE, fetched_at=published, persons=pick(rng, persons, 3),
                organizations=pick(rng, ORGS, 2), locations=pick(rng, PLACES, 3), groups=pick(rng, GROUPS, 1),
                events=pick(rng, EVENTS, 1), tags=pick(rng, TAGS, 2), collections=[COLLECTIONS[source % 5]],
                cluster_id=head if copies > 1 else None, duplicates=copies - 1,
            ))
            i += 1
    return articles


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2)}


def timed_pair(first: Callable[[], Any], second: Callable[[], Any], repeat: int) -> tuple[list[float], list[float]]:
    """Both calls, alternately, so the shared machine's load swings hit both alike."""
    first(), second()  # warm
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for call, into in ((first, samples[0]), (second, samples[1])):
            started = time.perf_counter()
            call()
            into.append(time.perf_counter() - started)
    return samples


def raw_call(backend: TantivyBackend, query: SearchQuery) -> Callable[[], Any]:
    """The baseline: the same query, compiled once, on tantivy's searcher; top 20 and one aggregation."""
    _scoring, filtered = backend.compiler.compile(query)
    spec: dict[str, Any] = {f: {"terms": {"field": f, "size": 10}} for f in PAGE_FACETS}
    spec["h"] = {"date_histogram": {"field": "published_at", "fixed_interval": HISTOGRAM_INTERVALS[query.histogram
                                                                                             or "week"]}}
    order = {"order_by_field": "published_at", "order": tantivy.Order.Desc} if query.sort == "date" else {}

    def call() -> Any:
        backend.index.reload()
        searcher = backend.index.searcher()
        found = searcher.search(filtered, 20, count=True, **order)
        for _score, address in found.hits:
            searcher.doc(address)
        return searcher.aggregate(filtered, spec)

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
    args = parser.parse_args()
    report: dict[str, Any] = {"docs": args.docs, "repeat": args.repeat, "queries": {}}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        started = time.perf_counter()
        articles = generate(args.docs)
        writer = TantivyBackend(settings.index_dir, writer=True)
        for start in range(0, len(articles), 20_000):
            writer.upsert(articles[start:start + 20_000])
        writer.close()
        report["index_build_s"] = round(time.perf_counter() - started, 2)
        del articles
        app = create_app(settings)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        reader = TantivyBackend(settings.index_dir)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                for label, params in QUERIES.items():
                    histogram = "day" if "since" in params else "week"
                    page = {**params, "size": 20, "facets": ",".join(PAGE_FACETS), "histogram": histogram,
                            "collapse": "true"}
                    answer = client.get("/api/search", params=page)
                    answer.raise_for_status()
                    total = answer.json()["total"]
                    query = build_query(params.get("q", ""), sort=params.get("sort", "relevance"),
                                        since=params.get("since"), until=params.get("until"), histogram=histogram,
                                        filters={f: [params[f]] for f in PAGE_FACETS if f in params})
                    api, raw = timed_pair(lambda page=page: client.get("/api/search", params=page).raise_for_status(),
                                          raw_call(reader, query), args.repeat)
                    api_p, raw_p = percentiles(api), percentiles(raw)
                    report["queries"][label] = {"total": total, "api": api_p, "raw": raw_p,
                                                "ratio_p50": round(api_p["p50_ms"] / raw_p["p50_ms"], 2)}
        finally:
            reader.close()
            server.should_exit = True
            thread.join(timeout=10)
    if args.json:
        print(json.dumps(report))
        return
    print(f"{args.docs:,} documents indexed in {report['index_build_s']}s; {args.repeat} requests per query kind")
    print(f"{'query':36} {'hits':>7} {'API p50':>9} {'p95':>8} {'raw p50':>9} {'p95':>8} {'ratio':>6}")
    for label, row in report["queries"].items():
        print(f"{label:36} {row['total']:>7} {row['api']['p50_ms']:>7.1f}ms {row['api']['p95_ms']:>6.1f}ms "
              f"{row['raw']['p50_ms']:>7.1f}ms {row['raw']['p95_ms']:>6.1f}ms {row['ratio_p50']:>5.2f}x")


if __name__ == "__main__":
    main()
