"""Sitemaps served by the fixture site under /sitemaps/: a news sitemap index with a news sitemap, a plain
gzip sitemap, an old one (before 2020) and a child that is missing (404)."""

from __future__ import annotations

import gzip

__all__ = ["NEWS_PAGES", "PLAIN_PAGES", "sitemap_document"]

NEWS_PAGES = [f"/gen/55/{n}.html" for n in range(6)]
PLAIN_PAGES = [f"/gen/56/{n}.html" for n in range(3)]
_OLD_PAGES = [f"/gen/57/{n}.html" for n in range(2)]
_URLSET = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{}</urlset>')


def _news(base: str) -> str:
    entries = [
        f"<url><loc>{base}{path}</loc><news:news><news:publication><news:name>The Loopback Post</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>2021-03-02T0{n}:00:00Z</news:publication_date>"
        f"<news:title>Backfill story {n}</news:title></news:news></url>"
        for n, path in enumerate(NEWS_PAGES)
    ]
    entries.append(f"<url><loc>{base}/tag/politics</loc></url>")  # a section page: not news
    return _URLSET.format("".join(entries))


def _plain(base: str, paths: list[str], lastmod: str) -> str:
    return _URLSET.format("".join(f"<url><loc>{base}{p}</loc><lastmod>{lastmod}</lastmod></url>" for p in paths))


def sitemap_document(base: str, name: str) -> tuple[int, bytes, str]:
    """(status, body, content type) of /sitemaps/<name>."""
    if name == "index.xml":
        children = [("news-1.xml", "2021-03-02"), ("plain.xml.gz", "2021-03-01"), ("old.xml.gz", "2019-01-01"),
                    ("missing.xml", "2021-03-02")]
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/'
                'sitemap/0.9">' + "".join(f"<sitemap><loc>{base}/sitemaps/{n}</loc><lastmod>{d}</lastmod></sitemap>"
                                          for n, d in children) + "</sitemapindex>")
        return 200, body.encode(), "application/xml"
    if name == "news-1.xml":
        return 200, _news(base).encode(), "application/xml"
    if name == "plain.xml.gz":
        return 200, gzip.compress(_plain(base, PLAIN_PAGES, "2021-03-01").encode()), "application/gzip"
    if name == "old.xml.gz":
        return 200, gzip.compress(_plain(base, _OLD_PAGES, "2019-01-01").encode()), "application/gzip"
    return 404, b"<html><body>Not found</body></html>", "text/html"
