"""Document ids: one versioned function from an article URL to its id.

Ids are derived from the normalized URL so that losing Redis costs a re-poll,
never a duplicate document. A normalizer, once released under a version, is
never changed: a better one is added under the next version and the old one
stays, so ids already indexed can still be recomputed and matched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

__all__ = ["CURRENT_ID_VERSION", "document_id", "identity_url", "normalize_url"]

CURRENT_ID_VERSION = 1

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


_NORMALIZERS: dict[int, Callable[[str], str]] = {1: _normalize_v1}


def normalize_url(url: str, version: int = CURRENT_ID_VERSION) -> str:
    """The URL as the id function of ``version`` sees it."""
    try:
        return _NORMALIZERS[version](url)
    except KeyError:
        raise ValueError(f"unknown document id version {version}; known: {sorted(_NORMALIZERS)}") from None


def document_id(url: str, version: int = CURRENT_ID_VERSION) -> str:
    """A 32-hex-digit id for the article at ``url`` (stable for a given version)."""
    normalized = normalize_url(url, version)
    return hashlib.sha256(f"{version}|{normalized}".encode()).hexdigest()[:32]


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
