"""Document ids: one versioned function from an article URL to its id.

Ids are derived from the normalized URL so that losing Redis costs a re-poll,
never a duplicate document. A normalizer, once released under a version, is
never changed: a better one is added under the next version and the old one
stays, so ids already indexed can still be recomputed and matched.

Version 2 also drops tracking parameters (utm_*, fbclid, gclid, mc_cid...)
and sorts the query, through courlan, the URL library trafilatura uses. Its
ids are hashed under the version-1 label on purpose: ``document_id(u, 2)`` is
``document_id(v2-normal-form(u), 1)``, so every URL that carries no tracking
parameter (nearly all of them) keeps the id it was indexed under, and a
tracking variant maps to the id its clean URL always had.

What stays different is a URL indexed under version 1 *with* its tracking
parameters (or an unsorted query). Such an item, polled again after the
upgrade, must map to the document it already has, not a second one: the
poller asks :func:`id_candidates` for the current id and the legacy ones, and
when a legacy id is already known (seen or in flight in Redis) the item keeps
that id and its version (``FeedItem.id_version``), and the extract task gives
the article the id of that version too (:func:`pin_id_version`). After a loss
of Redis that knowledge is gone, and such a (rare) item would get its
version-2 id: the one case where an upgrade can still duplicate a document.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import courlan

if TYPE_CHECKING:  # models imports this module; the Article type is only needed by the checker
    from workers.core.models import Article

__all__ = [
    "CURRENT_ID_VERSION",
    "canonical_url",
    "document_id",
    "id_candidates",
    "identity_url",
    "normalize_url",
    "pin_id_version",
]

CURRENT_ID_VERSION = 2

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _normalize_v1(url: str) -> str:
    """Case-fold scheme and host, drop default ports, fragments and an empty query."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    # Credentials (user:pass@) are dropped: they never identify an article.
    path = parts.path or ("/" if scheme in _DEFAULT_PORTS else "")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def _normalize_v2(url: str) -> str:
    """Version 1 after courlan has dropped tracking parameters and sorted the query."""
    if urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        # courlan refuses some malformed URLs; version 1 still gives them an id.
        with contextlib.suppress(ValueError):
            url = courlan.normalize_url(url.strip())
    return _normalize_v1(url)


_NORMALIZERS: dict[int, Callable[[str], str]] = {1: _normalize_v1, 2: _normalize_v2}
# The label hashed with the normal form. Version 2 shares version 1's on purpose (see the module docstring).
_HASH_LABEL = {1: 1, 2: 1}


def normalize_url(url: str, version: int = CURRENT_ID_VERSION) -> str:
    """The URL as the id function of ``version`` sees it."""
    try:
        return _NORMALIZERS[version](url)
    except KeyError:
        raise ValueError(f"unknown document id version {version}; known: {sorted(_NORMALIZERS)}") from None


def document_id(url: str, version: int = CURRENT_ID_VERSION) -> str:
    """A 32-hex-digit id for the article at ``url`` (stable for a given version)."""
    normalized = normalize_url(url, version)
    return hashlib.sha256(f"{_HASH_LABEL[version]}|{normalized}".encode()).hexdigest()[:32]


def canonical_url(url: str) -> str:
    """The URL as the current id version sees it: what dedupe compares and ``feeds check`` shows."""
    return normalize_url(url)


def id_candidates(url: str) -> list[tuple[int, str]]:
    """(version, id) for ``url``: the current id first, then older ones that differ from it, newest first."""
    out: list[tuple[int, str]] = []
    for version in range(CURRENT_ID_VERSION, 0, -1):
        doc_id = document_id(url, version)
        if all(doc_id != known for _v, known in out):
            out.append((version, doc_id))
    return out


def pin_id_version(article: Article, version: int) -> Article:
    """The article under the id ``version`` gives its identity URL: an item indexed before an id upgrade
    keeps updating the document it already has (its ``FeedItem.id_version``)."""
    if version == article.id_version:
        return article
    # As extract decided: the page was the article unless the feed's text had to stand in for it.
    is_article = article.body_source == "page" or (article.body_source == "feed" and not article.extraction_error)
    url = identity_url(article.url, final_url=article.final_url, canonical_url=article.canonical_url,
                       is_article=is_article)
    return article.model_copy(update={"id": document_id(url, version), "id_version": version})


def identity_url(item_url: str, *, final_url: str | None, canonical_url: str | None, is_article: bool) -> str:
    """The URL whose id an article gets: its trusted canonical, else where it redirected, else the item's.

    Deterministic, from the page alone, so a lost Redis never assigns a
    second id to an article already indexed, and one article reached through
    two links (a tracking redirect, a syndication link) is one document.
    Only a page that gave an article may vouch for another URL: paywall,
    consent and login pages (and home pages) are shared by many articles and
    would merge them all into one document.
    """
    if not is_article:
        return item_url
    page_url = final_url or item_url
    if canonical_url and _below_root(canonical_url):
        page_is_local = urlsplit(page_url).scheme == "file"
        if page_is_local or _site(canonical_url) == _site(page_url):
            return canonical_url
    if final_url and _below_root(final_url):
        return final_url
    return item_url


def _below_root(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "file") and parts.path.strip("/") != ""


def _site(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")
