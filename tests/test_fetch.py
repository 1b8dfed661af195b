"""Fetch stage against a real HTTP server on 127.0.0.1, local file: pages of
the offline corpus, and decode_html."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.site import ARTICLES, EXTRACTION_DEFEATING_PAGE, FixtureSite
from workers.core.errors import FetchError, Retryable, RetryableFetchError
from workers.core.ids import document_id
from workers.core.models import FeedItem
from workers.net import http
from workers.net.decoding import decode_html
from workers.pipeline.fetch.page import fetch_page
from workers.settings import Settings
from workers.state.embedded_redis import free_port

SEEDS = ROOT / "seeds"


def item_for(url: str, *, feed_url: str = "https://example.org/feed.xml", local: bool = False) -> FeedItem:
    return FeedItem(doc_id=document_id(url), url=url, feed_url=feed_url, feed_local=local)


# -- http(s) -------------------------------------------------------------------------------------


def test_ok_page(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    item = item_for(site.url("/articles/berlin-budget.html"))
    page = fetch_page(item, http_settings, client)
    title, _day, paragraphs = ARTICLES["berlin-budget"]
    assert page.status == 200
    assert page.final_url == item.url
    assert page.item == item
    assert page.content_type == "text/html; charset=utf-8"
    assert page.fetch_error is None
    assert page.html.startswith("<!doctype html>")
    assert f"<title>{title} | The Loopback Post</title>" in page.html
    assert "Chancellor Angela Merkel's cabinet" in page.html.replace("&#x27;", "'")
    assert paragraphs[-1] in page.html
    assert page.fetched_at.tzinfo is not None


def test_redirect_records_final_url(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    item = item_for(site.url("/redirect/tokyo-chip-plant"))
    page = fetch_page(item, http_settings, client)
    assert page.status == 200
    assert page.final_url == site.url("/articles/tokyo-chip-plant.html")
    assert page.item.url == site.url("/redirect/tokyo-chip-plant")  # the id stays the feed's URL
    assert "Sony Group and Taiwan Semiconductor" in page.html


def fetch_error(url: str, tmp_path: Path, **settings_values: object) -> FetchError:
    """The error fetching ``url`` raises under these settings (the test fails if it raises none)."""
    settings = Settings(data_dir=tmp_path / "data", **settings_values)  # type: ignore[arg-type]
    with http.make_client(settings, timeout_s=settings.fetch_timeout_s) as client, \
            pytest.raises(FetchError) as info:
        fetch_page(item_for(url), settings, client)
    return info.value


def test_redirect_limit(site: FixtureSite, tmp_path: Path) -> None:
    error = fetch_error(site.url("/redirect/tokyo-chip-plant"), tmp_path, fetch_max_redirects=0)
    assert error.reason == "fetch.redirects"
    assert not isinstance(error, Retryable)


def test_404_is_final(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    with pytest.raises(FetchError) as info:
        fetch_page(item_for(site.url("/articles/gone.html")), http_settings, client)
    assert info.value.reason == "fetch.http_404"
    assert not isinstance(info.value, Retryable)
    assert not isinstance(info.value, RetryableFetchError)
    assert info.value.url == site.url("/articles/gone.html")


def test_huge_page_too_large(site: FixtureSite, tmp_path: Path) -> None:
    error = fetch_error(site.url("/articles/huge.html"), tmp_path, fetch_max_bytes=1_000_000, fetch_timeout_s=5.0)
    assert error.reason == "fetch.too_large"
    assert not isinstance(error, Retryable)


def test_windows_1252_page(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    page = fetch_page(item_for(site.url("/articles/latin1.html")), http_settings, client)
    assert "Café crème in München" in page.html
    assert page.content_type == "text/html; charset=windows-1252"


def test_undecodable_page_still_fetched(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    page = fetch_page(item_for(site.url("/articles/broken.html")), http_settings, client)
    assert page.status == 200
    assert page.html == EXTRACTION_DEFEATING_PAGE.decode("utf-8")


def test_connection_refused_is_retryable(http_settings: Settings, client: httpx.Client) -> None:
    url = f"http://127.0.0.1:{free_port()}/articles/x.html"
    with pytest.raises(RetryableFetchError) as info:
        fetch_page(item_for(url), http_settings, client)
    assert info.value.reason == "fetch.connect"
    assert isinstance(info.value, Retryable)


def test_a_host_without_an_address_is_fetch_dns(http_settings: Settings, client: httpx.Client) -> None:
    # .invalid is reserved never to resolve (RFC 2606); the resolver answers at once, with no network.
    with pytest.raises(RetryableFetchError) as info:
        fetch_page(item_for("http://no-such-host.invalid/articles/x.html"), http_settings, client)
    assert info.value.reason == "fetch.dns"
    assert "cannot resolve no-such-host.invalid" in str(info.value)


def test_unsupported_scheme(http_settings: Settings, client: httpx.Client) -> None:
    with pytest.raises(FetchError) as info:
        fetch_page(item_for("ftp://127.0.0.1/x.html"), http_settings, client)
    assert info.value.reason == "fetch.scheme"


# -- file: pages -------------------------------------------------------------------------------------


def test_file_page_of_remote_feed_refused(http_settings: Settings, client: httpx.Client) -> None:
    seed = (SEEDS / "articles" / "baghdad-embassy-rocket-attack.html").as_uri()
    with pytest.raises(FetchError) as info:
        fetch_page(item_for(seed, feed_url="https://example.org/feed.xml", local=False), http_settings, client)
    assert info.value.reason == "fetch.file_refused"
    assert not isinstance(info.value, Retryable)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "feeds").mkdir(parents=True)
    (root / "articles").mkdir()
    (root / "feeds" / "local.xml").write_text('<rss version="2.0"><channel/></rss>', encoding="utf-8")
    (root / "articles" / "story.html").write_bytes(
        "<html><head><meta charset=\"windows-1252\"></head><body><p>Déjà vu</p></body></html>".encode("cp1252")
    )
    (tmp_path / "secret.html").write_text("<p>outside</p>", encoding="utf-8")
    return root


def test_local_page_inside_corpus(corpus: Path, http_settings: Settings, client: httpx.Client) -> None:
    url = (corpus / "articles" / "story.html").as_uri()
    page = fetch_page(item_for(url, feed_url=(corpus / "feeds" / "local.xml").as_uri(), local=True),
                      http_settings, client)
    assert page.status == 200
    assert page.final_url == url
    assert "<p>Déjà vu</p>" in page.html


@pytest.mark.parametrize(
    "target",
    [
        "file:///etc/passwd",
        "outside-sibling",  # a file next to the corpus folder
        "dotdot",  # ../ out of articles/ and out of the corpus
    ],
)
def test_local_page_outside_corpus_refused(corpus: Path, target: str, http_settings: Settings,
                                           client: httpx.Client) -> None:
    if target == "outside-sibling":
        url = (corpus.parent / "secret.html").as_uri()
    elif target == "dotdot":
        url = (corpus / "articles").as_uri() + "/../../secret.html"
    else:
        url = target
    item = item_for(url, feed_url=(corpus / "feeds" / "local.xml").as_uri(), local=True)
    with pytest.raises(FetchError) as info:
        fetch_page(item, http_settings, client)
    assert info.value.reason == "fetch.file_refused"


def test_local_page_missing(corpus: Path, http_settings: Settings, client: httpx.Client) -> None:
    url = (corpus / "articles" / "nope.html").as_uri()
    with pytest.raises(FetchError) as info:
        fetch_page(item_for(url, feed_url=(corpus / "feeds" / "local.xml").as_uri(), local=True),
                   http_settings, client)
    assert info.value.reason == "fetch.http_404"


def test_local_page_too_large(corpus: Path, tmp_path: Path, client: httpx.Client) -> None:
    big = corpus / "articles" / "big.html"
    big.write_bytes(b"<p>x</p>" * 200_000)
    settings = Settings(data_dir=tmp_path / "data", fetch_max_bytes=1_000_000)
    with pytest.raises(FetchError) as info:
        fetch_page(item_for(big.as_uri(), feed_url=(corpus / "feeds" / "local.xml").as_uri(), local=True),
                   settings, client)
    assert info.value.reason == "fetch.too_large"


def test_seed_corpus_page(http_settings: Settings, client: httpx.Client) -> None:
    url = (SEEDS / "articles" / "baghdad-embassy-rocket-attack.html").resolve().as_uri()
    feed_url = (SEEDS / "feeds" / "world.xml").resolve().as_uri()
    page = fetch_page(item_for(url, feed_url=feed_url, local=True), http_settings, client)
    assert "The United States embassy in Baghdad, Iraq, was the target of a rocket attack" in page.html


# -- decode_html -------------------------------------------------------------------------------------


def test_decode_declared_charset() -> None:
    assert decode_html("Café".encode("cp1252"), "windows-1252") == "Café"


def test_decode_meta_charset() -> None:
    raw = '<html><head><meta charset="iso-8859-1"></head><body>Müller</body></html>'.encode("latin-1")
    assert decode_html(raw, None) == raw.decode("latin-1")
    assert "Müller" in decode_html(raw, None)


def test_decode_http_equiv_meta_charset() -> None:
    raw = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
           "</head><body>Привет</body></html>").encode("cp1251")
    assert "Привет" in decode_html(raw, None)


def test_decode_wrong_header_charset_falls_back_to_meta() -> None:
    raw = '<meta charset="windows-1252"><p>Café crème</p>'.encode("cp1252")
    assert decode_html(raw, "utf-8") == '<meta charset="windows-1252"><p>Café crème</p>'


def test_decode_unknown_header_charset_falls_back_to_utf8() -> None:
    raw = "<p>Grüße aus Köln</p>".encode()
    assert decode_html(raw, "x-no-such-charset") == "<p>Grüße aus Köln</p>"


def test_decode_unknown_meta_charset_falls_back_to_utf8() -> None:
    raw = '<meta charset="bogus-42"><p>naïve</p>'.encode()
    assert decode_html(raw, None) == '<meta charset="bogus-42"><p>naïve</p>'


def test_decode_default_utf8() -> None:
    assert decode_html("<p>日本語のニュース</p>".encode(), None) == "<p>日本語のニュース</p>"


def test_decode_no_charset_anywhere_uses_detector() -> None:
    sentence = "Les élèves étaient très fâchés après la fermeture de l'école. "
    text = "<html><body><p>" + sentence * 20 + "</p></body></html>"
    raw = text.encode("cp1252")
    out = decode_html(raw, None)
    # Not UTF-8, so a detector guesses; cp1250 and cp1252 agree on these letters (not on è).
    assert out.startswith("<html><body><p>Les ")
    assert out.count("fermeture de l'école.") == 20
    assert "\ufffd" not in out


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\xfa\x81\x8d\x9d\xc0\xc1 <p>garbage",
        bytes(range(256)) * 4,
        b"",
        b'<meta charset="utf-8">\xc3\x28 broken utf-8',
    ],
)
def test_decode_never_raises(raw: bytes) -> None:
    out = decode_html(raw, None)
    assert isinstance(out, str)
    assert len(out) >= (1 if raw else 0)
    assert decode_html(raw, "utf-8") is not None


# -- hostile bodies -------------------------------------------------------------------------------------------


def test_gzip_bomb_is_refused_at_the_cap_without_inflating_it(site: FixtureSite, tmp_path: Path) -> None:
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    error = fetch_error(site.url("/articles/gzip-bomb.html"), tmp_path, fetch_max_bytes=1_000_000)
    assert error.reason == "fetch.too_large"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 30, f"memory grew {grown_mb:.0f} MB while refusing a bomb"


def test_gzip_encoded_page_is_inflated(site: FixtureSite, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    with http.make_client(settings, timeout_s=5) as client:
        page = fetch_page(item_for(site.url("/articles/gzipped.html")), settings, client)
    assert "Peru heads to a runoff" in page.html


def test_a_dripping_server_hits_the_whole_download_deadline(site: FixtureSite, tmp_path: Path) -> None:
    error = fetch_error(site.url("/articles/drip.html"), tmp_path, download_deadline_s=1.0, fetch_timeout_s=5.0)
    assert isinstance(error, RetryableFetchError) and error.reason == "fetch.deadline"


def test_retry_after_header_forms() -> None:
    from datetime import UTC, datetime

    from workers.net.http import retry_after_seconds

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:01:30 GMT", now=now) == 90.0
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
