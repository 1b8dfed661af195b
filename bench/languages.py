"""What per-language analysis costs the Tantivy backend: indexing rate and query latency, on the seed pages.

Builds N articles from the paragraphs of the seed pages (seeds/articles in English, seeds/international in
German, French, Spanish, Japanese and Russian; each page's language from its ``lang``), indexes them in
batches of 500, then times a set of queries (words, a phrase, a field, a language filter, a Japanese word)
and the Elasticsearch request each query builds (its size and build time; no cluster involved). Only
APIs that predate the language groups are used, so the same script measures an older checkout:

    .venv/bin/python bench/languages.py [--docs 20000] [--repeat 30] [--json]
    PYTHONPATH=/path/to/older/checkout .venv/bin/python bench/languages.py --seeds seeds   # before
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # appended: a PYTHONPATH checkout (the "before") wins

from workers.core.models import Article, DateSource  # noqa: E402
from workers.search.elasticsearch import requests as es_requests  # noqa: E402
from workers.search.model import SearchQuery  # noqa: E402
from workers.search.tantivy.backend import TantivyBackend  # noqa: E402

START = datetime(2020, 1, 1, tzinfo=UTC)
QUERIES = ["markets", "rocket attack", '"climate change"', "title:coronavirus", "Regierungen",
           "Regierungen language:de", "除雪作業", "мосты OR embalse", "the"]


def pages(seeds: Path) -> list[tuple[str, str, str]]:
    """(language, title, body) of every seed page with an article."""
    found = []
    for path in sorted([*(seeds / "articles").glob("*.html"), *(seeds / "international").glob("*.html")]):
        tree = lxml_html.fromstring(path.read_bytes())
        paragraphs = [" ".join(p.text_content().split()) for p in tree.xpath("//article//p")]
        body = "\n".join(p for p in paragraphs if len(p) > 40)
        if body:
            language = (tree.get("lang") or "en").split("-")[0].lower()
            found.append((language, " ".join(tree.xpath("string(//h1)").split()), body))
    return found


def articles(count: int, corpus: list[tuple[str, str, str]]) -> list[Article]:
    made = []
    for i in range(count):
        language, title, body = corpus[i % len(corpus)]
        made.append(Article(id=f"{i:032x}", id_version=1, url=f"https://bench.example/{i}", domain="bench.example",
                            title=f"{title} ({i})", body=body, language=language, fetched_at=START,
                            published_at=START + timedelta(minutes=i), date_source=DateSource.PAGE))
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    corpus = pages(args.seeds)
    docs = articles(args.docs, corpus)
    report: dict[str, object] = {"docs": args.docs, "pages": len(corpus),
                                 "languages": sorted({lang for lang, _t, _b in corpus})}
    with tempfile.TemporaryDirectory() as tmp:
        backend = TantivyBackend(Path(tmp) / "index", writer=True)
        started = time.perf_counter()
        for at in range(0, len(docs), 500):
            backend.upsert(docs[at : at + 500])
        seconds = time.perf_counter() - started
        report["index_docs_per_s"] = round(args.docs / seconds, 1)
        report["index_bytes"] = sum(f.stat().st_size for f in (Path(tmp) / "index").iterdir() if f.is_file())
        latencies: dict[str, dict[str, float]] = {}
        for text in QUERIES:
            query = SearchQuery(text=text, limit=20)
            total = backend.search(query).total  # warm
            samples = []
            for _ in range(args.repeat):
                begun = time.perf_counter()
                backend.search(query)
                samples.append((time.perf_counter() - begun) * 1000)
            begun = time.perf_counter()
            for _ in range(args.repeat):
                body = es_requests.search_body(query, size=20)
            build_ms = (time.perf_counter() - begun) * 1000 / args.repeat
            latencies[text] = {"hits": total, "median_ms": round(statistics.median(samples), 2),
                               "p90_ms": round(sorted(samples)[int(0.9 * len(samples)) - 1], 2),
                               "es_body_bytes": len(json.dumps(body)), "es_build_ms": round(build_ms, 3)}
        backend.close()
    report["queries"] = latencies
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    print(f"{args.docs} docs from {len(corpus)} pages ({', '.join(report['languages'])}): "  # type: ignore[arg-type]
          f"{report['index_docs_per_s']} docs/s indexed, index {report['index_bytes'] / 2**20:.1f} MiB")
    print(f"{'query':<28}{'hits':>7}{'median ms':>11}{'p90 ms':>9}{'ES body B':>11}{'ES build ms':>13}")
    for text, row in latencies.items():
        print(f"{text:<28}{row['hits']:>7}{row['median_ms']:>11}{row['p90_ms']:>9}{row['es_body_bytes']:>11}"
              f"{row['es_build_ms']:>13}")


if __name__ == "__main__":
    main()
