"""Body and metadata extraction quality on the article-extraction dev pages, against plain trafilatura.

Body: our extract stage's body function (workers/pipeline/extract/body.py
`extract_body`, exactly as `extract_article` calls it, from the page HTML and
URL; the dev pages have no feed item) beside plain `trafilatura.extract`
measured in the same run, both scored with the benchmark's metric
(bench/body_metric.py) and timed in CPU milliseconds per page (parsing
included for both).

Metadata: `extract_article` (without NER) on each page, scored where the
truth can be known from the page itself:
- title: pages whose og:title and first <h1> agree (same words) — that
  headline is the truth;
- original date: pages declaring a published date and a later modified
  one (meta or JSON-LD): the published day is the truth;
- language: pages that declare it (<html lang>), as py3langid should agree;
- date: pages whose URL carries a full date (/2019/11/18/ or 2019-11-18) —
  the day a URL is minted is the original publication day. Our final date
  lets such a URL date overrule a page date more than a day away, so the
  page's own date (htmldate as we call it, without the URL) is scored too.

English dev and holdout parts: sites listed in bench/data/article-extraction-holdout.txt are held out from
rule writing; body F1 is printed per part, for our body function, the whole extract stage's body (which
adds the page's JSON-LD articleBody and hydration data) and trafilatura.

Multilingual: the same stage on ../shared/data/multilingual-news (bench/multilingual.py): body F1 beside
trafilatura, title, date, authors and language, per part (dev, holdout) and per language.

    .venv/bin/python bench/extraction.py [--json] [--data DIR] [--set english|multilingual|both]
        [--part dev|holdout|both] [--pages]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402
from dateutil import parser as date_parser  # noqa: E402
from lxml import html as lxml_html  # noqa: E402
from trafilatura.utils import load_html  # noqa: E402

from bench.body_metric import Scores, score  # noqa: E402
from workers.core.ids import document_id  # noqa: E402
from workers.core.models import FeedItem, FetchedPage  # noqa: E402
from workers.net.decoding import decode_html  # noqa: E402
from workers.pipeline.extract.article import extract_article  # noqa: E402
from workers.pipeline.extract.body import extract_body  # noqa: E402
from workers.pipeline.extract.metadata import find_page_date  # noqa: E402
from workers.settings import Settings  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "article-extraction" / "dev"
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](\d{1,2})[/-](\d{1,2})(?:/|-|\b)")
_WORD = re.compile(r"\w+")


def load_pages(data: Path) -> list[tuple[str, str, str, str]]:
    """(id, url, html, true body) for every dev page."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, record in sorted(truth.items()):
        raw = gzip.decompress((data / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append((page_id, record["url"], decode_html(raw, None), record["articleBody"]))
    return pages


def ours(html: str, url: str) -> str:
    return extract_body(load_html(html), url, with_metadata=True).text


def plain(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def timed(functions: dict[str, Callable[[str, str], str]],
          pages: list[tuple[str, str, str, str]]) -> dict[str, tuple[list[str], list[float]]]:
    """Each function over every page, interleaved page by page so that load from other processes on the
    machine falls on all of them alike."""
    results: dict[str, tuple[list[str], list[float]]] = {name: ([], []) for name in functions}
    for _id, url, html, _truth in pages:
        for name, function in functions.items():
            start = time.process_time()
            text = function(html, url)
            results[name][1].append((time.process_time() - start) * 1000)
            results[name][0].append(text)
    return results


def body_only(html: str, url: str) -> str:
    """Our body without the metadata the extract stage reads from the same pass (for reference)."""
    return extract_body(load_html(html), url).text


def url_date(url: str) -> str | None:
    match = _URL_DATE.search(url)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day).date().isoformat()
    except ValueError:
        return None


def known_title(html: str) -> str | None:
    """The headline when og:title and the first <h1> say the same words, else None."""
    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, SyntaxError):
        return None
    og = tree.xpath('//meta[@property="og:title"]/@content')
    h1 = tree.xpath("//h1")
    if not og or not h1:
        return None
    og_title, h1_title = " ".join(og[0].split()), " ".join(h1[0].text_content().split())
    return og_title if _words(og_title) == _words(h1_title) and _words(og_title) else None


def declared_original(html: str) -> str | None:
    """The published day when the page declares a published and a modified date on different days, else None.

    Such a page says itself which is the original; the modified date is the trap to avoid.
    """
    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, SyntaxError):
        return None
    published = tree.xpath('//meta[@property="article:published_time" or @itemprop="datePublished"]/@content')
    modified = tree.xpath('//meta[@property="article:modified_time" or @itemprop="dateModified" '
                          'or @property="og:updated_time"]/@content')
    published = published or re.findall(r'"datePublished"\s*:\s*"([^"]+)"', html)
    modified = modified or re.findall(r'"dateModified"\s*:\s*"([^"]+)"', html)
    if not published or not modified:
        return None
    try:
        first, last = (date_parser.parse(v[0], fuzzy=True).date() for v in (published, modified))
    except (ValueError, OverflowError):
        return None
    return first.isoformat() if first < last else None


