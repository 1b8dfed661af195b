"""Poll stage: one conditional GET of a feed, parsed into FeedItems.

Plain functions, free of Celery: the poll cycle (:mod:`workers.pipeline.poll.cycle`)
decides which items are new and what to enqueue. Local ``file:`` feeds (the
offline corpus) use the file's modification time as their Last-Modified.

RSS 0.9x/1.0/2.0 and Atom go through feedparser (content:encoded, dc:creator,
media:content/thumbnail and enclosures included); JSON Feed 1 and 1.1 through
:mod:`workers.pipeline.poll.jsonfeed`. A 304 returns before anything is parsed. Each item
carries a ``revision``, a hash of its updated date and content, so a changed
entry (a correction) can be told from one already fetched.
"""

from __future__ import annotations

import calendar
import contextlib
import email.utils
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import feedparser
import httpx

from workers.archive.write import ArchiveWriter
from workers.core.errors import FeedError
from workers.core.ids import document_id
from workers.core.models import Feed, FeedItem
from workers.net import http
from workers.net.politeness import DomainGate
from workers.pipeline.poll.jsonfeed import is_json_feed, parse_json_feed
from workers.pipeline.poll.schedule import max_age_seconds, publisher_hint_seconds
from workers.settings import Settings
from workers.state.registry import FeedState

__all__ = ["PollResult", "parse_feed", "poll_feed"]


@dataclass(slots=True)
class PollResult:
    status: int
    url: str
    items: list[FeedItem] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    problem: str | None = None  # what a broken ("bozo") feed got wrong, though it still gave items
    permanent_redirect: bool = False
    max_age_s: float | None = None  # Cache-Control max-age of the response
    feed_hint_s: float | None = None  # the document's own <ttl> or sy:updatePeriod, in seconds

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def poll_feed(feed: Feed, state: FeedState, settings: Settings, client: httpx.Client, *,
              gate: DomainGate | None = None, archive: ArchiveWriter | None = None) -> PollResult:
    """One conditional GET of ``feed``; within its domain's turn when a gate is given (shared with its pages).

    With an ``archive``, every feed document received (not a 304) is written to it first. Local feeds of the
    offline corpus are not: their documents are files already, and no article is ever re-made from a feed.

    A turn too far off raises :class:`workers.net.politeness.PolitenessDelay` before anything is requested.
    """
    scheme = urlsplit(feed.url).scheme.lower()
    if scheme == "file":
        if not feed.local:
            raise FeedError("file: feeds are only read from the offline corpus", reason="feed.file_refused",
                            url=feed.url)
        return _poll_local(feed, state, settings)
    if scheme not in ("http", "https"):
        raise FeedError(f"unsupported feed URL scheme {scheme!r}", reason="feed.scheme", url=feed.url)
    headers: dict[str, str] = {"Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
                                         "application/xml;q=0.9, application/json;q=0.9, */*;q=0.8"}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    with gate.turn(feed.url) if gate is not None else contextlib.nullcontext():
        response = http.get(client, feed.url, stage="feed", max_bytes=settings.feed_max_bytes,
                            deadline_s=settings.download_deadline_s, headers=headers)
    result = PollResult(
        status=response.status,
        url=response.url,
        etag=response.headers.get("etag") or state.etag,
        last_modified=response.headers.get("last-modified") or state.last_modified,
        permanent_redirect=response.permanent_redirect,
        max_age_s=max_age_seconds(response.headers.get("cache-control")),
    )
    if result.not_modified:
        return result
    if archive is not None:
        archive.write_response(response.url, response.status, response.headers.multi_items(), response.content,
                               kind="feed")
    return parse_feed(response.content, feed, result, content_type=response.headers.get("content-type"))


def _poll_local(feed: Feed, state: FeedState, settings: Settings) -> PollResult:
    path = Path(url2pathname(urlsplit(feed.url).path))
    try:
        stat = path.stat()
    except OSError as exc:
        raise FeedError(f"cannot read local feed: {exc.strerror}", reason="feed.file_missing", url=feed.url) from exc
    if stat.st_size > settings.feed_max_bytes:
        raise FeedError("local feed is over the size cap", reason="feed.too_large", url=feed.url)
    modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
    result = PollResult(status=200, url=feed.url, last_modified=modified)
    if state.last_modified == modified:
        result.status = 304
        return result
    return parse_feed(path.read_bytes(), feed, result)


