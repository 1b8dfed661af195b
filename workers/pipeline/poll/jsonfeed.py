"""JSON Feed (https://jsonfeed.org, versions 1 and 1.1), which feedparser does not read.

The document is turned into the entry shape feedparser gives for RSS and
Atom (``link``, ``id``, ``content``, ``authors``, ``published_parsed``...),
so the poll stage builds its FeedItems the same way for every format.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC
from typing import Any

from workers.core.dates import parse_iso
from workers.core.errors import FeedError

__all__ = ["is_json_feed", "parse_json_feed"]

_VERSION_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")  # http: seen in the wild


def is_json_feed(content: bytes, content_type: str | None) -> bool:
    """Whether the bytes should be read as JSON: a JSON content type, or a document that opens with '{'."""
    if content_type and "json" in content_type.lower():
        return True
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(content: bytes, url: str) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
    """(feed fields, entries in feedparser's shape, problem); FeedError when it is no JSON Feed.

    A truncated or otherwise broken document still gives the items that parse, with the problem named.
    """
    problem = None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(f"JSON feed is not UTF-8: {exc}", reason="feed.parse", url=url) from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        document = _salvage(text)
        if document is None:
            raise FeedError(f"JSON feed does not parse: {exc}", reason="feed.parse", url=url) from exc
        problem = f"JSONDecodeError: {exc}; kept the {len(document['items'])} items before it"
    version = document.get("version") if isinstance(document, dict) else None
    salvaged = problem is not None and "feed_url" in document
    if not salvaged and (not isinstance(version, str) or not version.startswith(_VERSION_PREFIXES)):
        raise FeedError("not a feed (JSON without a jsonfeed.org version)", reason="feed.not_a_feed", url=url)
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError("JSON feed has no items list", reason="feed.parse", url=url)
    feed = {"title": _text(document.get("title")), "link": _text(document.get("home_page_url"))}
    return feed, [_entry(item) for item in items if isinstance(item, dict)], problem


def _salvage(text: str) -> dict[str, Any] | None:
    """The top-level strings and the whole items of a truncated JSON Feed, or None when there are none."""
    start = text.find('"items"')
    bracket = text.find("[", start) if start >= 0 else -1
    if bracket < 0:
        return None
    document: dict[str, Any] = {}
    for key in ("version", "title", "home_page_url", "feed_url"):
        match = re.search(rf'"{key}"\s*:\s*("(?:[^"\\]|\\.)*")', text[:start])
        if match:
            document[key] = json.loads(match.group(1))
    decoder, items, position = json.JSONDecoder(), [], bracket + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break
        items.append(item)
    document["items"] = items
    return document if items else None


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": _text(item.get("id")),
        "link": _text(item.get("url")) or _text(item.get("external_url")),
        "title": _text(item.get("title")),
        "summary": _text(item.get("summary")),
        "updated": _text(item.get("date_modified")),
        "published_parsed": _struct_time(item.get("date_published")),
        "updated_parsed": _struct_time(item.get("date_modified")),
    }
    html, text = _text(item.get("content_html")), _text(item.get("content_text"))
    if html or text:
        entry["content"] = [{"value": html or text, "type": "text/html" if html else "text/plain"}]
    # Version 1.1 has an authors list; version 1 a single author object.
    people = item.get("authors") if isinstance(item.get("authors"), list) else [item.get("author")]
    entry["authors"] = [{"name": p["name"]} for p in people if isinstance(p, dict) and _text(p.get("name"))]
    entry["tags"] = [{"term": t} for t in item.get("tags") or [] if isinstance(t, str) and t.strip()]
    image = _text(item.get("image")) or _text(item.get("banner_image"))
    entry["media_content"] = [{"url": image, "medium": "image"}] if image else []
    entry["enclosures"] = [
        {"href": a["url"], "type": _text(a.get("mime_type")) or ""}
        for a in item.get("attachments") or [] if isinstance(a, dict) and _text(a.get("url"))
    ]
    return entry


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _struct_time(value: Any) -> time.struct_time | None:
    """An RFC 3339 date as the UTC struct_time feedparser gives; None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = parse_iso(value.strip())
    except ValueError:
        return None
    return when.astimezone(UTC).timetuple()
