"""Poll stage and feed lists: conditional GETs against a real HTTP server on
127.0.0.1, the offline corpus as local file: feeds, real-world feed documents
and OPML files from the shared data folder, and OPML/YAML feed lists."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import feedparser
import httpx
import pytest

from tests.conftest import ROOT, SHARED_DATA
from tests.site import ARTICLES, FixtureSite
from workers.core.errors import FeedError, Retryable, RetryableFeedError
from workers.core.ids import document_id
from workers.core.models import Feed
from workers.net import http
from workers.pipeline.poll.feed import PollResult, parse_feed, poll_feed
from workers.pipeline.poll.feedlists import read_feed_list
from workers.settings import Settings
from workers.state.registry import FeedState

SEEDS = ROOT / "seeds"
SEED_FEEDS = sorted(p for p in (SEEDS / "feeds").iterdir() if p.suffix in (".xml", ".atom"))
SHARED_FEEDS = SHARED_DATA / "feeds"
SHARED_OPML = SHARED_DATA / "opml"



# -- poll_feed over HTTP ----------------------------------------------------------------------


def test_first_poll_returns_items_and_validators(site: FixtureSite, http_settings: Settings,
                                                 client: httpx.Client) -> None:
    feed = Feed(url=site.url("/feeds/news.xml"))
    result = poll_feed(feed, FeedState(), http_settings, client)

    assert result.status == 200
    assert not result.not_modified
    assert result.url == site.url("/feeds/news.xml")
    assert result.etag == '"news-v1"'
    assert result.last_modified == site.last_modified
    assert result.title == "Loopback Post"
    assert result.problem is None
    assert result.permanent_redirect is False
    expected_urls = [
        site.url("/articles/berlin-budget.html"),
        site.url("/articles/nairobi-drought.html"),
        site.url("/articles/lima-election.html"),
        site.url("/redirect/tokyo-chip-plant"),
        site.url("/articles/broken.html"),
        site.url("/articles/gone.html"),
    ]
    assert [i.url for i in result.items] == expected_urls
    for item in result.items:
        assert item.doc_id == document_id(item.url)
        assert item.feed_url == feed.url
        assert item.feed_title == "Loopback Post"
        assert item.source_name == "Loopback Post"
        assert item.feed_local is False
        assert item.guid == item.url
        assert item.published_at is not None
        assert item.published_at.utcoffset().total_seconds() == 0
        assert item.published_at.hour == 9
    first = result.items[0]
    title, day, _paragraphs = ARTICLES["berlin-budget"]
    assert first.title == title
    assert first.published_at == datetime.fromisoformat(f"{day}T09:00:00+00:00")
    assert first.summary == title
    broken = result.items[4]
    assert broken.summary is not None
    assert broken.summary.startswith("The central bank cut its main rate by half a point on Monday.")


def test_second_poll_with_state_is_not_modified(site: FixtureSite, http_settings: Settings,
                                                client: httpx.Client) -> None:
    feed = Feed(url=site.url("/feeds/news.xml"))
    first = poll_feed(feed, FeedState(), http_settings, client)
    state = FeedState(etag=first.etag, last_modified=first.last_modified)

    second = poll_feed(feed, state, http_settings, client)

    assert second.status == 304
    assert second.not_modified
    assert second.items == []
    # The validators survive a 304 so the next poll is conditional again.
    assert second.etag == '"news-v1"'
    assert second.last_modified == site.last_modified


def test_conditional_headers_are_sent(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    feed = Feed(url=f"{site.base}/feeds/echo.xml")
    first = poll_feed(feed, FeedState(), http_settings, client)
    assert first.status == 200
    assert "if-none-match" not in site.seen_headers["/feeds/echo.xml"]
    assert "if-modified-since" not in site.seen_headers["/feeds/echo.xml"]

    second = poll_feed(feed, FeedState(etag=first.etag, last_modified=first.last_modified), http_settings, client)

    sent = site.seen_headers["/feeds/echo.xml"]
    assert sent["if-none-match"] == '"v7"'
    assert sent["if-modified-since"] == "Sat, 06 Mar 2021 03:06:40 GMT"
    assert sent["user-agent"] == http_settings.user_agent
    assert second.not_modified
    assert second.items == []


def test_missing_feed_is_final_404(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    with pytest.raises(FeedError) as info:
        poll_feed(Feed(url=site.url("/feeds/missing.xml")), FeedState(), http_settings, client)
    assert info.value.reason == "feed.http_404"
    assert not isinstance(info.value, Retryable)
    assert info.value.url == site.url("/feeds/missing.xml")


def test_server_error_is_retryable(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    with pytest.raises(RetryableFeedError) as info:
        poll_feed(Feed(url=f"{site.base}/feeds/flaky.xml"), FeedState(), http_settings, client)
    assert info.value.reason == "feed.http_503"


def test_slow_feed_times_out_retryably(site: FixtureSite, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", feed_timeout_s=0.5)
    with http.make_client(settings, timeout_s=settings.feed_timeout_s) as client, \
            pytest.raises(RetryableFeedError) as info:
        poll_feed(Feed(url=site.url("/feeds/slow.xml")), FeedState(), settings, client)
    assert info.value.reason == "feed.timeout"


def test_html_page_is_not_a_feed(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    with pytest.raises(FeedError) as info:
        poll_feed(Feed(url=site.url("/feeds/notafeed.xml")), FeedState(), http_settings, client)
    assert info.value.reason == "feed.not_a_feed"
    assert not isinstance(info.value, Retryable)


def test_file_feed_refused_unless_local(http_settings: Settings, client: httpx.Client) -> None:
    url = SEED_FEEDS[0].as_uri()
    with pytest.raises(FeedError) as info:
        poll_feed(Feed(url=url), FeedState(), http_settings, client)
    assert info.value.reason == "feed.file_refused"
    assert not isinstance(info.value, Retryable)


def test_unsupported_scheme_refused(http_settings: Settings, client: httpx.Client) -> None:
    with pytest.raises(FeedError) as info:
        poll_feed(Feed(url="ftp://127.0.0.1/feed.xml"), FeedState(), http_settings, client)
    assert info.value.reason == "feed.scheme"


def test_remote_feed_may_list_a_file_link_but_it_is_not_local(site: FixtureSite, http_settings: Settings,
                                                                client: httpx.Client) -> None:
    result = poll_feed(Feed(url=site.url("/feeds/local-link.xml")), FeedState(), http_settings, client)
    [item] = result.items
    # feedparser's link resolution turns file:///etc/passwd into file://etc/passwd; it stays a file: URL.
    assert urlsplit(item.url).scheme == "file"
    assert item.url.endswith("/passwd")
    assert item.feed_local is False  # so fetch refuses it


def test_atom_feed_alternate_link(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    result = poll_feed(Feed(url=site.url("/feeds/other.atom")), FeedState(), http_settings, client)
    title, day, _p = ARTICLES["tokyo-chip-plant"]
    assert result.title == "Loopback Business"
    assert result.etag is None and result.last_modified is None
    [item] = result.items
    assert item.url == site.url("/articles/tokyo-chip-plant.html")
    assert item.title == title
    assert item.summary == title
    assert item.published_at == datetime.fromisoformat(f"{day}T09:00:00+00:00")


def test_relative_links_resolved_and_times_in_utc(site: FixtureSite, http_settings: Settings,
                                                  client: httpx.Client) -> None:
    feed = Feed(url=f"{site.base}/feeds/sub/rel.xml", source_name="Gazette")
    result = poll_feed(feed, FeedState(), http_settings, client)

    assert [i.url for i in result.items] == [
        f"{site.base}/feeds/articles/one.html",
        f"{site.base}/articles/two.html?x=1#frag",
        f"{site.base}/feeds/sub/three.html",
    ]
    one, two, three = result.items
    assert one.doc_id == document_id(one.url)
    assert two.doc_id == document_id(f"{site.base}/articles/two.html?x=1")  # the fragment is not identity
    assert one.title == "Parent-relative link"  # stripped
    assert one.source_name == "Gazette"  # the registry's name wins over the feed title
    assert one.feed_title == "Relative Gazette"
    assert one.published_at == datetime(2021, 3, 2, 9, 0, tzinfo=UTC)
    assert one.published_at.tzinfo is not None and one.published_at.utcoffset().total_seconds() == 0
    assert two.published_at == datetime(2021, 3, 4, 4, 30, tzinfo=UTC)
    assert three.published_at is None
    assert one.summary == "<p>First <b>summary</b></p>"


def test_redirected_feed_resolves_against_final_url(site: FixtureSite, http_settings: Settings,
                                                    client: httpx.Client) -> None:
    result = poll_feed(Feed(url=f"{site.base}/moved/rel.xml"), FeedState(), http_settings, client)
    assert result.permanent_redirect is True
    assert result.url == f"{site.base}/feeds/sub/rel.xml"
    assert result.items[0].url == f"{site.base}/feeds/articles/one.html"
    assert result.items[0].feed_url == f"{site.base}/moved/rel.xml"


# -- the offline corpus -------------------------------------------------------------------------


def _local_path(url: str) -> Path:
    return Path(url2pathname(urlsplit(url).path))


def test_offline_corpus_feeds(http_settings: Settings, client: httpx.Client) -> None:
    assert len(SEED_FEEDS) == 3
    pages = {(SEEDS / "articles").resolve(), (SEEDS / "international").resolve()}
    total = 0
    for path in SEED_FEEDS:
        feed = Feed(url=path.as_uri(), local=True)
        result = poll_feed(feed, FeedState(), http_settings, client)
        assert result.status == 200
        assert result.last_modified is not None
        assert result.title
        assert result.items, path.name
        for item in result.items:
            assert item.url.startswith("file:///"), item.url
            target = _local_path(item.url)
            assert target.is_file(), item.url
            assert target.parent in pages, item.url
            assert item.doc_id == document_id(item.url)
            assert item.feed_local is True
            assert item.feed_url == feed.url
            assert item.title
            assert item.published_at is not None
            assert item.published_at.utcoffset().total_seconds() == 0
            assert item.summary
        total += len(result.items)

        again = poll_feed(feed, FeedState(last_modified=result.last_modified), http_settings, client)
        assert again.status == 304
        assert again.not_modified
        assert again.items == []
    assert total >= 20
    assert total == 30  # 13 in world.xml + 12 in tech.atom + 5 in international.xml (seeds/README.md)


def test_offline_seed_article_item(http_settings: Settings, client: httpx.Client) -> None:
    feed = Feed(url=(SEEDS / "feeds" / "world.xml").as_uri(), local=True)
    result = poll_feed(feed, FeedState(), http_settings, client)
    by_name = {_local_path(i.url).name: i for i in result.items}
    seed = by_name["baghdad-embassy-rocket-attack.html"]
    assert seed.published_at is not None
    assert seed.published_at.date().isoformat() == "2020-01-27"
    broken = by_name["broken-page.html"]
    assert broken.title == "Live: Super Tuesday results as 14 states vote in Democratic primaries"


def test_missing_local_feed(tmp_path: Path, http_settings: Settings, client: httpx.Client) -> None:
    with pytest.raises(FeedError) as info:
        poll_feed(Feed(url=(tmp_path / "nope.xml").as_uri(), local=True), FeedState(), http_settings, client)
    assert info.value.reason == "feed.file_missing"


# -- real-world feed documents --------------------------------------------------------------------


def _shared_feed_files() -> list[Path]:
    if not SHARED_FEEDS.is_dir():
        return []
    return sorted(p for p in SHARED_FEEDS.iterdir() if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))


def _manifest() -> dict[str, dict[str, str]]:
    path = SHARED_FEEDS / "MANIFEST.tsv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["filename"]: row for row in csv.DictReader(handle, delimiter="\t")}


SHARED_FEED_FILES = _shared_feed_files()
MANIFEST = _manifest()
_NO_SHARED_FEEDS = pytest.mark.skip(reason=f"{SHARED_FEEDS} is absent")


def _entries_with_links(content: bytes) -> int:
    """Entries that carry any link at all: an entry without one names nothing to fetch."""
    parsed = feedparser.parse(content)
    return sum(1 for e in parsed.entries
               if e.get("link") or any(link.get("href") for link in e.get("links", []))
               or str(e.get("id", "")).startswith(("http://", "https://")))


@pytest.mark.parametrize(
    "path",
    SHARED_FEED_FILES or [pytest.param(None, marks=_NO_SHARED_FEEDS)],
    ids=[p.name for p in SHARED_FEED_FILES] or ["absent"],
)
def test_real_world_feed(path: Path) -> None:
    content = path.read_bytes()
    url = "https://example.org/feed"
    try:
        result = parse_feed(content, Feed(url=url), PollResult(status=200, url=url))
    except FeedError as exc:
        assert exc.reason.startswith("feed."), exc.reason
        assert exc.reason in ("feed.not_a_feed", "feed.parse")
        expected = MANIFEST.get(path.name, {}).get("feedparser_entries", "0")
        assert expected in ("0", "-", ""), f"feedparser found {expected} entries but we raised {exc.reason}"
        return
    assert isinstance(result, PollResult)
    for item in result.items:
        assert item.doc_id == document_id(item.url)
        assert urlsplit(item.url).scheme, item.url  # absolute after resolution
        assert item.feed_url == url
        if item.published_at is not None:
            assert item.published_at.utcoffset().total_seconds() == 0
    row = MANIFEST.get(path.name)
    if row is not None and row["feedparser_entries"].isdigit() and int(row["feedparser_entries"]) > 0:
        if _entries_with_links(content):
            assert len(result.items) >= 1, f"{path.name}: feedparser found {row['feedparser_entries']} entries"
        else:
            # Entries without any link (feedparser's charset and CDATA cases) give nothing to fetch.
            assert result.items == []


def test_manifest_covers_every_shared_feed() -> None:
    if not SHARED_FEEDS.is_dir():
        pytest.skip(f"{SHARED_FEEDS} is absent")
    assert {p.name for p in SHARED_FEED_FILES} == set(MANIFEST)


# -- feed lists -------------------------------------------------------------------------------------


def test_seed_opml() -> None:
    feeds = read_feed_list(SEEDS / "feeds.opml")
    assert len(feeds) >= 20
    assert len(feeds) == 39
    assert all(f.url.startswith(("http://", "https://")) for f in feeds)
    assert len({f.url for f in feeds}) == len(feeds)
    first = feeds[0]
    assert first.url == "http://feeds.bbci.co.uk/news/world/rss.xml"
    assert first.title == "BBC News - World"
    assert first.source_name == "BBC News - World"
    assert first.local is False


def test_yaml_feed_list(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n"
        "  - https://plain.example/rss.xml\n"
        "  - url: http://dict.example/atom.xml\n"
        "    title: Dict Example\n"
        "  - url: https://named.example/feed\n"
        "    title: Named\n"
        "    source_name: Named Source\n"
        "  - https://plain.example/rss.xml\n",
        encoding="utf-8",
    )
    feeds = read_feed_list(path)
    assert [f.url for f in feeds] == [
        "https://plain.example/rss.xml",
        "http://dict.example/atom.xml",
        "https://named.example/feed",
    ]
    assert feeds[0].title is None and feeds[0].source_name is None
    assert (feeds[1].title, feeds[1].source_name) == ("Dict Example", "Dict Example")
    assert (feeds[2].title, feeds[2].source_name) == ("Named", "Named Source")


def test_yaml_bare_list(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yml"
    path.write_text("- https://a.example/feed\n- {url: 'https://b.example/feed', title: B}\n", encoding="utf-8")
    feeds = read_feed_list(path)
    assert [(f.url, f.title) for f in feeds] == [("https://a.example/feed", None), ("https://b.example/feed", "B")]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("- ftp://a.example/feed\n", "feedlist.parse"),
        ("- {title: no url}\n", "feedlist.parse"),
        ("feeds: {a: 1}\n", "feedlist.parse"),
        ("feeds: [unclosed\n", "feedlist.parse"),
    ],
)
def test_yaml_bad_lists(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FeedError) as info:
        read_feed_list(path)
    assert info.value.reason == reason


def test_missing_feed_list(tmp_path: Path) -> None:
    with pytest.raises(FeedError) as info:
        read_feed_list(tmp_path / "absent.opml")
    assert info.value.reason == "feedlist.read"


def test_opml_without_feeds(tmp_path: Path) -> None:
    path = tmp_path / "empty.opml"
    path.write_text('<opml version="2.0"><body><outline text="Folder"/></body></opml>', encoding="utf-8")
    with pytest.raises(FeedError) as info:
        read_feed_list(path)
    assert info.value.reason == "feedlist.empty"


BROKEN_OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>Tom & Jerry's feeds</title></head>
<body>
<outline text="News & Views">
<outline text="Alpha & Omega" title="Alpha & Omega" type="rss" xmlUrl="https://alpha.example/rss?a=1&b=2">
<outline text="Beta" type="rss" xmlUrl="http://beta.example/feed.xml">
<outline text="Gamma" type="rss" xmlurl="https://gamma.example/atom"/>
<outline text="Local" type="rss" xmlUrl="file:///etc/passwd"/>
</body>
"""