def parse_feed(content: bytes, feed: Feed, result: PollResult, *, content_type: str | None = None) -> PollResult:
    """Parse feed bytes into items; a broken feed still gives what it can."""
    # Without a content type feedparser flags every document as bozo; a file or a
    # server that sent none is treated as XML and feedparser still sniffs the rest.
    headers = {"content-type": content_type or "application/xml"}
    if not feed.local:
        # feedparser resolves relative links against this; it mangles file: URLs, which we join ourselves.
        headers["content-location"] = result.url
    if is_json_feed(content, content_type):
        meta, entries, result.problem = parse_json_feed(content, feed.url)
    else:
        meta, entries = _parse_xml(content, feed, result, headers)
    result.title = meta.get("title") or feed.title
    seen: set[str] = set()
    for entry in entries:
        item = _item(entry, feed, result)
        # One document lists an article once: tracking variants and repeated GUIDs are the same item.
        if item is None or item.doc_id in seen or (item.guid and f"guid:{item.guid}" in seen):
            continue
        seen.update([item.doc_id, f"guid:{item.guid}"] if item.guid else [item.doc_id])
        result.items.append(item)
    return result


def _parse_xml(content: bytes, feed: Feed, result: PollResult,
               headers: dict[str, str]) -> tuple[dict[str, Any], list[Any]]:
    try:
        # Links and ids are still resolved (by feedparser and _join); not the links inside entries' HTML, which
        # the text is extracted from: resolving them took half of the parse on real feeds.
        parsed = feedparser.parse(content, response_headers=headers, sanitize_html=False,
                                  resolve_relative_uris=False)
    except Exception as exc:  # feedparser's own bugs surface as anything; the feed is what is broken
        raise FeedError(f"feed parser failed: {exc}", reason="feed.parse", url=feed.url) from exc
    if parsed.get("bozo"):
        result.problem = f"{type(parsed.get('bozo_exception')).__name__}: {parsed.get('bozo_exception')}"
    if not parsed.get("version") and not parsed.entries:
        raise FeedError(
            f"not a feed ({result.problem or 'no RSS, Atom or RDF root element'})",
            reason="feed.not_a_feed",
            url=feed.url,
        )
    channel = parsed.feed
    result.feed_hint_s = publisher_hint_seconds(
        max_age_s=None, ttl=channel.get("ttl"), update_period=channel.get("sy_updateperiod"),
        update_frequency=channel.get("sy_updatefrequency"),
    )
    return channel, parsed.entries


def _item(entry: Any, feed: Feed, result: PollResult) -> FeedItem | None:
    link = entry.get("link") or _alternate(entry)
    if not link and str(entry.get("id", "")).startswith(("http://", "https://")):
        link = entry["id"]
    if not link:
        return None
    url = _join(result.url, link.strip())
    content = entry.get("content") or []
    content_html = max((c.get("value", "") for c in content), key=len, default=None) or None
    title = (entry.get("title") or "").strip() or None
    return FeedItem(
        doc_id=document_id(url),
        url=url,
        feed_url=feed.url,
        feed_title=result.title,
        feed_local=feed.local,
        source_name=feed.source_name or result.title,
        guid=entry.get("id"),
        title=title,
        published_at=_entry_time(entry),
        summary=entry.get("summary"),
        content_html=content_html,
        authors=_authors(entry),
        tags=[t.get("term") or t.get("label") for t in entry.get("tags", []) if t.get("term") or t.get("label")],
        image_url=_image(entry),
        collections=list(feed.collections),
        revision=_revision(entry, title, content_html),
    )


def _revision(entry: Any, title: str | None, content_html: str | None) -> str:
    """A hash of what a correction changes: the updated date, the title, the text."""
    # dict.get: feedparser would alias a missing 'updated' to 'published' (with a deprecation warning).
    updated = dict.get(entry, "updated") or ""
    text = content_html or entry.get("summary") or ""
    return hashlib.sha256(f"{updated}\x1f{title or ''}\x1f{text}".encode()).hexdigest()[:16]


def _join(base: str, link: str) -> str:
    if urlsplit(base).scheme == "file" and not urlsplit(link).scheme:
        folder = Path(url2pathname(urlsplit(base).path)).parent
        return (folder / url2pathname(urlsplit(link).path)).resolve().as_uri()
    return urljoin(base, link)


def _alternate(entry: Any) -> str | None:
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    return None


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get skips feedparser's deprecated published→updated key aliasing (and its warning).
        value = dict.get(entry, key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError):
                continue
    return None


def _authors(entry: Any) -> list[str]:
    names = [a.get("name", "").strip() for a in entry.get("authors", []) if a.get("name")]
    if not names and entry.get("author"):
        names = [entry["author"].strip()]
    return list(dict.fromkeys(n for n in names if n))


def _image(entry: Any) -> str | None:
    for media in (*entry.get("media_content", []), *entry.get("media_thumbnail", [])):
        if media.get("url") and media.get("medium", "image") == "image":
            return str(media["url"])
    for enclosure in entry.get("enclosures", []):
        if str(enclosure.get("type", "")).startswith("image/") and enclosure.get("href"):
            return str(enclosure["href"])
    return None
