"""Cost of matching each indexed batch against the saved searches, on the embedded path.

    .venv/bin/python bench/alerts_matching.py [--searches 100] [--batch 200] [--batches 20] [--json]

Generates batches of articles (bodies of ~400 words drawn from the seed article's sentences, entities from
small pools, as in a real feed mix) and saved searches of every kind people write (words, phrases,
AND/OR/NOT, field:value, facet filters). Times :class:`workers.alerts.matcher.BatchMatcher` per batch (an
in-memory Tantivy index of the batch, every saved search run on it) beside the raw baseline measured in the
same run: writing and committing the same batch to an on-disk Tantivy index, which the index stage does
anyway. Prints milliseconds per batch, the ratio, and the cost per article.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.alerts.matcher import BatchMatcher  # noqa: E402
from workers.alerts.store import SavedSearch, validate_saved_search  # noqa: E402
from workers.core.ids import document_id  # noqa: E402
from workers.core.models import Article, DateSource  # noqa: E402
from workers.search.tantivy.backend import TantivyBackend  # noqa: E402

PERSONS = ["Qassem Soleimani", "Donald Trump", "Angela Merkel", "Boris Johnson", "Greta Thunberg",
           "Christine Lagarde", "Novak Djokovic", "Mary Lou McDonald", "Abu Mahdi al-Muhandis", "Jacinda Ardern"]
PLACES = ["Baghdad", "Iraq", "Iran", "Australia", "Kenya", "Davos", "Brussels", "Dublin", "Las Vegas", "Wuhan",
          "London", "Melbourne", "Ethiopia", "Tehran", "Washington"]
ORGS = ["European Union", "NATO", "Pentagon", "European Central Bank", "NASA", "World Economic Forum",
        "Sinn Fein", "Alphabet", "United Nations", "Popular Mobilization Forces"]
SOURCES = ["Meridian Herald", "Northwind Tribune", "Harbour Gazette", "Eastern Ledger"]


def sentences() -> list[str]:
    text = (ROOT / "seeds" / "000_9f9cfed58eac942f.txt").read_text()
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 4]


def make_batch(rnd: random.Random, pool: list[str], start: int, size: int) -> list[Article]:
    batch = []
    for n in range(start, start + size):
        url = f"https://news{n % 40}.example/story/{n}"
        body = " ".join(rnd.choice(pool) for _ in range(18))
        batch.append(Article(
            id=document_id(url), id_version=1, url=url, domain=f"news{n % 40}.example",
            title=" ".join(rnd.choice(pool).split()[:9]), body=body, summary=rnd.choice(pool),
            published_at=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=n), date_source=DateSource.PAGE,
            fetched_at=datetime(2020, 3, 1, tzinfo=UTC), language=rnd.choice(["en", "en", "en", "de"]),
            source_name=rnd.choice(SOURCES), persons=rnd.sample(PERSONS, 2), locations=rnd.sample(PLACES, 3),
            organizations=rnd.sample(ORGS, 1),
        ))
    return batch


def make_searches(rnd: random.Random, pool: list[str], count: int) -> list[SavedSearch]:
    words = sorted({w for s in pool for w in re.findall(r"[a-z]{6,}", s.lower())})
    kinds = [
        lambda: rnd.choice(words),
        lambda: f"{rnd.choice(words)} {rnd.choice(words)}",
        lambda: '"' + " ".join(re.findall(r"[A-Za-z]+", rnd.choice(pool))[2:4]) + '"',
        lambda: f"{rnd.choice(words)} OR {rnd.choice(words)}",
        lambda: f"{rnd.choice(words)} AND NOT {rnd.choice(words)}",
        lambda: f"title:{rnd.choice(words)}",
        lambda: f'persons:"{rnd.choice(PERSONS)}"',
        lambda: f"({rnd.choice(words)} OR {rnd.choice(words)}) -{rnd.choice(words)}",
    ]
    searches = []
    for n in range(count):
        query = rnd.choice(kinds)()
        filters = {"locations": [rnd.choice(PLACES)]} if n % 3 == 0 else {}
        if n % 5 == 0:
            filters["language"] = ["en"]
        searches.append(validate_saved_search(f"s{n}", query, filters))
    return searches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=100)
    parser.add_argument("--batch", type=int, default=200, help="articles per batch (index_batch_size)")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rnd = random.Random(8)
    pool = sentences()
    searches = make_searches(rnd, pool, args.searches)
    matcher = BatchMatcher()
    match_ms, index_ms, matched_pairs = [], [], 0
    with tempfile.TemporaryDirectory() as scratch:
        backend = TantivyBackend(Path(scratch) / "index", writer=True)
        try:
            for b in range(args.batches + 1):  # the first round warms up both sides and is not counted
                batch = make_batch(rnd, pool, b * args.batch, args.batch)
                started = time.perf_counter()
                backend.upsert(batch)
                indexed = time.perf_counter()
                found = matcher.match(batch, searches)
                done = time.perf_counter()
                if b:
                    index_ms.append((indexed - started) * 1000)
                    match_ms.append((done - indexed) * 1000)
                    matched_pairs += sum(len(v) for v in found.values())
        finally:
            backend.close()
    match_p50, index_p50 = statistics.median(match_ms), statistics.median(index_ms)
    result = {
        "searches": args.searches, "batch": args.batch, "batches": args.batches,
        "match_ms_per_batch_p50": round(match_p50, 1), "match_ms_per_batch_max": round(max(match_ms), 1),
        "index_ms_per_batch_p50": round(index_p50, 1),
        "ratio_match_to_index": round(match_p50 / index_p50, 2),
        "match_us_per_article": round(match_p50 * 1000 / args.batch, 1),
        "matches_per_batch": round(matched_pairs / args.batches, 1),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.searches} saved searches, batches of {args.batch} articles, {args.batches} batches")
    print(f"  matching (in-memory Tantivy): {result['match_ms_per_batch_p50']} ms per batch (p50, max "
          f"{result['match_ms_per_batch_max']}), {result['match_us_per_article']} µs per article")
    print(f"  baseline, indexing the batch on disk: {result['index_ms_per_batch_p50']} ms per batch (p50)")
    print(f"  ratio matching / indexing: {result['ratio_match_to_index']}  "
          f"({result['matches_per_batch']} matches per batch)")


if __name__ == "__main__":
    main()
