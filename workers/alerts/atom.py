"""A saved search as an Atom feed (RFC 4287): its newest matches, newest first.

Built with ElementTree, which escapes every text and attribute, so a hostile title cannot break the XML.
The feed has the required ``id``, ``title`` and ``updated`` (and an ``author``, which RFC 4287 asks of a feed
whose entries carry none); each entry has them too, plus a link to the article, its summary, ``published``
and the source named as an Atom ``category`` and in ``source/title``.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote
from xml.etree import ElementTree as ET

from workers.alerts.store import FeedEntry, SavedSearch
from workers.core.dates import iso_utc, parse_iso

__all__ = ["ATOM_MEDIA_TYPE", "atom_feed"]

ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"
_NS = "http://www.w3.org/2005/Atom"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def atom_feed(saved: SavedSearch, entries: Sequence[FeedEntry], *, self_url: str) -> bytes:
    """The feed document; ``entries`` newest first (as :meth:`AlertStore.matches` gives them)."""
    feed = ET.Element("feed", {"xmlns": _NS})
    _sub(feed, "id", f"tag:newsworkers,2024:alert:{quote(saved.name)}")
    _sub(feed, "title", f"newsworkers: {saved.name}")
    subtitle = saved.query + "".join(f" [{facet}={' | '.join(values)}]" for facet, values in saved.filters.items())
    _sub(feed, "subtitle", subtitle)
    newest = max((e.matched_at for e in entries), default=saved.created_at)
    _sub(feed, "updated", _rfc3339(newest))
    _sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    _sub(_sub(feed, "author"), "name", "newsworkers")
    _sub(feed, "generator", "newsworkers")
    for entry in entries:
        item = _sub(feed, "entry")
        _sub(item, "id", f"tag:newsworkers,2024:article:{entry.id}")
        _sub(item, "title", entry.title or entry.url)
        _sub(item, "link", rel="alternate", href=entry.url, type="text/html")
        _sub(item, "published", _rfc3339(entry.published_at))
        _sub(item, "updated", _rfc3339(entry.published_at))
        if entry.summary:
            _sub(item, "summary", entry.summary, type="text")
        if entry.source:
            _sub(item, "category", term=entry.source, label=entry.source)
            _sub(_sub(item, "source"), "title", entry.source)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _rfc3339(iso: str) -> str:
    return iso_utc(parse_iso(iso), timespec="seconds")