def test_broken_opml_still_yields_its_feeds(tmp_path: Path) -> None:
    path = tmp_path / "broken.opml"
    path.write_text(BROKEN_OPML, encoding="utf-8")
    feeds = read_feed_list(path)
    hosts = [urlsplit(f.url).hostname for f in feeds]
    assert hosts == ["alpha.example", "beta.example", "gamma.example"]  # the file: one is not a feed URL
    assert feeds[1].url == "http://beta.example/feed.xml"
    assert feeds[2].url == "https://gamma.example/atom"


def test_broken_opml_keeps_bare_ampersand_in_url(tmp_path: Path) -> None:
    """Bare '&' is the commonest OPML breakage; lxml's recovery drops '&b' and corrupts the URL."""
    path = tmp_path / "broken.opml"
    path.write_text(BROKEN_OPML, encoding="utf-8")
    feeds = read_feed_list(path)
    assert feeds[0].url == "https://alpha.example/rss?a=1&b=2"
    assert feeds[0].title == "Alpha & Omega"


def _shared_opml_files() -> list[Path]:
    if not SHARED_OPML.is_dir():
        return []
    return sorted(p for p in SHARED_OPML.iterdir() if p.is_file())


SHARED_OPML_FILES = _shared_opml_files()


@pytest.mark.parametrize(
    "path",
    SHARED_OPML_FILES or [pytest.param(None, marks=pytest.mark.skip(reason=f"{SHARED_OPML} is absent"))],
    ids=[p.name for p in SHARED_OPML_FILES] or ["absent"],
)
def test_real_world_feed_list(path: Path) -> None:
    try:
        feeds = read_feed_list(path)
    except FeedError as exc:
        assert exc.reason.startswith("feedlist."), exc.reason
        assert path.suffix.lower() != ".opml", f"{path.name}: {exc.reason}: {exc}"
        return
    assert feeds
    assert all(f.url.startswith(("http://", "https://")) for f in feeds)
    assert len({f.url for f in feeds}) == len(feeds)


