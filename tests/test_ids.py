"""Document ids: stable, versioned, and blind to what does not name an article."""

from __future__ import annotations

import pytest

from workers.core.ids import CURRENT_ID_VERSION, document_id, identity_url, normalize_url


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("HTTPS://WWW.Example.COM:443/a/B?x=1#frag", "https://www.example.com/a/B?x=1"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("http://user:secret@example.com/p", "http://example.com/p"),
        ("https://example.com./p?", "https://example.com/p"),
        ("  https://example.com/p  ", "https://example.com/p"),
        ("file:///srv/corpus/a.html", "file:///srv/corpus/a.html"),
    ],
)
def test_normalize_url_v1(url: str, normalized: str) -> None:
    assert normalize_url(url, 1) == normalized


def test_ids_are_stable_hex_and_version_scoped() -> None:
    # Pinned: changing this value would duplicate every document already indexed.
    assert document_id("http://example.com") == "58e1e9f21af62fc38e5930a899cab7b9"
    assert document_id("HTTP://EXAMPLE.com/#top") == document_id("http://example.com/")
    assert document_id("https://example.com/a") != document_id("https://example.com/b")
    assert CURRENT_ID_VERSION == 2
    # Version 2 keeps the version-1 id of every URL without tracking parameters (see workers/core/ids.py).
    assert document_id("http://example.com", 1) == "58e1e9f21af62fc38e5930a899cab7b9"


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown document id version 99"):
        document_id("http://example.com", version=99)


@pytest.mark.parametrize(
    ("item", "final", "canonical", "is_article", "expected"),
    [
        ("https://a.com/x/1", "https://a.com/x/1", "https://a.com/story-1", True, "https://a.com/story-1"),
        ("https://a.com/x/1", "https://a.com/x/1", "https://www.a.com/story-1", True, "https://www.a.com/story-1"),
        # a tracking redirect: the article's own URL names it
        ("https://feeds.example/~r/1", "https://a.com/story-1", None, True, "https://a.com/story-1"),
        # home-page canonicals and redirects to the root would merge a whole site into one document
        ("https://a.com/x/1", "https://a.com/x/1", "https://a.com/", True, "https://a.com/x/1"),
        ("https://a.com/gone", "https://a.com/", None, True, "https://a.com/gone"),
        # a canonical on another site is syndication, not the same URL
        ("https://a.com/x/1", "https://a.com/x/1", "https://wire.com/story", True, "https://a.com/x/1"),
        # a paywall or consent page vouches for nothing: many articles land on it
        ("https://a.com/x/1", "https://a.com/subscribe", "https://a.com/subscribe", False, "https://a.com/x/1"),
        # the offline corpus: local pages name their web canonical
        ("file:///c/a.html", "file:///c/a.html", "https://paper.example/2020/a", True, "https://paper.example/2020/a"),
    ],
)
def test_identity_url(item: str, final: str, canonical: str | None, is_article: bool, expected: str) -> None:
    assert identity_url(item, final_url=final, canonical_url=canonical, is_article=is_article) == expected


def test_pin_id_version_gives_the_article_its_legacy_id() -> None:
    from workers.core.ids import pin_id_version
    from workers.core.models import Article, DateSource, utcnow

    url = "https://a.com/story?utm_source=rss"
    article = Article(id=document_id(url), id_version=2, url=url, final_url=url, domain="a.com", title="T", body="B",
                      published_at=utcnow(), date_source=DateSource.PAGE, fetched_at=utcnow())
    assert pin_id_version(article, 2) is article
    pinned = pin_id_version(article, 1)
    assert (pinned.id, pinned.id_version) == (document_id(url, 1), 1)
    assert document_id(url) == document_id("https://a.com/story")  # v2: the tracking parameter is no identity
