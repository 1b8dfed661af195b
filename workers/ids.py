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

__all__ = ["CURRENT_ID_VERSION", "alias_urls", "document_id", "normalize_url"]

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


def alias_urls(final_url: str | None, canonical_url: str | None, item_url: str) -> list[str]:
    """The other URLs that name the same article as ``item_url``, when they can be trusted to.

    Sites often point rel=canonical (or og:url) at their home page, and dead
    articles often redirect there; taking such a URL as the article's would
    merge every article of the site into one document. So a URL counts only
    when it names a page below the site's root, and a canonical URL only
    when it is on the same site as the page (or the page is a local file).
    """
    aliases = []
    final_host = _site(final_url or item_url)
    if final_url and _below_root(final_url):
        aliases.append(final_url)
    if canonical_url and _below_root(canonical_url):
        page_is_local = urlsplit(final_url or item_url).scheme == "file"
        if page_is_local or _site(canonical_url) == final_host:
            aliases.append(canonical_url)
    return aliases


def _below_root(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "file") and parts.path.strip("/") != ""


def _site(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")
