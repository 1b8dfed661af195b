"""Read feed lists: OPML (often not well-formed in the wild) and YAML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from workers.errors import FeedError
from workers.models import Feed

__all__ = ["read_feed_list"]

_BARE_AMPERSAND = re.compile(rb"&(?!(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")


def read_feed_list(path: Path) -> list[Feed]:
    """Feeds named in an OPML or YAML file, deduplicated by URL, in file order."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"cannot read feed list {path}: {exc.strerror}", reason="feedlist.read") from exc
    feeds = _yaml(content, path) if path.suffix.lower() in (".yaml", ".yml") else _opml(content, path)
    unique = {f.url: f for f in reversed(feeds)}
    return [unique[url] for url in dict.fromkeys(f.url for f in feeds)]


def _opml(content: bytes, path: Path) -> list[Feed]:
    # Real OPML exports carry bare '&', stray tags and bad encodings; recover what parses.
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    # A bare '&' (in query strings, in "Arts & Culture") would be dropped by recovery; escape it first.
    content = _BARE_AMPERSAND.sub(b"&amp;", content)
    root = etree.fromstring(content, parser)
    if root is None:
        raise FeedError(f"{path} is not OPML (nothing parseable)", reason="feedlist.parse")
    feeds = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url.startswith(("http://", "https://")):
            title = outline.get("title") or outline.get("text")
            feeds.append(Feed(url=url, title=title, source_name=title))
    if not feeds:
        raise FeedError(f"{path} names no feeds (no <outline xmlUrl=...>)", reason="feedlist.empty")
    return feeds


def _yaml(content: bytes, path: Path) -> list[Feed]:
    try:
        data: Any = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise FeedError(f"{path} is not valid YAML: {exc}", reason="feedlist.parse") from exc
    entries = data.get("feeds", []) if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise FeedError(f"{path}: expected a list of feeds or a 'feeds:' list", reason="feedlist.parse")
    feeds = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {"url": entry}
        if not isinstance(entry, dict) or not str(entry.get("url", "")).startswith(("http://", "https://")):
            raise FeedError(f"{path}: each feed needs an http(s) url, got {entry!r}", reason="feedlist.parse")
        feeds.append(Feed(url=entry["url"], title=entry.get("title"),
                          source_name=entry.get("source_name") or entry.get("title")))
    return feeds
