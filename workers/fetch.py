"""Fetch stage: one article page, decoded to text.

http(s) pages go through the shared client (timeouts, size cap, redirect
limit). ``file:`` pages are read only for items of a local feed and only
below that feed's own folder, so a remote feed can never make a worker read
local files.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx
from charset_normalizer import from_bytes

from workers import http
from workers.errors import FetchError
from workers.models import FeedItem, FetchedPage
from workers.settings import Settings

__all__ = ["decode_html", "fetch_page"]

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def fetch_page(item: FeedItem, settings: Settings, client: httpx.Client) -> FetchedPage:
    scheme = urlsplit(item.url).scheme.lower()
    if scheme == "file":
        return _fetch_local(item, settings)
    if scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {scheme!r}", reason="fetch.scheme", url=item.url)
    response = http.get(client, item.url, stage="fetch", max_bytes=settings.fetch_max_bytes,
                        deadline_s=settings.download_deadline_s, headers={"Accept": _ACCEPT})
    content_type = response.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    if mime and not mime.startswith(_HTML_TYPES):
        raise FetchError(f"not a web page ({mime})", reason="fetch.not_html", url=item.url)
    charset = _header_charset(content_type)
    return FetchedPage(
        item=item,
        final_url=response.url,
        status=response.status,
        html=decode_html(response.content, charset),
        content_type=content_type or None,
    )


def _fetch_local(item: FeedItem, settings: Settings) -> FetchedPage:
    if not item.feed_local:
        raise FetchError("a remote feed may not link local files", reason="fetch.file_refused", url=item.url)
    feed_dir = Path(url2pathname(urlsplit(item.feed_url).path)).resolve().parent
    corpus_root = feed_dir.parent  # feeds/ and articles/ sit side by side in the corpus
    path = Path(url2pathname(urlsplit(item.url).path)).resolve()
    if not path.is_relative_to(corpus_root):
        raise FetchError("local page outside the corpus folder", reason="fetch.file_refused", url=item.url)
    try:
        if path.stat().st_size > settings.fetch_max_bytes:
            raise FetchError("page is over the size cap", reason="fetch.too_large", url=item.url)
        content = path.read_bytes()
    except FileNotFoundError as exc:
        raise FetchError("local page does not exist", reason="fetch.http_404", url=item.url) from exc
    except OSError as exc:
        raise FetchError(f"cannot read local page: {exc.strerror}", reason="fetch.file", url=item.url) from exc
    return FetchedPage(item=item, final_url=item.url, status=200, html=decode_html(content, None))


def _header_charset(content_type: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def decode_html(content: bytes, declared: str | None) -> str:
    """Bytes to text: the header's charset, else the page's <meta>, else UTF-8, else a detector's guess."""
    candidates = [declared]
    meta = _META_CHARSET.search(content[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "ignore"))
    candidates.append("utf-8")
    for charset in candidates:
        if not charset:
            continue
        try:
            return content.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    guess = from_bytes(content[:200_000]).best()
    if guess is not None and guess.encoding:
        return content.decode(guess.encoding, errors="replace")
    return content.decode("utf-8", errors="replace")
