"""Extraction quality on ../shared/data/multilingual-news: body, title, date, authors and language per page.

The extract stage runs on each page as `newsworkers extract --url URL` does (no feed item, no NER), beside
plain `trafilatura.extract` in the same run. Scores follow the data's README: bodies with the benchmark's
shingle metric (bench/body_metric.py); titles equal after NFKC, whitespace folding and case folding; dates
by calendar day in the page's own offset (pages with a true date); authors as sets of names, precision and
recall over all names (pages with true authors or predicted ones); language against py3langid on the true
title and body. Publishers listed in bench/data/multilingual-holdout.txt form the ``holdout`` part and the
others the ``dev`` part; rules are written looking at dev pages only.
"""

from __future__ import annotations

import gzip
import json
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import py3langid
import trafilatura

from bench.body_metric import score
from workers.core.ids import document_id
from workers.core.models import Article, FeedItem, FetchedPage
from workers.net.decoding import decode_html
from workers.pipeline.extract.article import extract_article
from workers.settings import Settings

__all__ = ["HOLDOUT_LIST", "MULTILINGUAL", "Page", "evaluate", "holdout_publishers", "load", "report"]

ROOT = Path(__file__).resolve().parent.parent
MULTILINGUAL = ROOT.parent / "shared" / "data" / "multilingual-news"
HOLDOUT_LIST = ROOT / "bench" / "data" / "multilingual-holdout.txt"


@dataclass(frozen=True)
class Page:
    id: str
    publisher: str
    part: str
    url: str
    html: str
    truth: dict[str, object]
    language: str


@dataclass
class Outcome:
    """What the stage and trafilatura made of one page, and how each field scored."""

    page: Page
    article: Article | None
    plain_body: str
    title_ok: bool
    date_ok: bool | None
    instant_ok: bool | None = None
    authors_found: int = 0
    authors_true: int = 0
    authors_hit: int = 0
    notes: list[str] = field(default_factory=list)


def holdout_publishers(path: Path = HOLDOUT_LIST) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def load(data: Path = MULTILINGUAL, parts: Iterable[str] = ("dev", "holdout")) -> list[Page]:
    held = holdout_publishers()
    wanted = set(parts)
    pages = []
    for line in (data / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        part = "holdout" if record["publisher"] in held else "dev"
        if part not in wanted:
            continue
        raw = gzip.decompress((data / "html" / f"{record['id']}.html.gz").read_bytes())
        language, _ = py3langid.classify(f"{record['title']}\n{record['body']}"[:5000])
        pages.append(Page(record["id"], record["publisher"], part, record["url"], decode_html(raw, None),
                          record, str(language)))
    return pages


def fold(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split()).casefold()


def _article(page: Page, settings: Settings) -> Article | None:
    item = FeedItem(doc_id=document_id(page.url), url=page.url, feed_url=page.url)
    fetched = datetime.fromisoformat(str(page.truth["crawl_date"])).replace(tzinfo=UTC) \
        if page.truth.get("crawl_date") else datetime.now(UTC)
    try:
        return extract_article(FetchedPage(item=item, final_url=page.url, status=200, html=page.html,
                                           fetched_at=fetched), settings, None)
    except Exception:
        return None


def _same_day(found: datetime, truth: str) -> bool:
    expected = datetime.fromisoformat(truth)
    zone = expected.tzinfo or UTC
    return found.astimezone(zone).date() == expected.date()


def _aware(value: str) -> datetime:
    found = datetime.fromisoformat(value)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _has_time(value: str) -> bool:
    return _aware(value).time() != datetime.min.time()


def evaluate(pages: list[Page], settings: Settings) -> list[Outcome]:
    outcomes = []
    for page in pages:
        article = _article(page, settings)
        plain = trafilatura.extract(page.html, url=page.url) or ""
        true_date = page.truth.get("publishing_date")
        title_ok = article is not None and fold(article.title) == fold(str(page.truth["title"]))
        date_ok = None if not true_date else article is not None and _same_day(article.published_at, str(true_date))
        outcome = Outcome(page, article, plain, title_ok, date_ok)
        if true_date and article is not None and _has_time(str(true_date)):
            outcome.instant_ok = article.published_at == _aware(str(true_date))
        found = {fold(a) for a in (article.authors if article else [])}
        true = {fold(str(a)) for a in page.truth.get("authors") or []}  # type: ignore[attr-defined]
        outcome.authors_found, outcome.authors_true, outcome.authors_hit = len(found), len(true), len(found & true)
        outcomes.append(outcome)
    return outcomes


def _figures(outcomes: list[Outcome]) -> dict[str, float | int | None]:
    body = score(((o.article.body if o.article else ""), str(o.page.truth["body"])) for o in outcomes)
    plain = score((o.plain_body, str(o.page.truth["body"])) for o in outcomes)
    dated = [o.date_ok for o in outcomes if o.date_ok is not None]
    timed = [o.instant_ok for o in outcomes if o.instant_ok is not None]
    found = sum(o.authors_found for o in outcomes)
    true = sum(o.authors_true for o in outcomes)
    hit = sum(o.authors_hit for o in outcomes)
    languages = [o.article is not None and o.article.language == o.page.language for o in outcomes]
    return {"pages": len(outcomes), "body_f1": body.f1, "body_precision": body.precision,
            "body_recall": body.recall, "trafilatura_f1": plain.f1,
            "title": sum(o.title_ok for o in outcomes) / len(outcomes) if outcomes else None,
            "date_pages": len(dated), "date": sum(dated) / len(dated) if dated else None,
            "timed_pages": len(timed), "date_and_time": sum(timed) / len(timed) if timed else None,
            "authors_precision": hit / found if found else None, "authors_recall": hit / true if true else None,
            "language": sum(languages) / len(languages) if languages else None}


def report(outcomes: list[Outcome]) -> dict[str, object]:
    """Figures per part, and per language within each part."""
    result: dict[str, object] = {}
    for part in ("dev", "holdout"):
        mine = [o for o in outcomes if o.page.part == part]
        if not mine:
            continue
        by_language: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in mine:
            by_language[outcome.page.language].append(outcome)
        result[part] = {"all": _figures(mine),
                        "languages": {lang: _figures(group) for lang, group in
                                      sorted(by_language.items(), key=lambda kv: (-len(kv[1]), kv[0]))}}
    return result


def per_page(outcomes: list[Outcome]) -> list[str]:
    """One line per dev page that missed something (never holdout pages: their results stay unseen)."""
    lines = []
    for o in outcomes:
        if o.page.part != "dev":
            continue
        body = score([((o.article.body if o.article else ""), str(o.page.truth["body"]))])
        misses = []
        if body.f1 < 0.9:
            misses.append(f"body {body.precision:.2f}/{body.recall:.2f}")
        if not o.title_ok:
            misses.append(f"title {o.article.title if o.article else None!r} != {o.page.truth['title']!r}")
        if o.date_ok is False:
            misses.append(f"date {o.article.published_at.isoformat() if o.article else None} != "
                          f"{o.page.truth['publishing_date']}")
        if o.authors_hit != o.authors_found or o.authors_hit != o.authors_true:
            misses.append(f"authors {o.article.authors if o.article else None} != {o.page.truth['authors']}")
        if misses:
            lines.append(f"{o.page.id}: " + "; ".join(misses))
    return lines
