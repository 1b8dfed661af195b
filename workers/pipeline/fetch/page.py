"""Fetch stage: one article page, decoded to text.

http(s) pages go through the shared client (address guard, timeouts, size
cap, redirect limit), after the site's robots.txt and within the domain's
politeness limits when the caller passes those (the workers always do).
``file:`` pages are read only for items of a local feed and only below
that feed's own folder, so a remote feed can never make a worker read local
files.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx
from charset_normalizer import from_bytes

from workers.archive.write import ArchiveWriter
from workers.core.errors import FetchError
from workers.core.models import FeedItem, FetchedPage
from workers.net import http
from workers.net.politeness import DomainGate
from workers.net.robots import RobotsRules
from workers.settings import Settings

__all__ = ["decode_html", "fetch_page", "header_charset"]

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def fetch_page(
    item: FeedItem,
    settings: Settings,
    client: httpx.Client,
    *,
    gate: DomainGate | None = None,
    robots: RobotsRules | None = None,
    archive: ArchiveWriter | None = None,
) -> FetchedPage:
    """Download one page: robots.txt first (when given), then within the domain's turn (when a gate is given).

    With an ``archive``, the page is written to it and travels as a pointer with ``html`` left empty.
    """
    scheme = urlsplit(item.url).scheme.lower()
    if scheme == "file":
        return _fetch_local(item, settings, archive)
    if scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {scheme!r}", reason="fetch.scheme", url=item.url)
    if robots is not None:
        robots.check(item.url)
    with gate.turn(item.url) if gate is not None else contextlib.nullcontext():
        response = http.get(client, item.url, stage="fetch", max_bytes=settings.fetch_max_bytes,
                            deadline_s=settings.download_deadline_s, headers={"Accept": _ACCEPT},
                            on_redirect=robots.check if robots is not None else None)
    content_type = response.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    if mime and not mime.startswith(_HTML_TYPES):
        raise FetchError(f"not a web page ({mime})", reason="fetch.not_html", url=item.url)
    if archive is not None:
        ref = archive.write_response(response.url, response.status, response.headers.multi_items(),
                                     response.content, kind="page", item=item)
        return FetchedPage(item=item, final_url=response.url, status=response.status, archive=ref,
                           content_type=content_type or None)
    charset = header_charset(content_type)
    return FetchedPage(
        item=item,
        final_url=response.url,
        status=response.status,
        html=decode_html(response.content, charset),
        content_type=content_type or None,
    )


def _fetch_local(item: FeedItem, settings: Settings, archive: ArchiveWriter | None) -> FetchedPage:
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
    if archive is not None:
        # Archived too, though the corpus is on disk: reprocessing then reads every page the same way, and
        # the corpus files may change or go while the articles made from them stay.
        ref = archive.write_resource(item.url, content, content_type="text/html", kind="page", item=item)
        return FetchedPage(item=item, final_url=item.url, status=200, archive=ref)
    return FetchedPage(item=item, final_url=item.url, status=200, html=decode_html(content, None))


def header_charset(content_type: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def decode_html(content: bytes, declared: str | None) -> str:
    """Bytes to text: the header's charset, else the page's <meta>, else UTF-8, else a detector's guess.

    Non-ASCII bytes that are valid UTF-8 are UTF-8 whatever the page claims: the usual wrong label is
    ISO-8859-1 or windows-1252 on a UTF-8 page, and those decode anything, into mojibake.
    """
    if not content.isascii():
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            pass
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
    guess = _guess_charset(content[:200_000])
    if guess:
        return content.decode(guess, errors="replace")
    return content.decode("utf-8", errors="replace")


def _guess_charset(content: bytes) -> str | None:
    """The detector's best guess; windows-1252 when it ties, as it often does on short Western pages
    (cp1250 and cp1252 both read "Café"), since the web's unlabelled legacy pages are mostly windows-1252."""
    matches = from_bytes(content)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos and match.coherence >= best.coherence:
            return "cp1252"
    return best.encoding
