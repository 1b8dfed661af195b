"""Feed lists: read OPML (often not well-formed in the wild) and YAML, write OPML.

OPML folders (outlines without a feed URL around a feed's outline) and an
outline's ``category`` attribute become the feed's ``collections``; in YAML a
feed names them with ``collections:`` (a list or one string). Export nests
each feed in folders named by its collections, so an export reads back as
the same feeds with the same collections.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from workers.core.errors import FeedError
from workers.core.models import Feed

__all__ = ["read_feed_list", "write_opml"]

_BARE_AMPERSAND = re.compile(rb"&(?!(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")


def read_feed_list(path: Path) -> list[Feed]:
    """Feeds named in an OPML or YAML file, deduplicated by URL, in file order."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"cannot read feed list {path}: {exc.strerror}", reason="feedlist.read") from exc
    feeds = _yaml(content, path) if path.suffix.lower() in (".yaml", ".yml") else _opml(content, path)
    unique: dict[str, Feed] = {}
    for feed in feeds:  # the first mention names the feed; a feed listed in two folders is in both collections
        first = unique.setdefault(feed.url, feed)
        if first is not feed:
            first.collections = list(dict.fromkeys([*first.collections, *feed.collections]))
    return list(unique.values())


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
        url = _feed_url(outline)
        if url.startswith(("http://", "https://")):
            title = outline.get("title") or outline.get("text")
            feeds.append(Feed(url=url, title=title, source_name=title, collections=_collections(outline)))
    if not feeds:
        raise FeedError(f"{path} names no feeds (no <outline xmlUrl=...>)", reason="feedlist.empty")
    return feeds


def _feed_url(outline: Any) -> str:
    return (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()


def _collections(outline: Any) -> list[str]:
    """The folders around an outline, outermost first, then its own categories."""
    folders = [(a.get("title") or a.get("text") or "").strip() for a in outline.iterancestors("outline")
               if not _feed_url(a)]
    categories = [part.strip() for value in (outline.get("category") or "").split(",")
                  for part in value.split("/")]
    return list(dict.fromkeys(c for c in [*reversed(folders), *categories] if c))


def write_opml(feeds: list[Feed], *, title: str = "newsworkers feeds") -> bytes:
    """An OPML 2.0 document of ``feeds``, each nested in folders named by its collections."""
    root = etree.Element("opml", version="2.0")
    etree.SubElement(etree.SubElement(root, "head"), "title").text = title
    body = etree.SubElement(root, "body")
    folders: dict[tuple[str, ...], Any] = {(): body}
    for feed in feeds:
        path: tuple[str, ...] = ()
        for name in feed.collections:
            parent, path = folders[path], (*path, name)
            if path not in folders:
                folders[path] = etree.SubElement(parent, "outline", text=name, title=name)
        name = feed.title or feed.source_name or feed.url
        etree.SubElement(folders[path], "outline", type="rss", text=name, title=name, xmlUrl=feed.url)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


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
        named = entry.get("collections") or entry.get("collection") or []
        if isinstance(named, str):
            named = [named]
        if not isinstance(named, list) or not all(isinstance(c, str) for c in named):
            raise FeedError(f"{path}: collections of {entry['url']} must be a list of names", reason="feedlist.parse")
        feeds.append(Feed(url=entry["url"], title=entry.get("title"),
                          source_name=entry.get("source_name") or entry.get("title"),
                          collections=list(dict.fromkeys(c.strip() for c in named if c.strip()))))
    return feeds
