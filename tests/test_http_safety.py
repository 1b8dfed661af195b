"""Safety of every download: the address guard at every hop, redirects, statuses, caps and deadlines,
XML entity bombs, and charsets, against the real fixture server (tests/hostile.py)."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import ROOT, newsworkers_cli
from tests.hostile import CAFE, MIXED_LINKS, served_on
from tests.site import FixtureSite
from workers.core.errors import ConfigError, FeedError, FetchError, NewsworkersError, Retryable
from workers.core.ids import document_id
from workers.core.models import Feed, FeedItem
from workers.net import http
from workers.net.addresses import NetworkPolicy, parse_networks
from workers.net.xmlguard import refuse_xml_entities
from workers.pipeline.fetch.page import fetch_page
from workers.pipeline.poll.feed import poll_feed
from workers.settings import Settings, settings_from
from workers.state.registry import FeedState

METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


def make_settings(tmp_path: Path, **values: object) -> Settings:
    base: dict[str, object] = {"data_dir": tmp_path / "data", "fetch_timeout_s": 2.0, "feed_timeout_s": 2.0,
                               "allowed_networks": "127.0.0.0/8"}
    return Settings(**{**base, **values})  # type: ignore[arg-type]


def page_error(url: str, settings: Settings) -> FetchError:
    with http.make_client(settings, timeout_s=settings.fetch_timeout_s) as client, pytest.raises(FetchError) as info:
        fetch_page(FeedItem(doc_id=document_id(url), url=url, feed_url="https://example.org/f.xml"), settings, client)
    return info.value


def feed_error(url: str, settings: Settings) -> FeedError:
    with http.make_client(settings, timeout_s=settings.feed_timeout_s) as client, pytest.raises(FeedError) as info:
        poll_feed(Feed(url=url), FeedState(), settings, client)
    return info.value


@pytest.fixture(scope="module")
def second_host(site: FixtureSite) -> Iterator[str]:
    with served_on(site, "127.0.0.2") as base:
        yield base


# -- the address policy ------------------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "169.254.1.1",
    "fd00:ec2::254", "100.100.100.200", "100.64.0.1", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "240.0.0.1",
    "255.255.255.255", "fe80::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::1", "192.0.2.10",
])
def test_refused_addresses(address: str) -> None:
    assert not NetworkPolicy().permits(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "151.101.1.69", "2a04:4e42::81", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert NetworkPolicy().permits(address)


def test_allow_list_opens_only_its_networks() -> None:
    policy = NetworkPolicy(parse_networks("127.0.0.0/8, 10.20.0.0/16"))
    assert policy.permits("127.0.0.5") and policy.permits("10.20.3.4") and policy.permits("::ffff:127.0.0.1")
    assert not policy.permits("10.21.0.1") and not policy.permits("169.254.169.254") and not policy.permits("::1")


def test_allowed_networks_from_a_comma_separated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWORKERS_ALLOWED_NETWORKS", " 10.0.0.0/8 ,fd00::/8,192.168.1.7")
    networks = parse_networks(Settings().allowed_networks)
    assert networks == [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"),
                        ipaddress.ip_network("192.168.1.7/32")]
    monkeypatch.setenv("NEWSWORKERS_ALLOWED_NETWORKS", "10.0.0.0/8,intranet")
    with pytest.raises(ConfigError, match="NEWSWORKERS_ALLOWED_NETWORKS: 'intranet'"):
        settings_from({})


def test_allow_list_is_empty_by_default() -> None:
    assert Settings.model_fields["allowed_networks"].default == ""


# -- the guard on real connections ----------------------------------------------------------------------


def test_direct_loopback_url_refused_without_a_connection(site: FixtureSite, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, allowed_networks="")
    before = site.hits["/articles/lima-election.html"]
    error = page_error(site.url("/articles/lima-election.html"), settings)
    assert error.reason == "fetch.blocked_address" and not isinstance(error, Retryable)
    assert "127.0.0.1" in str(error) and "NEWSWORKERS_ALLOWED_NETWORKS" in str(error)
    assert site.hits["/articles/lima-election.html"] == before
    assert feed_error(site.url("/feeds/news.xml"), settings).reason == "feed.blocked_address"


@pytest.mark.parametrize("url", [METADATA, "http://[fd00:ec2::254]/latest/", "http://100.100.100.200/latest/",
                                 "http://localhost:9/", "http://0.0.0.0:9/", "http://[::1]:9/",
                                 "http://2130706433:9/", "http://0x7f.1:9/", "http://127.1:9/",
                                 "http://[::ffff:127.0.0.1]:9/"])
def test_direct_internal_urls_refused_at_once(url: str, tmp_path: Path) -> None:
    started = time.monotonic()
    assert page_error(url, make_settings(tmp_path, allowed_networks="")).reason == "fetch.blocked_address"
    assert time.monotonic() - started < 1.0  # refused before any connection attempt


def test_redirect_to_loopback_refused(site: FixtureSite, second_host: str, tmp_path: Path) -> None:
    # Only the redirecting server's own address is allowed; the hop to 127.0.0.1 is not.
    settings = make_settings(tmp_path, allowed_networks="127.0.0.2/32")
    target = site.url("/articles/lima-election.html")
    before = site.hits["/articles/lima-election.html"]
    url = f"{second_host}/hostile/redirect?code=302&to={urllib.parse.quote(target)}"
    error = page_error(url, settings)
    assert error.reason == "fetch.blocked_address"
    assert site.hits["/articles/lima-election.html"] == before
    assert feed_error(url, settings).reason == "feed.blocked_address"


def test_redirect_to_metadata_refused(site: FixtureSite, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)  # loopback allowed, metadata not
    url = site.url(f"/hostile/redirect?code=301&to={urllib.parse.quote(METADATA)}")
    started = time.monotonic()
    assert page_error(url, settings).reason == "fetch.blocked_address"
    assert feed_error(url, settings).reason == "feed.blocked_address"
    assert time.monotonic() - started < 2.0


def test_a_proxy_in_the_environment_is_not_used(site: FixtureSite, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy would connect on our behalf, out of the guard's sight.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    assert page_error(site.url("/articles/lima-election.html"),
                      make_settings(tmp_path, allowed_networks="")).reason == "fetch.blocked_address"


# -- redirects ------------------------------------------------------------------------------------------


def test_redirect_chain_301_302_308(site: FixtureSite, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with http.make_client(settings, timeout_s=2.0) as client:
        response = http.get(client, site.url("/hostile/chain?codes=301,302,308"), stage="fetch",
                            max_bytes=2**20, deadline_s=10)
        assert response.status == 200 and response.url == site.url("/articles/lima-election.html")
        assert not response.permanent_redirect  # a temporary hop in the chain: the address may change again
        temporary = http.get(client, site.url("/hostile/chain?codes=302,307"), stage="feed",
                             max_bytes=2**20, deadline_s=10)
        assert temporary.status == 200 and not temporary.permanent_redirect


def _redirects(site: FixtureSite, codes: list[int], target: str) -> str:
    """A chain of redirects with exactly ``codes``, in order, ending at ``target``."""
    url = target
    for code in reversed(codes):
        url = site.url(f"/hostile/redirect?code={code}&to={urllib.parse.quote(url, safe='')}")
    return url


@pytest.mark.parametrize(("codes", "permanent"), [([301], True), ([308], True), ([301, 308], True),
                                                  ([301, 302], False), ([302, 301], False), ([307], False)])
def test_only_a_chain_of_permanent_redirects_is_permanent(site: FixtureSite, tmp_path: Path,
                                                          codes: list[int], permanent: bool) -> None:
    target = site.url("/articles/lima-election.html")
    with http.make_client(make_settings(tmp_path), timeout_s=2.0) as client:
        response = http.get(client, _redirects(site, codes, target), stage="feed", max_bytes=2**20, deadline_s=10)
        assert (response.status, response.url, response.permanent_redirect) == (200, target, permanent)
        direct = http.get(client, target, stage="feed", max_bytes=2**20, deadline_s=10)
        assert not direct.permanent_redirect  # no redirect at all is not a move


def test_redirect_limit_counts_every_hop(site: FixtureSite, tmp_path: Path) -> None:
    chain = site.url("/hostile/chain?codes=301,302,308,301,302")  # five redirects, then the final 302 = six
    error = page_error(chain, make_settings(tmp_path, fetch_max_redirects=5))
    assert error.reason == "fetch.redirects" and not isinstance(error, Retryable)
    with http.make_client(make_settings(tmp_path, fetch_max_redirects=6), timeout_s=2.0) as client:
        assert http.get(client, chain, stage="fetch", max_bytes=2**20, deadline_s=10).status == 200


def test_redirect_loop(site: FixtureSite, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, fetch_max_redirects=50)
    before = site.hits["/hostile/loop/a"]
    error = page_error(site.url("/hostile/loop/a"), settings)
    assert error.reason == "fetch.redirect_loop" and not isinstance(error, Retryable)
    assert site.hits["/hostile/loop/a"] == before + 1  # stopped as soon as a URL came round again
    assert feed_error(site.url("/hostile/loop/b"), settings).reason == "feed.redirect_loop"


def test_redirect_to_another_scheme_refused(site: FixtureSite, tmp_path: Path) -> None:
    url = site.url(f"/hostile/redirect?code=302&to={urllib.parse.quote('file:///etc/passwd')}")
    assert page_error(url, make_settings(tmp_path)).reason == "fetch.scheme"


# -- statuses --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "retryable"), [(404, False), (410, False), (500, True), (503, True), (429, True)])
@pytest.mark.parametrize("stage", ["fetch", "feed"])
def test_error_statuses(site: FixtureSite, tmp_path: Path, code: int, retryable: bool, stage: str) -> None:
    settings = make_settings(tmp_path)
    with http.make_client(settings, timeout_s=2.0) as client, pytest.raises(NewsworkersError) as info:
        http.get(client, site.url(f"/hostile/status/{code}"), stage=stage, max_bytes=2**20, deadline_s=10)
    assert info.value.reason == f"{stage}.http_{code}"
    assert isinstance(info.value, FeedError if stage == "feed" else FetchError)
    assert isinstance(info.value, Retryable) is retryable
    assert info.value.retry_after_s == (7.0 if code in (429, 503) else None)


# -- caps and deadlines -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["page", "feed"])
def test_a_server_dripping_a_byte_a_second_does_not_hold_the_worker(site: FixtureSite, tmp_path: Path,
                                                                    kind: str) -> None:
    settings = make_settings(tmp_path, download_deadline_s=2.0)
    url = site.url("/hostile/drip?every=1.0" + ("&feed=1" if kind == "feed" else ""))
    started = time.monotonic()
    error = page_error(url, settings) if kind == "page" else feed_error(url, settings)
    elapsed = time.monotonic() - started
    assert error.reason == ("fetch.deadline" if kind == "page" else "feed.deadline")
    assert isinstance(error, Retryable)
    assert 1.9 < elapsed < 4.0  # each byte beat the 2 s read timeout; the whole-download deadline cut it


def test_huge_feed_refused(site: FixtureSite, tmp_path: Path) -> None:
    error = feed_error(site.url("/hostile/huge.xml"), make_settings(tmp_path, feed_max_bytes=2**20))
    assert error.reason == "feed.too_large" and not isinstance(error, Retryable)


@pytest.mark.parametrize(("path", "stage"), [("/hostile/bomb.xml", "feed"), ("/articles/gzip-bomb.html", "fetch")])
def test_gzip_bomb_stopped_at_the_cap(site: FixtureSite, tmp_path: Path, path: str, stage: str) -> None:
    settings = make_settings(tmp_path, feed_max_bytes=2**20, fetch_max_bytes=2**20)
    started = time.monotonic()
    error = feed_error(site.url(path), settings) if stage == "feed" else page_error(site.url(path), settings)
    assert error.reason == f"{stage}.too_large"
    assert time.monotonic() - started < 2.0  # inflated no further than the cap


# -- XML entities -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/hostile/laughs.xml", "/hostile/xxe.xml"])
def test_entity_feeds_refused_fast(site: FixtureSite, tmp_path: Path, path: str) -> None:
    started = time.monotonic()
    error = feed_error(site.url(path), make_settings(tmp_path))
    assert error.reason == "feed.xml_entities" and not isinstance(error, Retryable)
    assert time.monotonic() - started < 1.0


def test_entity_guard_spares_ordinary_feeds() -> None:
    rss091 = (b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
              b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel>'
              b"<title>a &amp; b</title></channel></rss>")
    for document in (rss091, b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', b"<rss><broken",
                     b"<rss>" + b"<item><title>x</title></item>" * 50_000 + b"</rss>"):
        refuse_xml_entities(document)
    with pytest.raises(FeedError) as info:
        refuse_xml_entities('<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'
                            .encode("utf-16"))
    assert info.value.reason == "feed.xml_entities"


# -- charsets -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["page-utf8-labelled-latin1", "page-cp1252-labelled-utf8", "page-cp1252-unlabelled"])
def test_page_with_wrong_or_missing_charset_decodes(site: FixtureSite, tmp_path: Path, case: str,
                                                    client: httpx.Client, http_settings: Settings) -> None:
    url = site.url(f"/hostile/charset/{case}")
    page = fetch_page(FeedItem(doc_id=document_id(url), url=url, feed_url="https://example.org/f.xml"),
                      http_settings, client)
    assert CAFE in page.html


@pytest.mark.parametrize("case", ["feed-cp1252-declared-utf8", "feed-utf8-labelled-latin1", "feed-cp1252-undeclared"])
def test_feed_with_wrong_or_missing_charset_decodes(site: FixtureSite, case: str, client: httpx.Client,
                                                    http_settings: Settings) -> None:
    result = poll_feed(Feed(url=site.url(f"/hostile/charset/{case}")), FeedState(), http_settings, client)
    assert result.title is not None and CAFE in result.title
    assert len(result.items) == 1 and CAFE in (result.items[0].title or "")


# -- the worker goes on ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_workers_serve_good_feeds_and_pages_while_others_are_hostile(site: FixtureSite, redis_url: str,
                                                                     namespace: str, tmp_path: Path) -> None:
    """One `newsworkers run --once` over hostile feeds and a feed of hostile pages, next to good ones: every
    good page is indexed, every hostile one recorded with its reason, and politeness deferrals come back."""
    env = {**os.environ, "REDIS_URL": redis_url, "NEWSWORKERS_NAMESPACE": namespace,
           "NEWSWORKERS_DATA_DIR": str(tmp_path / "data"), "NEWSWORKERS_DOWNLOAD_DEADLINE_S": "2",
           "NEWSWORKERS_FETCH_TIMEOUT_S": "2", "NEWSWORKERS_FEED_TIMEOUT_S": "2", "NEWSWORKERS_MAX_RETRIES": "1",
           "NEWSWORKERS_RETRY_BACKOFF_S": "0.2", "NEWSWORKERS_FETCH_MAX_BYTES": "1000000",
           "NEWSWORKERS_FEED_MAX_BYTES": "1000000", "NEWSWORKERS_DOMAIN_MIN_INTERVAL_S": "0.3",
           "NEWSWORKERS_DOMAIN_MAX_CONCURRENCY": "2", "NEWSWORKERS_POLITENESS_MAX_WAIT_S": "0.2"}
    env.pop("ELASTICSEARCH_URL", None)
    site.robots["127.0.0.2"] = "User-agent: newsworkers\nDisallow: /hostile/slow/secret"
    with served_on(site, "127.0.0.2") as second, served_on(site, "127.0.0.3") as third:
        metadata_redirect = f"/hostile/redirect?code=301&to={urllib.parse.quote(METADATA)}"
        feeds = {
            f"{second}/hostile/mixed.xml": None,
            f"{third}/hostile/good.xml?n=3": None,
            site.url("/hostile/laughs.xml"): "feed.xml_entities",
            site.url("/hostile/drip?every=1.0&feed=1"): "feed.deadline",
            site.url("/hostile/bomb.xml"): "feed.too_large",
            site.url(metadata_redirect): "feed.blocked_address",
            "http://169.254.169.254/latest/feed.xml": "feed.blocked_address",
            site.url("/hostile/status/410"): "feed.http_410",
        }
        try:
            for url in feeds:
                added = _cli(env, "feeds", "add", url, "--no-check")  # hostile on purpose: the run meets them
                assert added.returncode == 0, added.stderr
            run = _cli(env, "run", "--once", "--timeout", "150")
        finally:
            site.robots.clear()
    assert run.returncode == 0, run.stdout + run.stderr
    status = {row["url"]: row for row in json.loads(_cli(env, "feeds", "status", "--json").stdout)}
    assert {url: status[url]["last_reason"] for url in feeds} == feeds
    letters = {letter["url"].removeprefix(second): letter["reason"]
               for letter in json.loads(_cli(env, "failed", "list", "--json").stdout)}
    assert letters == {
        "/hostile/drip?every=1.0": "fetch.deadline",
        "/articles/gzip-bomb.html": "fetch.too_large",
        "/hostile/loop/a": "fetch.redirect_loop",
        MIXED_LINKS[7]: "fetch.blocked_address",
        "/hostile/slow/secret.html": "fetch.robots_disallowed",
    }
    found = json.loads(_cli(env, "search", "", "--json", "--limit", "50").stdout)
    titles = sorted(hit["title"] for hit in found["hits"])
    assert len(titles) == 7 and all("Dispatch" in title for title in titles), titles
    stats = redis.Redis.from_url(redis_url, decode_responses=True).hgetall(f"{namespace}:stats")
    assert int(stats.get("fetch.deferred", 0)) > 0  # four pages, 0.3 s apart, 0.2 s of patience: some came back


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*newsworkers_cli(), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=240)


def test_allowed_networks_as_a_toml_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "newsworkers.toml"
    config.write_text('allowed_networks = ["10.0.0.0/8", "fd00::/8"]\n')
    monkeypatch.setenv("NEWSWORKERS_CONFIG_FILE", str(config))
    monkeypatch.delenv("NEWSWORKERS_ALLOWED_NETWORKS")
    settings = Settings()
    assert settings.allowed_networks == "10.0.0.0/8,fd00::/8"
    # and handed to spawned workers in the comma-separated form their environment reads back
    assert settings.as_environment()["NEWSWORKERS_ALLOWED_NETWORKS"] == "10.0.0.0/8,fd00::/8"


def test_connects_to_the_address_it_checked(second_host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: a name that answers an allowed address, then a refused one, is asked once and the
    connection goes to the address that was checked. (No DNS server can run here: the resolver answers
    from this table, the sockets and the server are real.)"""
    port = int(second_host.rsplit(":", 1)[1])
    answers = iter(["127.0.0.2", "169.254.169.254", "169.254.169.254"])
    real_getaddrinfo = socket.getaddrinfo
    asked: list[str] = []

    def rebinding(host: str, *args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
        if host != "rebind.test":
            return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]
        asked.append(host)
        return real_getaddrinfo(next(answers), *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings = make_settings(tmp_path, allowed_networks="127.0.0.2/32")
    with http.make_client(settings, timeout_s=2.0) as client:
        url = f"http://rebind.test:{port}/articles/lima-election.html"
        response = http.get(client, url, stage="fetch", max_bytes=2**20, deadline_s=5)
        assert response.status == 200 and b"Peru" in response.content
        assert asked == ["rebind.test"]
    # A new connection asks again, now gets the metadata address, and is refused.
    with http.make_client(settings, timeout_s=2.0) as client, pytest.raises(FetchError) as info:
        http.get(client, url, stage="fetch", max_bytes=2**20, deadline_s=5)
    assert info.value.reason == "fetch.blocked_address" and "169.254.169.254" in str(info.value)
    assert asked == ["rebind.test", "rebind.test"]


def test_a_silent_server_past_the_deadline_is_a_deadline(site: FixtureSite, tmp_path: Path) -> None:
    # The next byte is 3 s away, the read timeout 5 s: the read is cut to the 2 s deadline, and says so.
    settings = make_settings(tmp_path, download_deadline_s=2.0, fetch_timeout_s=5.0)
    started = time.monotonic()
    error = page_error(site.url("/hostile/drip?every=3.0"), settings)
    assert error.reason == "fetch.deadline" and isinstance(error, Retryable)
    assert time.monotonic() - started < 2.8
