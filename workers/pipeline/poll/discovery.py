"""Find a site's feeds: ``<link rel="alternate">`` in its page, else the usual paths.

Every candidate is fetched and parsed before it is reported, so what
``feeds discover`` prints can be added as is. All requests go through
:func:`workers.net.http.get`, with the poll stage's limits (and its network
guard), never through a library's own downloader.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
import lxml.html
from lxml import etree

from workers.core.errors import FeedError
from workers.core.models import Feed
from workers.net import http
from workers.pipeline.poll.feed import PollResult, parse_feed
from workers.settings import Settings

__all__ = ["COMMON_PATHS", "DiscoveredFeed", "discover_feeds"]

_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json",
               "application/json", "text/xml", "application/xml"}

COMMON_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/feed.json",
                "/feeds/posts/default", "/?feed=rss2")
"""Where feeds live when a page does not link them: WordPress, Blogger, Hugo, Jekyll and the like."""


@dataclass(slots=True)
class DiscoveredFeed:
    url: str
    title: str | None
    items: int
    found_by: str  # "page" (the URL is a feed), "link" (<link rel=alternate>) or "path" (a common path)


def discover_feeds(site_url: str, settings: Settings, client: httpx.Client) -> list[DiscoveredFeed]:
    """The feeds of the site at ``site_url`` that answer and parse; FeedError when the page itself fails."""
    response = _get(site_url, settings, client)
    itself = _as_feed(response, "page")
    if itself is not None:
        return [itself]
    found: dict[str, DiscoveredFeed] = {}
    for url in _alternate_links(response.content, response.url):
        _try(url, "link", settings, client, found)
    if not found:
        for path in COMMON_PATHS:
            _try(urljoin(response.url, path), "path", settings, client, found)
    return list(found.values())


def _get(url: str, settings: Settings, client: httpx.Client) -> http.HttpResponse:
    return http.get(client, url, stage="feed", max_bytes=settings.feed_max_bytes,
                    deadline_s=settings.download_deadline_s)


def _try(url: str, how: str, settings: Settings, client: httpx.Client, found: dict[str, DiscoveredFeed]) -> None:
    if url in found:
        return
    try:
        feed = _as_feed(_get(url, settings, client), how)
    except FeedError:
        return  # a missing common path is the usual case, not an error
    if feed is not None and feed.url not in found:
        found[feed.url] = feed


def _as_feed(response: http.HttpResponse, how: str) -> DiscoveredFeed | None:
    try:
        result = parse_feed(response.content, Feed(url=response.url), PollResult(status=response.status,
                            url=response.url), content_type=response.headers.get("content-type"))
    except FeedError:
        return None
    if result.problem and not result.items:
        return None  # an HTML page feedparser half-read is not a feed
    return DiscoveredFeed(url=response.url, title=result.title, items=len(result.items), found_by=how)


def _alternate_links(content: bytes, base: str) -> list[str]:
    try:
        document = lxml.html.document_fromstring(content)
    except (etree.ParserError, ValueError):
        return []
    links = []
    for link in document.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and kind in _FEED_TYPES and link.get("href"):
            links.append(urljoin(base, link.get("href").strip()))
    return list(dict.fromkeys(links))