def known_language(html: str) -> str | None:
    """The page's declared language (<html lang="pt-BR"> gives "pt"), else None."""
    match = re.search(r"<html\b[^>]*\blang=[\"']?([a-zA-Z]{2,3})\b", html[:5000])
    return match.group(1).lower() if match else None


def _words(text: str | None) -> list[str]:
    return _WORD.findall((text or "").casefold())


def metadata(pages: list[tuple[str, str, str, str]], settings: Settings) -> dict[str, object]:
    fetched = datetime(2026, 1, 1, tzinfo=UTC)
    zoned_hits = 0
    titles = dates = title_hits = date_hits = page_hits = page_near = langs = lang_hits = originals = orig_hits = 0
    filled = dict.fromkeys(("authors", "site_name", "image_url", "tags"), 0)
    misses: list[str] = []
    for page_id, url, html, _truth in pages:
        item = FeedItem(doc_id=document_id(url), url=url, feed_url=url)
        article = extract_article(FetchedPage(item=item, final_url=url, status=200, html=html, fetched_at=fetched),
                                  settings, None)
        true_title, true_date, true_lang = known_title(html), url_date(url), known_language(html)
        true_original = declared_original(html)
        if true_original is not None:
            originals += 1
            orig_hits += article.published_at.date().isoformat() == true_original
        for field in filled:
            filled[field] += bool(getattr(article, field))
        if true_lang is not None:
            langs += 1
            lang_hits += article.language == true_lang
        if true_title is not None:
            titles += 1
            title_hits += _words(article.title) == _words(true_title)
        if true_date is not None:
            dates += 1
            got = article.published_at.date().isoformat()
            # The page's own date alone (htmldate as we call it, without the URL): the honest measure,
            # since the final date lets a URL date overrule a far-off page date.
            alone = find_page_date(load_html(html))
            page_hits += alone == true_date
            page_near += alone is not None and abs(date.fromisoformat(alone) - date.fromisoformat(true_date)).days <= 1
            date_hits += got == true_date
            zoned_hits += _on_day_somewhere(article.published_at, true_date)
            if got != true_date:
                misses.append(f"{page_id[:8]} date {got} ({article.date_source}) != URL {true_date}")
    return {"title_pages": titles, "title_accuracy": title_hits / titles if titles else None,
            "date_pages": dates, "date_accuracy": date_hits / dates if dates else None,
            "date_in_some_zone": zoned_hits / dates if dates else None,
            "page_date_accuracy": page_hits / dates if dates else None,
            "page_date_within_a_day": page_near / dates if dates else None, "date_misses": misses,
            "original_pages": originals, "original_accuracy": orig_hits / originals if originals else None,
            "language_pages": langs, "language_accuracy": lang_hits / langs if langs else None,
            "filled": {field: count / len(pages) for field, count in filled.items()}}


