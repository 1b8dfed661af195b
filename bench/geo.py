"""Geoparsing quality and cost: countries against a gold set read by hand, and the CPU geoparsing adds.

    .venv/bin/python bench/geo.py [--gold bench/data/geo_gold.jsonl] [--split dev|holdout|all] [--show]

The gold set (bench/data/geo_gold.jsonl) names, per page of ../shared/data (multilingual-news and
article-extraction), the ISO 3166-1 alpha-2 codes of the countries its text names (countries, places in
them, demonyms), written by reading the text, and a ``split``: ``dev`` pages were looked at while writing
the geoparser's rules, ``holdout`` pages were not. Each page goes through the extract stage with the
English spaCy model (what a worker runs): first without geoparsing, then the geoparser alone on that
article, so the two CPU times come from the same run on the same text.

Precision and recall count country codes (micro-averaged) per split and per language. ``--show`` prints
each dev page's misses and extras; holdout pages are never shown one by one.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
import tracemalloc
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.core.ids import document_id  # noqa: E402
from workers.core.models import FeedItem, FetchedPage  # noqa: E402
from workers.entities.recognizer import recognizer_for  # noqa: E402
from workers.geo.gazetteer import Gazetteer  # noqa: E402
from workers.net.decoding import decode_html  # noqa: E402
from workers.pipeline.extract.article import extract_article  # noqa: E402
from workers.pipeline.extract.places import with_places  # noqa: E402
from workers.settings import Settings  # noqa: E402

GOLD = ROOT / "bench" / "data" / "geo_gold.jsonl"
SHARED = ROOT.parent / "shared" / "data"


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    pages: int = 0

    def add(self, found: set[str], gold: set[str]) -> None:
        self.tp += len(found & gold)
        self.fp += len(found - gold)
        self.fn += len(gold - found)
        self.pages += 1

    def line(self, label: str) -> str:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return (f"{label:<18} pages {self.pages:>3}  precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  "
                f"(tp {self.tp}, fp {self.fp}, fn {self.fn})")


def _page(row: dict[str, object]) -> FetchedPage:
    path = SHARED / str(row["path"])
    html = decode_html(gzip.decompress(path.read_bytes()), None)
    url = str(row["url"])
    item = FeedItem(doc_id=document_id(url), url=url, feed_url=url)
    return FetchedPage(item=item, final_url=url, status=200, html=html)


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 1e6


def _gazetteer_cost(settings: Settings) -> tuple[float, float, float, float]:
    """Building the gazetteer once: CPU seconds, resident MB it keeps, peak RSS growth while building (MB), and
    MB its objects hold (tracemalloc, a second build, since tracing slows the first)."""
    rss_before, peak_before = _rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.process_time()
    kept = Gazetteer(settings.geo_city_population, settings.geo_alternate_min_population)
    cpu = time.process_time() - started
    resident = _rss_mb() - rss_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - peak_before
    del kept
    tracemalloc.start()
    traced = Gazetteer(settings.geo_city_population, settings.geo_alternate_min_population)
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    return cpu, resident, peak, held / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--show", action="store_true", help="print each dev page's misses and extras")
    parser.add_argument("--split", choices=("dev", "holdout", "all"), default="all",
                        help="score only this split (tune on dev; read holdout once, at the end)")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent: the gold set's pages live there")
    rows = [json.loads(line) for line in args.gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if args.split in ("all", r["split"])]
    settings = Settings(data_dir=ROOT / ".bench-geo")
    build_cpu, resident_mb, peak_mb, held_mb = _gazetteer_cost(settings)
    ner = recognizer_for(settings)
    with_places(extract_article(_page(rows[0]), settings, ner, places=False), settings, ner)  # models loaded
    by_split: dict[str, Score] = defaultdict(Score)
    by_language: dict[str, Score] = defaultdict(Score)
    by_split_language: dict[tuple[str, str], Score] = defaultdict(Score)
    # The first pass also pays what loads on first use (each language's word list); the second is a worker's
    # steady state. Quality is scored on the second.
    cold_geo_cpu = 0.0
    for row in rows:
        article = extract_article(_page(row), settings, ner, places=False)
        started = time.process_time()
        with_places(article, settings, ner)
        cold_geo_cpu += time.process_time() - started
    extract_cpu = geo_cpu = 0.0
    for row in rows:
        page = _page(row)
        started = time.process_time()
        article = extract_article(page, settings, ner, places=False)
        middle = time.process_time()
        article = with_places(article, settings, ner)
        geo_cpu += time.process_time() - middle
        extract_cpu += middle - started
        found, gold = set(article.countries), set(row["countries"])
        split, language = str(row["split"]), str(row["language"])
        for score in (by_split[split], by_split["all"], by_language[language], by_split_language[split, language]):
            score.add(found, gold)
        if args.show and split == "dev" and found != gold:
            print(f"  {row['path']} [{article.language}] missed {sorted(gold - found)} extra {sorted(found - gold)} "
                  f"places {[p.name + '/' + p.country for p in article.places[:12]]}")
    count = len(rows)
    print(f"gazetteer: {settings.geo_city_population}+ cities, built in {build_cpu:.2f} s CPU; "
          f"resident +{resident_mb:.0f} MB "
          f"after the build, peak RSS +{peak_mb:.0f} MB during it; its objects hold {held_mb:.0f} MB (tracemalloc)")
    print(f"articles: {count}; extraction without geoparsing {1000 * extract_cpu / count:.1f} ms CPU/article; "
          f"geoparsing {1000 * geo_cpu / count:.2f} ms CPU/article (first pass, word lists loading: "
          f"{1000 * cold_geo_cpu / count:.2f}); ratio geo/extraction {geo_cpu / extract_cpu:.3f}")
    print("countries, by split:")
    for split in ("dev", "holdout", "all"):
        if split in by_split:
            print("  " + by_split[split].line(split))
    print("countries, by language (all splits):")
    for language in sorted(by_language, key=lambda lang: (-by_language[lang].pages, lang)):
        print("  " + by_language[language].line(language))
    print("countries, by split and language:")
    for split, language in sorted(by_split_language):
        print("  " + by_split_language[split, language].line(f"{split}/{language}"))


if __name__ == "__main__":
    main()
