"""End-to-end `newsworkers run --once` over the offline corpus, against the raw limit.

The raw baseline is the extract stage itself (the exact function the
extract task runs: trafilatura, metadata, language, spaCy NER) over the same
pages in one process, with no queue, no HTTP, no index. The ratio says what
the distributed machinery costs on a corpus this small, start-up included.

    .venv/bin/python bench/seed_run.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.core.ids import document_id  # noqa: E402
from workers.core.models import FeedItem, FetchedPage  # noqa: E402
from workers.entities.recognizer import EntityRecognizer  # noqa: E402
from workers.net.decoding import decode_html  # noqa: E402
from workers.pipeline.extract.article import extract_article  # noqa: E402
from workers.settings import Settings  # noqa: E402


def raw_baseline(pages: list[Path]) -> float:
    settings = Settings()
    ner = EntityRecognizer(settings.spacy_model, max_chars=settings.ner_max_chars)
    _ = ner.nlp  # model load is start-up, not per-article work
    started = time.perf_counter()
    for path in pages:
        url = path.as_uri()
        item = FeedItem(doc_id=document_id(url), url=url, feed_url=url, title=path.stem)
        page = FetchedPage(item=item, final_url=url, status=200, html=decode_html(path.read_bytes(), None))
        extract_article(page, settings, ner)
    return len(pages) / (time.perf_counter() - started)


def end_to_end() -> tuple[int, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
        env["NEWSWORKERS_DATA_DIR"] = str(Path(tmp) / "data")
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", "from workers.cli.main import main; main()", "run", "--once"],
                                env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
    match = re.search(r"(\d+) articles indexed .* in ([\d.]+)s", result.stdout.replace("\n", " "))
    if not match:
        raise SystemExit(f"unexpected run output:\n{result.stdout}")
    return int(match.group(1)), float(match.group(2)), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    pages = sorted((ROOT / "seeds" / "articles").glob("*.html"))
    limit = raw_baseline(pages)
    articles, run_s, wall_s = end_to_end()
    e2e = articles / run_s
    report = {"articles": articles, "run_s": round(run_s, 2), "wall_s_with_startup": round(wall_s, 2),
              "end_to_end_per_s": round(e2e, 2), "limit_per_s": round(limit, 2), "ratio": round(e2e / limit, 3)}
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