def _on_day_somewhere(found: datetime, day: str) -> bool:
    """The instant falls on that calendar day in some time zone (UTC-12 to UTC+14): a full timestamp given in
    UTC is the URL's local day for a story published in the evening west of Greenwich."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return start - timedelta(hours=14) <= found < start + timedelta(days=1, hours=12)


def summary(scores: Scores, costs: list[float]) -> dict[str, float]:
    return {"f1": scores.f1, "precision": scores.precision, "recall": scores.recall, "accuracy": scores.accuracy,
            "cpu_ms_median": statistics.median(costs), "cpu_ms_p95": statistics.quantiles(costs, n=20)[-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the dev folder (html/, ground-truth.json)")
    parser.add_argument("--set", choices=("english", "multilingual", "both"), default="both",
                        help="which page set to measure")
    parser.add_argument("--part", choices=("dev", "holdout", "both"), default="both",
                        help="multilingual part: dev (rules are written on it), holdout, or both; the English "
                             "set always reports both parts, and lists date misses of its dev part only")
    parser.add_argument("--pages", action="store_true", help="list the dev pages that missed a field")
    args = parser.parse_args()
    multi: dict[str, object] | None = None
    if args.set != "english":
        multi = multilingual_main(args)
        if multi is None:
            return 2
        if args.set == "multilingual":
            if args.json:
                print(json.dumps(multi))
            return 0
    if not (args.data / "ground-truth.json").exists():
        print(f"no dev data at {args.data}", file=sys.stderr)
        return 2
    pages = load_pages(args.data)
    truths = [truth for *_rest, truth in pages]
    plain(pages[0][2], pages[0][1])  # warm both paths (imports, lazy tables) outside the timing
    ours(pages[0][2], pages[0][1])
    runs = timed({"ours": ours, "trafilatura": plain, "body_only": body_only}, pages)
    result = {
        "pages": len(pages),
        "ours": summary(score(zip(runs["ours"][0], truths, strict=True)), runs["ours"][1]),
        "trafilatura": summary(score(zip(runs["trafilatura"][0], truths, strict=True)), runs["trafilatura"][1]),
        "ours_without_metadata_cpu_ms_median": statistics.median(runs["body_only"][1]),
        "metadata": metadata(pages, Settings(data_dir=Path("/tmp/newsworkers-bench-extraction"))),
    }
    result["cost_ratio_median"] = result["ours"]["cpu_ms_median"] / result["trafilatura"]["cpu_ms_median"]
    result["parts"] = english_parts(pages, runs, Settings(data_dir=Path("/tmp/newsworkers-bench-extraction")))
    if args.json:
        print(json.dumps({"english": result, "multilingual": multi} if multi is not None else result))
        return 0
    print(f"English benchmark: {len(pages)} dev pages, all in English, trafilatura {trafilatura.__version__}")
    print(f"{'':14}{'F1':>7}{'prec':>7}{'recall':>7}{'exact':>7}{'ms med':>8}{'ms p95':>8}")
    for name in ("ours", "trafilatura"):
        r = result[name]
        print(f"{name:14}{r['f1']:7.4f}{r['precision']:7.4f}{r['recall']:7.4f}{r['accuracy']:7.3f}"
              f"{r['cpu_ms_median']:8.1f}{r['cpu_ms_p95']:8.1f}")
    print(f"median CPU cost per page: {result['cost_ratio_median']:.2f}x plain trafilatura "
          f"(ours includes the metadata pass the stage needs; body alone "
          f"{result['ours_without_metadata_cpu_ms_median']:.1f} ms)")
    meta = result["metadata"]
    print(f"title accuracy {meta['title_accuracy']:.3f} on {meta['title_pages']} pages (og:title = h1); "
          f"date accuracy {meta['date_accuracy']:.3f} on {meta['date_pages']} pages (date in URL; "
          f"{meta['date_in_some_zone']:.3f} with the instant on that day in some time zone)")
    print(f"page date alone (htmldate, no URL) on those pages: {meta['page_date_accuracy']:.3f} exact, "
          f"{meta['page_date_within_a_day']:.3f} within a day")
    print(f"original (not updated) date {meta['original_accuracy']:.3f} on {meta['original_pages']} pages "
          "declaring an earlier published and a later modified date")
    print(f"language accuracy {meta['language_accuracy']:.3f} on {meta['language_pages']} pages (<html lang>); "
          "share of pages with " + ", ".join(f"{k} {v:.2f}" for k, v in meta["filled"].items()))
    for part, figures in result["parts"].items():
        print(f"{part} part ({figures['pages']} pages, bench/data/article-extraction-holdout.txt): body F1 "
              f"ours {figures['ours']:.4f}, the whole stage {figures['stage']:.4f} (articleBody and hydration "
              f"data included), trafilatura {figures['trafilatura']:.4f}")
    held = english_holdout()
    for line in meta["date_misses"]:
        if not any(line.startswith(page_id[:8]) and _site(url) in held for page_id, url, *_ in pages):
            print("  ", line)
    return 0


def english_holdout() -> set[str]:
    """The sites of the English pages held out from rule writing."""
    lines = (ROOT / "bench" / "data" / "article-extraction-holdout.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def _site(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def stage_body(html: str, url: str, settings: Settings) -> str:
    item = FeedItem(doc_id=document_id(url), url=url, feed_url=url)
    return extract_article(FetchedPage(item=item, final_url=url, status=200, html=html), settings, None).body


def english_parts(pages: list[tuple[str, str, str, str]], runs: dict[str, tuple[list[str], list[float]]],
                  settings: Settings) -> dict[str, dict[str, float]]:
    """Body F1 per part (dev, holdout) of our body function, the whole stage's body and trafilatura."""
    held = english_holdout()
    parts: dict[str, dict[str, float]] = {}
    for part in ("dev", "holdout"):
        chosen = [i for i, (_id, url, _h, _t) in enumerate(pages) if (_site(url) in held) == (part == "holdout")]
        truths = [pages[i][3] for i in chosen]
        parts[part] = {
            "pages": len(chosen),
            "ours": score(zip([runs["ours"][0][i] for i in chosen], truths, strict=True)).f1,
            "trafilatura": score(zip([runs["trafilatura"][0][i] for i in chosen], truths, strict=True)).f1,
            "stage": score(zip([stage_body(pages[i][2], pages[i][1], settings) for i in chosen], truths,
                               strict=True)).f1,
        }
    return parts


