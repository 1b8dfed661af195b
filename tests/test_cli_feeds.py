"""The feed commands as a user meets them: add with collections, status, export
and import, check and discover against the real fixture server."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import cli_environment
from tests.conftest import run_cli as cli
from tests.site import FixtureSite
from workers.core.errors import FeedError
from workers.core.ids import document_id
from workers.core.models import Feed
from workers.pipeline.poll.discovery import discover_feeds
from workers.pipeline.poll.feedlists import read_feed_list, write_opml
from workers.settings import Settings


@pytest.fixture
def env(tmp_path: Path, redis_url: str, namespace: str) -> dict[str, str]:
    return cli_environment(tmp_path / "data", redis_url, namespace)


@pytest.mark.slow  # ten runs of the console script: about 20 s on a loaded machine
def test_collections_status_export_and_import(env: dict[str, str], tmp_path: Path) -> None:
    # Hosts that do not exist: registered without the feed check, which the test below exercises.
    assert cli(env, "feeds", "add", "https://ng.example/rss", "--collection", "Africa", "-c", "Nigeria",
               "--title", "NG", "--no-check").returncode == 0
    assert cli(env, "feeds", "add", "https://ng.example/rss", "-c", "Wire").returncode == 0  # adds, keeps the rest
    assert cli(env, "feeds", "add", "https://plain.example/rss", "--no-check").returncode == 0
    [ng, plain] = json.loads(cli(env, "feeds", "list", "--json").stdout)
    assert ng["collections"] == ["Africa", "Nigeria", "Wire"] and plain["collections"] == []

    status = json.loads(cli(env, "feeds", "status", "--json").stdout)
    assert {"last_polled_at", "last_status", "items_total", "error_streak", "last_reason", "next_poll_at",
            "gone"} <= set(status[0])
    assert all(row["next_poll_at"] for row in status)
    table = cli(env, "feeds", "status").stdout
    assert "HTTP" in table and "next poll" in table

    opml = tmp_path / "out.opml"
    assert cli(env, "feeds", "export", str(opml)).returncode == 0
    feeds = {f.url: f for f in read_feed_list(opml)}
    assert feeds["https://ng.example/rss"].collections == ["Africa", "Nigeria", "Wire"]
    assert feeds["https://ng.example/rss"].title == "NG"
    assert feeds["https://plain.example/rss"].collections == []

    other = {**env, "NEWSWORKERS_NAMESPACE": env["NEWSWORKERS_NAMESPACE"] + "b"}
    try:
        assert "2 feeds read, 2 new" in cli(other, "feeds", "import", str(opml)).stdout
        again = {f["url"]: f["collections"] for f in json.loads(cli(other, "feeds", "list", "--json").stdout)}
        assert again == {"https://ng.example/rss": ["Africa", "Nigeria", "Wire"], "https://plain.example/rss": []}
    finally:
        for url in ("https://ng.example/rss", "https://plain.example/rss"):
            cli(other, "feeds", "remove", url)


def test_check_prints_items_with_canonical_urls(env: dict[str, str], site: FixtureSite) -> None:
    from tests.site import Canned, rss

    site.dynamic["check"] = Canned(body=rss("Checked", [("A", "https://c.example/a?utm_source=rss#x"),
                                                        ("B", "https://c.example/b")]))
    result = cli(env, "feeds", "check", site.url("/dyn/check"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["ok"], report["status"], report["title"]) == (True, 200, "Checked")
    assert [i["canonical_url"] for i in report["items"]] == ["https://c.example/a", "https://c.example/b"]
    assert report["items"][0]["doc_id"] == document_id("https://c.example/a")
    text = cli(env, "feeds", "check", site.url("/dyn/check")).stdout
    assert "HTTP 200" in text and "https://c.example/a" in text and "2 items" in text
    assert cli(env, "feeds", "list", "--json").stdout.strip() == "[]"  # nothing registered, nothing enqueued


def test_check_reports_the_error_and_its_reason(env: dict[str, str], site: FixtureSite) -> None:
    result = cli(env, "feeds", "check", site.url("/feeds/missing.xml"), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert (report["ok"], report["reason"]) == (False, "feed.http_404")


def test_discover_from_links_then_common_paths(env: dict[str, str], site: FixtureSite) -> None:
    found = json.loads(cli(env, "feeds", "discover", site.url("/home.html"), "--json").stdout)
    assert [(f["url"], f["found_by"]) for f in found] == [(site.url("/feeds/news.xml"), "link"),
                                                          (site.url("/feeds/other.atom"), "link")]
    assert found[0]["title"] == "Loopback Post" and found[0]["items"] == 6
    plain = json.loads(cli(env, "feeds", "discover", site.url("/plain.html"), "--json").stdout)
    assert [(f["url"], f["found_by"]) for f in plain] == [(site.url("/feed.xml"), "path")]


def test_discover_a_feed_url_or_a_dead_page(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    [itself] = discover_feeds(site.url("/feeds/news.xml"), http_settings, client)
    assert (itself.url, itself.found_by, itself.items) == (site.url("/feeds/news.xml"), "page", 6)
    with pytest.raises(FeedError) as info:
        discover_feeds(site.url("/feeds/missing.xml"), http_settings, client)
    assert info.value.reason == "feed.http_404"


def test_opml_export_reads_back_with_its_collections(tmp_path: Path) -> None:
    feeds = [Feed(url="https://ng.example/rss", title="NG & Co", collections=["Africa", "Nigeria"]),
             Feed(url="https://za.example/rss", collections=["Africa"]),
             Feed(url="https://plain.example/rss?a=1&b=2")]
    path = tmp_path / "out.opml"
    path.write_bytes(write_opml(feeds))
    again = read_feed_list(path)
    assert [(f.url, f.title, f.collections) for f in again] == [
        ("https://ng.example/rss", "NG & Co", ["Africa", "Nigeria"]), ("https://za.example/rss", "https://za.example/rss",
                                                                       ["Africa"]),
        ("https://plain.example/rss?a=1&b=2", "https://plain.example/rss?a=1&b=2", [])]


def test_add_checks_the_url_is_a_feed_first(env: dict[str, str], site: FixtureSite) -> None:
    page = site.url("/feeds/notafeed.xml")  # an HTML page
    refused = cli(env, "feeds", "add", page)
    assert refused.returncode == 2
    said = " ".join(refused.stderr.split())
    assert "not added:" in said and "--no-check" in said and "(feed.not_a_feed)" in said
    assert json.loads(cli(env, "feeds", "list", "--json").stdout) == []
    missing = cli(env, "feeds", "add", site.url("/feeds/missing.xml"))
    assert missing.returncode == 2 and "(feed.http_404)" in " ".join(missing.stderr.split())
    assert cli(env, "feeds", "add", site.url("/feeds/news.xml")).returncode == 0
    assert cli(env, "feeds", "add", page, "--no-check").returncode == 0
    assert [f["url"] for f in json.loads(cli(env, "feeds", "list", "--json").stdout)] == [
        site.url("/feeds/news.xml"), page]
    # A feed already registered is not checked again (adding collections works while it is down).
    assert cli(env, "feeds", "add", page, "-c", "Later").returncode == 0


def test_upgrade_memory_moves_the_entry_memory_of_before(env: dict[str, str]) -> None:
    import redis

    from workers.state import Keys
    from workers.state.entries import FeedEntries

    client = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    keys, doc_id, feed_url = Keys(env["NEWSWORKERS_NAMESPACE"]), document_id("https://u.example/1"), "https://u.example/rss"
    client.hset(keys.guids, "u.example urn:1", json.dumps([2, doc_id, "https://u.example/1"]))
    client.hset(keys.revisions, f"{doc_id} {feed_url}", "0123456789abcdef")
    client.zadd(keys.item_memory, {"g u.example urn:1": 1_800_000_000, f"r {doc_id} {feed_url}": 1_800_000_000})
    result = cli(env, "feeds", "upgrade-memory")
    assert result.returncode == 0 and "1 entries moved" in result.stdout, result.stderr
    assert not client.exists(keys.guids, keys.revisions, keys.item_memory)
    raw = redis.Redis.from_url(env["REDIS_URL"])
    [entry] = FeedEntries(raw, keys).read(feed_url).values()
    assert (entry.doc_id, entry.revision, entry.listed_at) == (doc_id, "0123456789abcdef", 1_800_000_000)
    raw.close()
    client.close()