def _json_feed_files() -> list[Path]:
    return [p for p in SHARED_FEED_FILES if MANIFEST.get(p.name, {}).get("format") == "jsonfeed"]


@pytest.mark.parametrize(
    "path",
    _json_feed_files() or [pytest.param(None, marks=_NO_SHARED_FEEDS)],
    ids=[p.name for p in _json_feed_files()] or ["absent"],
)
def test_real_world_json_feed_parses(path: Path) -> None:
    url = "https://example.org/feed.json"
    result = parse_feed(path.read_bytes(), Feed(url=url), PollResult(status=200, url=url))
    count = MANIFEST[path.name]["json_items"]
    if count.isdigit():
        # Items without url, external_url or a URL id name nothing to fetch; every other one is an item.
        items = json.loads(path.read_bytes())["items"]
        linked = [i for i in items if i.get("url") or i.get("external_url") or str(i.get("id")).startswith("http")]
        assert len(result.items) == len(linked) <= int(count)
        assert result.problem is None
    else:  # a truncated document (MANIFEST: MALFORMED) still gives the items before the cut
        assert result.items
        assert result.problem is not None and result.problem.startswith("JSONDecodeError")
    assert result.title
    assert all(urlsplit(i.url).scheme in ("http", "https") for i in result.items)


NESTED_OPML = """<?xml version="1.0"?><opml version="2.0"><body>
<outline text="Africa"><outline title="Nigeria" text="NG">
  <outline text="Punch" xmlUrl="https://punch.example/feed" category="/Wire/Daily, Lagos"/>
</outline>
  <outline text="Nation" xmlUrl="https://nation.example/rss"/>
</outline>
<outline text="Sport"><outline text="Nation" xmlUrl="https://nation.example/rss"/></outline>
<outline text="Loose" xmlUrl="https://loose.example/rss"/>
</body></opml>"""


def test_opml_folders_and_categories_become_collections(tmp_path: Path) -> None:
    path = tmp_path / "nested.opml"
    path.write_text(NESTED_OPML, encoding="utf-8")
    feeds = {f.url: f.collections for f in read_feed_list(path)}
    assert feeds == {
        "https://punch.example/feed": ["Africa", "Nigeria", "Wire", "Daily", "Lagos"],
        "https://nation.example/rss": ["Africa", "Sport"],  # listed in two folders: in both
        "https://loose.example/rss": [],
    }


def test_yaml_collections(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("- {url: 'https://a.example/feed', collections: [Nigeria, ' Wire ']}\n"
                    "- {url: 'https://b.example/feed', collection: Kenya}\n"
                    "- https://c.example/feed\n", encoding="utf-8")
    assert [f.collections for f in read_feed_list(path)] == [["Nigeria", "Wire"], ["Kenya"], []]
    path.write_text("- {url: 'https://a.example/feed', collections: {a: 1}}\n", encoding="utf-8")
    with pytest.raises(FeedError) as info:
        read_feed_list(path)
    assert info.value.reason == "feedlist.parse"