def multilingual_main(args: argparse.Namespace) -> dict[str, object] | None:
    from bench import multilingual

    if not (multilingual.MULTILINGUAL / "truth.jsonl").exists():
        print(f"no multilingual data at {multilingual.MULTILINGUAL}", file=sys.stderr)
        return None
    parts = ("dev", "holdout") if args.part == "both" else (args.part,)
    outcomes = multilingual.evaluate(multilingual.load(parts=parts),
                                     Settings(data_dir=Path("/tmp/newsworkers-bench-extraction")))
    result = multilingual.report(outcomes)
    if args.json:
        return result
    print(f"Multilingual pages, trafilatura {trafilatura.__version__} in the same run")
    header = (f"{'':10}{'pages':>6}{'F1':>7}{'prec':>7}{'recall':>7}{'traf':>7}{'title':>7}{'date':>7}"
              f"{'time':>7}{'auth P':>7}{'auth R':>7}{'lang':>7}")
    for part, figures in result.items():
        print(f"-- {part}")
        print(header)
        rows = {"all": figures["all"], **figures["languages"]}  # type: ignore[index]
        for name, row in rows.items():
            cells = [row[k] for k in ("body_f1", "body_precision", "body_recall", "trafilatura_f1", "title",
                                      "date", "date_and_time", "authors_precision", "authors_recall", "language")]
            print(f"{name:10}{row['pages']:6d}" + "".join("      -" if c is None else f"{c:7.3f}" for c in cells))
    if args.pages:
        for line in multilingual.per_page(outcomes):
            print("  ", line)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
