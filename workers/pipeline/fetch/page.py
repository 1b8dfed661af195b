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
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from workers.archive.write import ArchiveWriter
from workers.core.errors import FetchError
from workers.core.models import FeedItem, FetchedPage
from workers.net import http
from workers.net.decoding import decode_html, header_charset
from workers.net.politeness import DomainGate
from workers.net.robots import RobotsRules
from workers.settings import Settings

__all__ = ["decode_html", "fetch_page", "header_charset"]

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")


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
