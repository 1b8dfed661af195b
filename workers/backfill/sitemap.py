"""Backfill from sitemaps: news sitemaps (``<news:news>``), plain sitemaps and sitemap indexes, gzip or not.

Sitemaps are fetched like feeds: through the shared client (address guard, size cap, deadline), after
robots.txt and within the domain's politeness turn. The bytes are refused if they declare XML entities
(:mod:`workers.net.xmlguard`) and parsed by lxml with entities and network access off. Each URL entry becomes
an item for the fetch stage, with the sitemap's title, publication name and date as its feed fields.

The position is kept per sitemap: the index of the next entry to send, and ``done`` once it is through;
a sitemap index is re-read on a restart (it is small) and its finished children are passed over.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from workers.backfill.checkpoint import Checkpoint
from workers.backfill.enqueue import Sender
from workers.core.dates import parse_iso
from workers.core.errors import NewsworkersError
from workers.net import http
from workers.net.politeness import PolitenessDelay
from workers.net.xmlguard import refuse_xml_entities

__all__ = ["SitemapEntry", "backfill_sitemap", "parse_sitemap"]

_MAX_DEPTH = 4  # an index of indexes of indexes: deeper is a loop or a trap


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    url: str
    when: datetime | None = None
    title: str | None = None
    publication: str | None = None
    language: str | None = None


def parse_sitemap(content: bytes, *, max_bytes: int, url: str = "") -> tuple[str, list[SitemapEntry]]:
    """("index" or "urlset", entries) of a sitemap document, gunzipped first when it is gzip."""
    if content[:2] == b"\x1f\x8b":
        content = _gunzip(content, max_bytes=max_bytes, url=url)
    refuse_xml_entities(content, url=url)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise NewsworkersError(f"sitemap {url} is not XML: {exc}", reason="sitemap.not_xml") from exc
    if root is None:
        raise NewsworkersError(f"sitemap {url} is empty or not XML", reason="sitemap.not_xml")
    kind = etree.QName(root).localname
    if kind not in ("sitemapindex", "urlset"):
        raise NewsworkersError(f"{url} is not a sitemap (root element <{kind}>)", reason="sitemap.not_sitemap")
    entries = []
    for node in root:
        if not isinstance(node.tag, str) or etree.QName(node).localname not in ("sitemap", "url"):
            continue
        fields = _fields(node)
        loc = (fields.get("loc") or "").strip()
        if loc:
            entries.append(SitemapEntry(
                url=loc, when=_date(fields.get("publication_date") or fields.get("lastmod")),
                title=fields.get("title"), publication=fields.get("name"), language=fields.get("language")))
    return ("index" if kind == "sitemapindex" else "urlset"), entries


def _fields(node: Any) -> dict[str, str]:
    """Local name → text of every descendant (``news:news`` nests publication name and language)."""
    found: dict[str, str] = {}
    for child in node.iter():
        if child is node or not isinstance(child.tag, str) or not (child.text or "").strip():
            continue
        found.setdefault(etree.QName(child).localname, child.text.strip())
    return found


def _gunzip(content: bytes, *, max_bytes: int, url: str) -> bytes:
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(content, max_bytes + 1)
    except zlib.error as exc:
        raise NewsworkersError(f"sitemap {url} is broken gzip: {exc}", reason="sitemap.gzip") from exc
    if len(out) > max_bytes:
        raise NewsworkersError(f"sitemap {url} unpacks past the {max_bytes}-byte cap", reason="sitemap.too_large")
    return out


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_iso(value.strip())
    except ValueError:
        return None


def backfill_sitemap(sender: Sender, checkpoint: Checkpoint, url: str, *, since: datetime | None,
                     every: int) -> None:
    """Send every news URL of the sitemap (or of each sitemap of an index) not older than ``since``."""
    _walk(sender, checkpoint, url, since=since, every=every, depth=0)


def _walk(sender: Sender, checkpoint: Checkpoint, url: str, *, since: datetime | None, every: int,
          depth: int) -> None:
    tally = sender.tally
    position = checkpoint.get(url)
    if position.get("done"):
        tally.resumed += int(position.get("next", 0))
        return
    try:
        kind, entries = parse_sitemap(_download(sender, url), max_bytes=sender.runtime.settings.feed_max_bytes,
                                      url=url)
    except NewsworkersError as exc:
        reason = exc.reason.replace("feed.", "sitemap.", 1)
        tally.fail(reason, f"{url}: {exc}")
        return
    if kind == "index":
        if depth >= _MAX_DEPTH:
            tally.fail("sitemap.too_deep", f"{url}: sitemap indexes nested deeper than {_MAX_DEPTH}")
            return
        for entry in entries:
            if sender.job.stopping:
                return
            if since is not None and entry.when is not None and entry.when < since:
                tally.skipped["filtered"] += 1
                continue
            _walk(sender, checkpoint, entry.url, since=since, every=every, depth=depth + 1)
        if not sender.job.stopping:
            checkpoint.save(url, {"done": True})
        return
    start = int(position.get("next", 0))
    tally.resumed += start
    saved_at = time.monotonic()
    for index in range(start, len(entries)):
        entry = entries[index]
        tally.records_read += 1
        if since is not None and entry.when is not None and entry.when < since:
            tally.skipped["filtered"] += 1
        else:
            item = sender.item(entry.url, feed_url=url, feed_title=entry.publication, source_name=entry.publication,
                               title=entry.title, published_at=entry.when)
            if item is not None:
                sender.send_fetch(item)
        if (index + 1 - start) % every == 0 or time.monotonic() - saved_at > 1.0 or sender.job.stopping:
            checkpoint.save(url, {"next": index + 1})
            saved_at = time.monotonic()
        if sender.job.stopping:
            return
    checkpoint.save(url, {"next": len(entries), "done": True})


def _download(sender: Sender, url: str) -> bytes:
    runtime = sender.runtime
    settings = runtime.settings
    if runtime.robots is not None:
        runtime.robots.check(url)
    while True:
        try:
            with runtime.domain_gate.turn(url):
                response = http.get(runtime.feed_client, url, stage="feed", max_bytes=settings.feed_max_bytes,
                                     deadline_s=settings.download_deadline_s,
                                     headers={"Accept": "application/xml, text/xml, application/gzip;q=0.9, */*;q=0.5"})
            return response.content
        except PolitenessDelay as exc:
            if sender.job.stopping:
                raise NewsworkersError("stopped while waiting for the domain's turn", reason="sitemap.stopped") \
                    from exc
            time.sleep(min(exc.retry_after_s or 1.0, 5.0))


