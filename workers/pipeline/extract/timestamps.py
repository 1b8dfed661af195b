"""The page's declared publication time, whole: date, time of day and UTC offset.

htmldate answers with a day; a page usually states more, in its JSON-LD ``datePublished`` or a meta tag
(``article:published_time`` and its kin), as ISO 8601 with an offset. That statement is read here, in
this order of trust: the article's JSON-LD, then meta tags, then a ``<time datetime>`` on the day
htmldate found (one marked as the publication first). The offset is kept as the page gives it; a
timestamp without one is taken as UTC, and a bare day (no time) is no timestamp (htmldate's day serves).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml.html import HtmlElement

__all__ = ["find_page_timestamp", "parse_timestamp"]

_META = (
    "article:published_time", "og:article:published_time", "og:published_time", "published_time",
    "datepublished", "pubdate", "publishdate", "publish-date", "publish_date", "publication_date",
    "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date", "date",
    "article.published", "cxenseparse:recs:publishtime", "iso-8601-publish-date", "dateCreated",
)
_ISO = re.compile(
    r"^\s*(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?\s*(Z|[+-]\d\d:?\d\d|[+-]\d\d)?\s*$",
    re.IGNORECASE,
)
_EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)


def parse_timestamp(value: str | None) -> datetime | None:
    """An ISO 8601 date with a time of day, as an aware datetime in its own offset (UTC when it names none);
    None otherwise."""
    found = _parse(value)
    return found[0] if found is not None else None


def _parse(value: str | None) -> tuple[datetime, bool] | None:
    """The timestamp and whether the page named its offset."""
    match = _ISO.match(value or "")
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    text = f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}"
    if fraction:
        text += "." + (fraction + "000000")[:6]
    if zone and zone.upper() != "Z":
        digits = zone[1:].replace(":", "")
        text += f"{zone[0]}{digits[:2]}:{digits[2:4] or '00'}"
    else:
        text += "+00:00"
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (found, zone is not None) if found >= _EARLIEST else None


def find_page_timestamp(tree: HtmlElement, jsonld_published: str | None, page_day: str | None = None
                        ) -> datetime | None:
    """The first full publication timestamp the page declares, in the order of the module docstring.

    A timestamp that names no offset takes the offset of another declaration of the same wall-clock time
    (JSON-LD often drops the offset its meta tags keep). A ``<time>`` element counts only on ``page_day``
    (htmldate's day): pages list other stories' times too.
    """
    found = [stamp for stamp in (_parse(jsonld_published), *_meta_stamps(tree)) if stamp is not None]
    if page_day:
        found += [stamp for stamp in _time_stamps(tree) if stamp[0].date().isoformat() == page_day]
    if not found:
        return None
    first, named = found[0]
    if not named:
        wall = first.replace(tzinfo=None)
        for other, other_named in found[1:]:
            if other_named and abs(other.replace(tzinfo=None) - wall).total_seconds() < 60:
                return first.replace(tzinfo=other.tzinfo)
    return first


def _meta_stamps(tree: HtmlElement) -> list[tuple[datetime, bool]]:
    wanted = {name.casefold(): rank for rank, name in enumerate(_META)}
    ranked = []
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").casefold()
        if key in wanted:
            stamp = _parse(meta.get("content"))
            if stamp is not None:
                ranked.append((wanted[key], stamp))
    return [stamp for _rank, stamp in sorted(ranked, key=lambda pair: pair[0])]


def _time_stamps(tree: HtmlElement) -> list[tuple[datetime, bool]]:
    marked = tree.xpath('//time[@datetime][@itemprop="datePublished" or @pubdate or contains(@class, "publish")]')
    others = tree.xpath("//time[@datetime]")
    stamps = (_parse(element.get("datetime")) for element in [*marked, *others])
    return [stamp for stamp in stamps if stamp is not None]
