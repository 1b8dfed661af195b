"""Politeness against real Redis and the real fixture server on several loopback addresses: per-domain rate
and concurrency shared by every gate (every worker), deferral instead of long waits, robots.txt, User-Agent."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.hostile import served_on
from tests.site import FixtureSite
from workers.core.errors import FetchError, Retryable
from workers.core.ids import document_id
from workers.core.models import FeedItem
from workers.net import http
from workers.net.politeness import DomainGate, PolitenessDelay, domain_of
from workers.net.robots import RobotsRules
from workers.pipeline.fetch.page import fetch_page
from workers.settings import Settings


@pytest.fixture(scope="module")
def hosts(site: FixtureSite) -> Iterator[dict[str, str]]:
    """Two more "domains" of the same site: 127.0.0.2 and 127.0.0.3."""
    with served_on(site, "127.0.0.2") as second, served_on(site, "127.0.0.3") as third:
        yield {"127.0.0.2": second, "127.0.0.3": third}


@pytest.fixture
def rdb(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def polite(settings: Settings, **values: object) -> Settings:
    return settings.model_copy(update=values)


def item(url: str) -> FeedItem:
    return FeedItem(doc_id=document_id(url), url=url, feed_url="https://example.org/f.xml")


def in_threads(count: int, call: Callable[[int], object]) -> list[object]:
    """``call(i)`` for i in range(count), each from its own thread at once (a worker pool's threads); an
    exception is the outcome of its call."""
    outcomes: list[object] = [None] * count

    def one(i: int) -> None:
        try:
            outcomes[i] = call(i)
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def fetch_all(urls: list[str], settings: Settings, gates: list[DomainGate], client: httpx.Client) -> list[object]:
    """Fetch ``urls`` from one thread each, gates taken in turn (several gates = several workers)."""
    return in_threads(len(urls), lambda i: fetch_page(item(urls[i]), settings, client, gate=gates[i % len(gates)]))


def starts(site: FixtureSite, host: str, since: float, suffix: str = "") -> list[float]:
    """When requests to ``host`` (paths ending in ``suffix``) began, from ``since`` on."""
    with site.lock:
        return sorted(t for t, h, p in site.started if h == host and t >= since and p.endswith(suffix))


def test_rate_per_domain_is_shared_by_all_workers(site: FixtureSite, hosts: dict[str, str], settings: Settings,
                                                   rdb: redis.Redis, client: httpx.Client) -> None:
    settings = polite(settings, domain_min_interval_s=0.4, domain_max_concurrency=10, politeness_max_wait_s=10)
    gates = [DomainGate(rdb, settings), DomainGate(rdb, settings)]  # two workers, one Redis
    since = time.monotonic()
    outcomes = fetch_all([f"{hosts['127.0.0.2']}/hostile/slow/r{i}.html" for i in range(5)], settings, gates, client)
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    times = starts(site, "127.0.0.2", since)
    assert len(times) == 5
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) > 0.35, gaps  # 0.4 s apart, less the server's own scheduling noise


def test_concurrency_per_domain_and_domains_apart(site: FixtureSite, hosts: dict[str, str], settings: Settings,
                                                  rdb: redis.Redis, client: httpx.Client) -> None:
    settings = polite(settings, domain_min_interval_s=0, domain_max_concurrency=1, politeness_max_wait_s=10)
    gates = [DomainGate(rdb, settings), DomainGate(rdb, settings)]
    with site.lock:
        site.peak.clear()
    urls = [f"{hosts[h]}/hostile/slow/c{i}.html" for i in range(3) for h in ("127.0.0.2", "127.0.0.3")]
    started = time.monotonic()
    outcomes = fetch_all(urls, settings, gates, client)
    elapsed = time.monotonic() - started
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert site.peak["127.0.0.2"] == 1 and site.peak["127.0.0.3"] == 1
    # Three 0.3 s pages one after another per domain, the two domains side by side: ~0.9 s, not ~1.8 s.
    assert 0.85 < elapsed < 1.6, elapsed


def test_a_far_turn_is_handed_back_not_waited_for(hosts: dict[str, str], settings: Settings, site: FixtureSite,
                                                  rdb: redis.Redis, client: httpx.Client) -> None:
    settings = polite(settings, domain_min_interval_s=30, politeness_max_wait_s=0.5)
    gate = DomainGate(rdb, settings)
    first = f"{hosts['127.0.0.3']}/hostile/slow/far1.html"
    fetch_page(item(first), settings, client, gate=gate)
    before = site.hits["/hostile/slow/far2.html"]
    started = time.monotonic()
    with pytest.raises(PolitenessDelay) as info:
        fetch_page(item(f"{hosts['127.0.0.3']}/hostile/slow/far2.html"), settings, client, gate=gate)
    assert time.monotonic() - started < 0.3  # no pointless waiting for a turn that cannot come in time
    assert info.value.reason == "fetch.politeness_wait" and isinstance(info.value, Retryable)
    assert info.value.retry_after_s is not None and 25 < info.value.retry_after_s <= 30
    assert site.hits["/hostile/slow/far2.html"] == before


def test_a_dead_workers_place_frees_itself(hosts: dict[str, str], settings: Settings, rdb: redis.Redis) -> None:
    settings = polite(settings, domain_min_interval_s=0, domain_max_concurrency=1, politeness_max_wait_s=1.0)
    dead, alive = DomainGate(rdb, settings), DomainGate(rdb, settings)
    dead.lease_ms = 300
    url = f"{hosts['127.0.0.2']}/x"
    turn = dead.turn(url)
    turn.__enter__()  # a worker that took its place and died: never leaves the block
    started = time.monotonic()
    with alive.turn(url):
        waited = time.monotonic() - started
    assert 0.15 < waited < 0.9


def test_domains_group_subdomains() -> None:
    assert domain_of("https://www.bbc.co.uk/news/1") == domain_of("http://feeds.bbc.co.uk/x") == "bbc.co.uk"
    assert domain_of("http://127.0.0.2:8080/a") == "127.0.0.2"


# -- robots.txt --------------------------------------------------------------------------------------------


@pytest.fixture
def robots_on(site: FixtureSite) -> Iterator[dict[str, str]]:
    yield site.robots
    site.robots.clear()


def test_robots_disallow_is_final_and_fetched_once(site: FixtureSite, hosts: dict[str, str], settings: Settings,
                                                   rdb: redis.Redis, client: httpx.Client,
                                                   robots_on: dict[str, str]) -> None:
    robots_on["127.0.0.2"] = "User-agent: *\nDisallow: /private/\n\nUser-agent: newsworkers\nDisallow: /hostile/slow/no"
    rules = RobotsRules(rdb, client, settings)
    base = hosts["127.0.0.2"]
    before = site.hits["/robots.txt"]
    with pytest.raises(FetchError) as info:
        fetch_page(item(f"{base}/hostile/slow/no1.html"), settings, client, robots=rules)
    assert info.value.reason == "fetch.robots_disallowed" and not isinstance(info.value, Retryable)
    assert site.hits["/hostile/slow/no1.html"] == 0
    page = fetch_page(item(f"{base}/hostile/slow/yes1.html"), settings, client, robots=rules)
    assert page.status == 200
    # Another worker, the same Redis: the cached rules, no second download.
    other = RobotsRules(rdb, client, settings)
    with pytest.raises(FetchError):
        other.check(f"{base}/hostile/slow/no2.html")
    assert site.hits["/robots.txt"] == before + 1
    key = f"{settings.namespace}:robots:{base}/robots.txt"
    assert 0 < rdb.ttl(key) <= settings.robots_ttl_s
    # Switched off, the page is fetched.
    assert fetch_page(item(f"{base}/hostile/slow/no3.html"), settings, client).status == 200


def test_robots_rules_are_kept_in_the_process_between_pages(site: FixtureSite, hosts: dict[str, str],
                                                            settings: Settings, rdb: redis.Redis,
                                                            client: httpx.Client, robots_on: dict[str, str]) -> None:
    """A busy site's pages cost no Redis round trip each: the rules stay in the process for a minute."""
    robots_on["127.0.0.2"] = "User-agent: *\nDisallow: /private/"
    commands: list[str] = []

    class Counted(redis.Redis):  # the real client, counting what it sends
        def execute_command(self, *args: Any, **options: Any) -> Any:
            commands.append(str(args[0]))
            return super().execute_command(*args, **options)

    rules = RobotsRules(Counted(connection_pool=rdb.connection_pool), client, settings)
    base = hosts["127.0.0.2"]
    rules.check(f"{base}/a.html")
    assert commands == ["GET", "SET"]  # the first page: not in Redis yet, downloaded and shared
    for n in range(20):
        rules.check(f"{base}/{n}.html")
    with pytest.raises(FetchError):
        rules.check(f"{base}/private/x.html")
    assert commands == ["GET", "SET"]
    assert RobotsRules(Counted(connection_pool=rdb.connection_pool), client, settings).check(f"{base}/b.html") is None
    assert commands == ["GET", "SET", "GET"]  # another process reads the shared copy


def test_robots_missing_allows_and_unreachable_defers(hosts: dict[str, str], settings: Settings,
                                                      rdb: redis.Redis, client: httpx.Client,
                                                      robots_on: dict[str, str]) -> None:
    rules = RobotsRules(rdb, client, settings)
    rules.check(f"{hosts['127.0.0.3']}/hostile/slow/any.html")  # 404 robots.txt: no rules
    # A robots.txt that answers 5xx, or a site that cannot be reached, means "closed for now" (RFC 9309).
    robots_on["127.0.0.2"] = "HTTP 503"
    with pytest.raises(FetchError) as info:
        rules.check(f"{hosts['127.0.0.2']}/hostile/slow/any.html")
    assert info.value.reason == "fetch.robots_unavailable" and isinstance(info.value, Retryable)
    assert info.value.retry_after_s
    # A site that refuses the connection is no robots outcome: the page fails as the host does, and is
    # retried on the ordinary short schedule rather than held back for minutes.
    with pytest.raises(FetchError) as refused:
        rules.check("http://127.0.0.4:1/any.html")
    assert refused.value.reason == "fetch.connect" and isinstance(refused.value, Retryable)
    assert refused.value.retry_after_s is None and refused.value.url == "http://127.0.0.4:1/any.html"
    assert "127.0.0.4:1 cannot be reached" in str(refused.value)


def test_user_agent_names_a_contact(site: FixtureSite, settings: Settings, client: httpx.Client) -> None:
    fetch_page(item(site.url("/articles/nairobi-drought.html")), settings, client)
    agent = site.seen_headers["/articles/nairobi-drought.html"]["user-agent"]
    assert agent == settings.user_agent and "+http" in agent


def test_user_agent_is_a_setting(tmp_path: Path, site: FixtureSite) -> None:
    settings = Settings(data_dir=tmp_path, user_agent="acme-monitor/2.0 (+https://acme.example/bot; ops@acme.example)")
    with http.make_client(settings, timeout_s=2.0) as custom:
        fetch_page(item(site.url("/articles/lima-election.html")), settings, custom)
    assert site.seen_headers["/articles/lima-election.html"]["user-agent"].startswith("acme-monitor/2.0")


def test_retry_after_pauses_the_domain_for_every_worker(hosts: dict[str, str], settings: Settings,
                                                        rdb: redis.Redis, client: httpx.Client,
                                                        site: FixtureSite) -> None:
    settings = polite(settings, domain_min_interval_s=0, politeness_max_wait_s=1.0)
    gate, other_worker = DomainGate(rdb, settings), DomainGate(rdb, settings)
    with pytest.raises(FetchError) as info:
        fetch_page(item(f"{hosts['127.0.0.3']}/hostile/status/429"), settings, client, gate=gate)
    assert info.value.reason == "fetch.http_429" and info.value.retry_after_s == 7.0
    before = site.hits["/hostile/slow/after429.html"]
    with pytest.raises(PolitenessDelay) as delay:
        fetch_page(item(f"{hosts['127.0.0.3']}/hostile/slow/after429.html"), settings, client, gate=other_worker)
    assert 6.0 < (delay.value.retry_after_s or 0) <= 7.0
    assert site.hits["/hostile/slow/after429.html"] == before
    fetch_page(item(f"{hosts['127.0.0.2']}/hostile/slow/after429.html"), settings, client, gate=other_worker)


def test_robots_of_the_site_redirected_to_is_obeyed(site: FixtureSite, hosts: dict[str, str], settings: Settings,
                                                    rdb: redis.Redis, client: httpx.Client,
                                                    robots_on: dict[str, str]) -> None:
    # A feed links a tracking redirect on one site; the article sits on another, whose robots.txt says no.
    robots_on["127.0.0.3"] = "User-agent: *\nDisallow: /hostile/slow/tracked"
    target = f"{hosts['127.0.0.3']}/hostile/slow/tracked.html"
    link = f"{hosts['127.0.0.2']}/hostile/redirect?code=302&to={target}"
    with pytest.raises(FetchError) as info:
        fetch_page(item(link), settings, client, robots=RobotsRules(rdb, client, settings))
    assert info.value.reason == "fetch.robots_disallowed"
    assert site.hits["/hostile/slow/tracked.html"] == 0
