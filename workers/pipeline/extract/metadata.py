"""Article metadata beside the body: publication date precedence, title cleanup, authors and tags.

Publication date (the ORIGINAL publication, not the last update), when the
page is the article:

1. the page's own date (htmldate with ``original_date``, structured metadata
   first, the page text only when that finds none), unless the URL carries a
   full date more than a day away from it; on the same day the feed item's
   timestamp replaces it, being more precise;
2. a full date in the URL, when the page's date is more than a day away: a
   URL is minted when the story is first published, and a page date far from
   it came from somewhere else (an image path, an update, a related story);
3. the feed item's date;
4. a full date in the URL;
5. the fetch time.

When the page is not the article (a paywall, a consent wall), the feed
item's date comes first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from htmldate import find_date
from htmldate.extractors import extract_url_date
from htmldate.utils import Extractor as DateOptions
from lxml.html import HtmlElement

from workers.core.models import DateSource, FetchedPage

__all__ = ["clean_title", "find_page_date", "fold_tags", "published", "split_authors", "split_list", "url_date"]

_DATE_PARAMS = {"original_date": True, "outputformat": "%Y-%m-%d", "url": None}
_URL_TOLERANCE = timedelta(days=1)
"""A page date this close to the URL's date is the same publication (time zones shift a day)."""
_TITLE_SEPARATOR = re.compile(r"\s+[|–—:·»-]\s+|\s*[|｜]\s*|:\s+")
_WORD = re.compile(r"\w+")
_CJK_DATE = re.compile(r"((?:19|20)\d\d)\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")


def find_page_date(tree: HtmlElement) -> str | None:
    """The page's original publication day (YYYY-MM-DD), from structured metadata, else from its text.

    The URL is not given to htmldate: a date in the URL is weighed apart (see the module docstring).
    """
    return find_date(tree, extensive_search=False, **_DATE_PARAMS) or _cjk_date(tree) or find_date(
        tree, extensive_search=True, **_DATE_PARAMS
    )


def _cjk_date(tree: HtmlElement) -> str | None:
    """The first full date written the Chinese, Japanese or Korean way (2020年3月21日, 2020년 3월 21일) in the
    page's visible text: htmldate's text search reads only the year of those, as 1 January."""
    for element in tree.iter("time", "span", "p", "div", "li", "dd", "em", "strong"):
        text = element.text or ""
        match = _CJK_DATE.search(text)
        if match:
            try:
                return date(*(int(g) for g in match.groups())).isoformat()
            except ValueError:
                continue
    return None


def published(page_date: str | None, page: FetchedPage, *, page_first: bool,
              page_time: datetime | None = None) -> tuple[datetime, DateSource]:
    """``published_at`` and where it came from, by the precedence in the module docstring.

    ``page_time`` is the page's declared full timestamp (workers/pipeline/extract/timestamps.py): it gives
    the page's day in the page's own offset, and is the result itself, time and offset kept.
    """
    feed_time = page.item.published_at.astimezone(UTC) if page.item.published_at is not None else None
    from_url = url_date(page.item.url) or url_date(page.final_url)
    if feed_time is not None and not page_first:
        return feed_time, DateSource.FEED
    day = page_time.date() if page_time is not None else _day(page_date)
    if day is not None and (from_url is None or abs(day - from_url.date()) <= _URL_TOLERANCE):
        if page_time is not None:
            return page_time, DateSource.PAGE
        if feed_time is not None and feed_time.date() == day:
            return feed_time, DateSource.PAGE
        return datetime.combine(day, time(0, 0), UTC), DateSource.PAGE
    if day is not None and from_url is not None:
        if feed_time is not None and feed_time.date() == from_url.date():
            return feed_time, DateSource.URL
        return from_url, DateSource.URL
    if feed_time is not None:
        return feed_time, DateSource.FEED
    if from_url is not None:
        return from_url, DateSource.URL
    return page.fetched_at.astimezone(UTC), DateSource.FETCH_TIME


def url_date(url: str) -> datetime | None:
    """A full date (year, month and day) in the URL, at midnight UTC; None for none or a partial one."""
    if not url.startswith("http"):
        return None
    try:
        options = DateOptions(False, datetime.now(), datetime(1995, 1, 1), True, "%Y-%m-%d")
        found = extract_url_date(url, options)
    except Exception:  # htmldate's private helper may change shape; a URL date is only a fallback
        return None
    day = _day(str(found)) if found else None
    return datetime.combine(day, time(0, 0), UTC) if day is not None else None


def clean_title(title: str | None, site_name: str | None, headings: list[str]) -> str | None:
    """The headline without the site's name around it ("Story - Site", "Site | Story").

    A part of the title between separators is taken alone when it is one of the page's headings (og:title,
    <h1>); otherwise a part that is the site's name is dropped.
    """
    if not title:
        return title
    title = " ".join(title.split())
    parts = [part for part in _TITLE_SEPARATOR.split(title) if part.strip()]
    if len(parts) < 2:
        return title
    wanted = {_norm(h) for h in headings if _norm(h)}
    for start in range(len(parts)):
        for end in range(len(parts), start, -1):
            if (start, end) == (0, len(parts)):
                continue
            candidate = _span(title, parts[start], parts[end - 1])
            if _norm(candidate) in wanted:
                return candidate
    site = _norm(site_name or "")
    if site and (_norm(parts[-1]) == site or (site in _norm(parts[-1]) and len(_norm(parts[-1])) <= 2 * len(site))):
        return _span(title, parts[0], parts[-2])
    if site and _norm(parts[0]) == site:
        return _span(title, parts[1], parts[-1])
    return title


def split_list(value: str | list[str] | None) -> list[str]:
    if not value:
        return []
    if isinstance(value, list):
        return value
    return [v for v in re.split(r"[;,]", value) if v.strip()]


_TAG_SEPARATORS = re.compile(r"[,;|]")


def fold_tags(values: Iterable[str | None]) -> list[str]:
    """Tags as one facet value each: split at commas, semicolons and pipes (``Italy, Coronavirus`` is two, as
    sites and feeds pack them in one field), spaces collapsed, lower-cased (``Zoom`` is ``zoom``, whatever
    site wrote it), each once in first-seen order."""
    folded: dict[str, None] = {}
    for value in values:
        for part in _TAG_SEPARATORS.split(value or ""):
            tag = " ".join(part.split()).lower()
            if tag:
                folded.setdefault(tag)
    return list(folded)


def split_authors(value: str | None) -> list[str]:
    return list(dict.fromkeys(a.strip() for a in split_list(value) if a.strip()))


def _span(title: str, first: str, last: str) -> str:
    start = title.find(first)
    end = title.find(last, start) + len(last)
    return title[start:end].strip()


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))
