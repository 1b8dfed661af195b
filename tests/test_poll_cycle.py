"""The poll cycle against a real Redis and the real fixture HTTP server: what a poll
enqueues, records and schedules (304s, redirects, errors, Retry-After, dedupe,
corrections, collections, legacy ids)."""

from __future__ import annotations

import json
import time
import uuid
from email.utils import formatdate
from typing import Any

import pytest
import redis

from tests.site import Canned, FixtureSite, rss
from workers.core.errors import FeedError
from workers.core.ids import document_id
from workers.core.models import Feed
from workers.pipeline.poll.cycle import record_failure, run_poll
from workers.runtime import Runtime
from workers.settings import Settings


class Sent(list[dict[str, Any]]):
    """What the cycle handed to the fetch queue."""

    def __call__(self, item_json: dict[str, Any]) -> None:
        self.append(item_json)


def _canned(site: FixtureSite, canned: Canned) -> str:
    name = uuid.uuid4().hex[:12]
    site.dynamic[name] = canned
    return site.url(f"/dyn/{name}")


def _register(rt: Runtime, url: str, **kwargs: Any) -> Feed:
    feed = Feed(url=url, **kwargs)
    rt.registry.add(feed)
    return feed


def test_a_304_costs_one_read_and_one_write(runtime: Runtime, site: FixtureSite, redis_url: str) -> None:
    url = _canned(site, Canned(body=rss("Etags", [("One", "https://a.example/1"), ("Two", "https://a.example/2")]),
                               etag='"v1"'))
    feed, sent = _register(runtime, url), Sent()
    first = run_poll(runtime, feed, sent)
    assert (first["status"], first["new"], len(sent)) == (200, 2, 2)

    counter = redis.Redis.from_url(redis_url)
    before = counter.info("commandstats")
    second = run_poll(runtime, feed, sent)
    after = counter.info("commandstats")
    counter.close()
    calls = {k.removeprefix("cmdstat_"): after[k]["calls"] - before.get(k, {"calls": 0})["calls"] for k in after}
    assert second["status"] == 304 and second["new"] == 0 and len(sent) == 2
    # Two round trips: HGETALL of the state, then one pipeline of HSET, the schedule script and HINCRBY.
    # No per-item work (SISMEMBER, HMGET, claims) and no SCRIPT EXISTS.
    assert (calls["hgetall"], calls["hset"], calls["evalsha"], calls["hincrby"]) == (1, 1, 1, 1), calls
    assert not any(calls.get(c) for c in ("script", "sismember", "hmget", "hget", "evalsha_ro", "smembers")), calls
    state = runtime.registry.state(url)
    assert state.last_status == 304 and state.etag == '"v1"' and state.items_total == 2

    # A new ETag with a new item: only that one is sent.
    site.dynamic[url.rsplit("/", 1)[1]] = Canned(
        body=rss("Etags", [("Three", "https://a.example/3"), ("One", "https://a.example/1")]), etag='"v2"')
    third = run_poll(runtime, feed, sent)
    assert (third["status"], third["new"]) == (200, 1)
    assert [s["url"] for s in sent][-1] == "https://a.example/3"
    assert runtime.registry.state(url).etag == '"v2"'


@pytest.mark.parametrize(("status", "as_date"), [(429, False), (503, True)])
def test_retry_after_is_honoured(runtime: Runtime, site: FixtureSite, status: int, as_date: bool) -> None:
    retry_after = formatdate(time.time() + 7200, usegmt=True) if as_date else "7200"
    url = _canned(site, Canned(status=status, body="slow down", content_type="text/plain",
                               headers={"Retry-After": retry_after}))
    feed = _register(runtime, url)
    before = time.time()
    outcome = run_poll(runtime, feed, Sent())
    assert outcome["reason"] == f"feed.http_{status}"
    next_poll = runtime.registry.next_poll_at(url)
    assert next_poll is not None and next_poll >= before + 7200 - 2  # an HTTP date has whole seconds
    assert next_poll <= before + 7200 * (1 + runtime.settings.poll_jitter_ratio) + 60
    state = runtime.registry.state(url)
    assert (state.error_streak, state.last_status, state.last_reason) == (1, status, f"feed.http_{status}")


@pytest.mark.parametrize(("status", "reason"), [(404, "feed.http_404"), (500, "feed.http_500")])
def test_errors_back_off_exponentially_and_never_stop(runtime: Runtime, site: FixtureSite, status: int,
                                                      reason: str) -> None:
    settings = runtime.settings
    url = _canned(site, Canned(status=status, body="no", content_type="text/plain"))
    feed = _register(runtime, url)
    delays = []
    for streak in range(1, 12):
        before = time.time()
        assert run_poll(runtime, feed, Sent())["reason"] == reason
        delays.append((runtime.registry.next_poll_at(url) or 0) - before)
        assert runtime.registry.state(url).error_streak == streak
    base = settings.poll_interval_s
    assert base <= delays[0] <= base * (1 + settings.poll_jitter_ratio) + 1
    assert base * 2 <= delays[1] <= base * 2 * (1 + settings.poll_jitter_ratio) + 1
    ceiling = settings.feed_error_backoff_max_s
    assert ceiling <= delays[-1] <= ceiling * (1 + settings.poll_jitter_ratio) + 1  # capped, still scheduled
    assert runtime.registry.state(url).last_status == status


def test_gone_feed_stops_until_added_again(runtime: Runtime, site: FixtureSite) -> None:
    url = _canned(site, Canned(status=410, body="gone", content_type="text/plain"))
    feed = _register(runtime, url)
    assert run_poll(runtime, feed, Sent())["reason"] == "feed.http_410"
    assert runtime.registry.next_poll_at(url) is None
    assert runtime.registry.state(url).gone
    assert runtime.registry.get(url) is not None  # still listed, with its reason
    runtime.registry.add(Feed(url=url))
    assert runtime.registry.next_poll_at(url) is not None
    assert not runtime.registry.state(url).gone


@pytest.mark.parametrize(("status", "moves"), [(301, True), (308, True), (302, False), (307, False)])
def test_permanent_redirects_move_the_feed(runtime: Runtime, site: FixtureSite, status: int, moves: bool) -> None:
    target = _canned(site, Canned(body=rss("Moved", [("One", "https://m.example/1")])))
    old = _canned(site, Canned(status=status, headers={"Location": target}, content_type="text/plain"))
    _register(runtime, old, title="Old name", collections=["Nigeria"])
    outcome = run_poll(runtime, runtime.registry.get(old) or Feed(url=old), Sent())
    assert outcome["new"] == 1
    registered = {f.url: f for f in runtime.registry.all()}
    if moves:
        assert outcome["moved_to"] == target
        assert set(registered) == {target}
        assert registered[target].collections == ["Nigeria"] and registered[target].title == "Old name"
        assert runtime.registry.state(target).items_total == 1
        assert runtime.registry.next_poll_at(target) is not None
        assert runtime.registry.next_poll_at(old) is None
    else:
        assert "moved_to" not in outcome
        assert set(registered) == {old}


@pytest.mark.parametrize(("codes", "moves"), [((301, 302), False), ((302, 301), False), ((301, 308), True)])
def test_a_feed_moves_only_through_a_chain_of_permanent_redirects(runtime: Runtime, site: FixtureSite,
                                                                  codes: tuple[int, int], moves: bool) -> None:
    target = _canned(site, Canned(body=rss("Moved", [("One", "https://m.example/1")])))
    middle = _canned(site, Canned(status=codes[1], headers={"Location": target}, content_type="text/plain"))
    old = _canned(site, Canned(status=codes[0], headers={"Location": middle}, content_type="text/plain"))
    _register(runtime, old)
    outcome = run_poll(runtime, runtime.registry.get(old) or Feed(url=old), Sent())
    assert outcome["new"] == 1
    registered = {f.url for f in runtime.registry.all()}
    # The whole chain permanent: the feed moves to its last target, never to the middle hop.
    assert (outcome.get("moved_to"), registered) == ((target, {target}) if moves else (None, {old}))


def test_json_feed_over_http(runtime: Runtime, site: FixtureSite) -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1", "title": "JSON Daily",
        "items": [
            {"id": "1", "url": "https://j.example/a?utm_source=json", "title": "A", "content_html": "<p>Full</p>",
             "date_published": "2024-05-01T10:00:00+02:00", "authors": [{"name": "Ada"}], "tags": ["x"],
             "image": "https://j.example/a.jpg"},
            {"id": "2", "external_url": "https://j.example/b", "content_text": "B text",
             "author": {"name": "Bob"}},
            {"id": "3", "content_text": "no link: nothing to fetch"},
        ],
    }
    url = _canned(site, Canned(body=json.dumps(document), content_type="application/feed+json"))
    sent = Sent()
    run_poll(runtime, _register(runtime, url, collections=["Tech"]), sent)
    first, second = sent
    assert first["doc_id"] == document_id("https://j.example/a")
    assert (first["title"], first["content_html"], first["authors"], first["tags"]) == ("A", "<p>Full</p>",
                                                                                       ["Ada"], ["x"])
    assert first["image_url"] == "https://j.example/a.jpg"
    assert first["published_at"].startswith("2024-05-01T08:00:00")
    assert first["collections"] == ["Tech"]
    assert (second["url"], second["authors"], second["content_html"]) == ("https://j.example/b", ["Bob"], "B text")
    assert runtime.registry.state(url).title == "JSON Daily"


RICH_ITEM = """<item><title>Rich</title><link>https://r.example/story</link>
<dc:creator>Jane Doe</dc:creator><content:encoded><![CDATA[<p>The whole story.</p>]]></content:encoded>
<media:content url="https://r.example/big.jpg" medium="image"/>
<enclosure url="https://r.example/cast.mp3" type="audio/mpeg" length="1"/></item>
<item><title>Thumb</title><link>https://r.example/thumb</link>
<media:thumbnail url="https://r.example/small.jpg"/></item>
<item><title>Enclosed</title><link>https://r.example/encl</link>
<enclosure url="https://r.example/photo.png" type="image/png" length="1"/></item>"""


def test_rss_extensions_and_ttl(runtime: Runtime, site: FixtureSite) -> None:
    body = ('<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/">'
            f"<channel><title>Rich</title><ttl>180</ttl>{RICH_ITEM}</channel></rss>")
    url = _canned(site, Canned(body=body))
    sent = Sent()
    before = time.time()
    run_poll(runtime, _register(runtime, url), sent)
    rich, thumb, enclosed = sent
    assert rich["authors"] == ["Jane Doe"]
    assert rich["content_html"] == "<p>The whole story.</p>"
    assert rich["image_url"] == "https://r.example/big.jpg"
    assert thumb["image_url"] == "https://r.example/small.jpg"
    assert enclosed["image_url"] == "https://r.example/photo.png"
    # <ttl>180</ttl>: three hours between polls at least (under the 4-hour maximum).
    assert (runtime.registry.next_poll_at(url) or 0) >= before + 180 * 60
    assert runtime.registry.state(url).hint_s == 180 * 60


def test_cache_control_max_age_is_a_floor(runtime: Runtime, site: FixtureSite) -> None:
    url = _canned(site, Canned(body=rss("Cached", [("A", "https://c.example/a")]),
                               headers={"Cache-Control": "public, max-age=5400"}))
    before = time.time()
    run_poll(runtime, _register(runtime, url), Sent())
    assert (runtime.registry.next_poll_at(url) or 0) >= before + 5400


def test_tracking_variants_and_guids_are_one_item(runtime: Runtime, site: FixtureSite) -> None:
    items = [("A", "https://d.example/a?utm_source=rss&utm_medium=feed"), ("A again", "https://D.example/a#top"),
             ("A fb", "https://d.example/a?fbclid=XYZ"), ("B", "https://d.example/b?id=7&gclid=1")]
    url = _canned(site, Canned(body=rss("Dupes", items)))
    sent = Sent()
    run_poll(runtime, _register(runtime, url), sent)
    assert [s["doc_id"] for s in sent] == [document_id("https://d.example/a"), document_id("https://d.example/b?id=7")]

    # Another feed links a tracking variant of the same article: not fetched twice.
    other = _canned(site, Canned(body=rss("Other", [("A", "https://d.example/a?utm_campaign=x")])))
    assert run_poll(runtime, _register(runtime, other), sent)["new"] == 0

    # Same GUID under a URL no normalizer can relate (a new slug, a ?ref=): the same document.
    guid = "<guid isPermaLink='false'>story-42</guid>"
    site.dynamic[url.rsplit("/", 1)[1]] = Canned(body=rss("Dupes", [("G", "https://d.example/g")], item_extra=guid))
    run_poll(runtime, runtime.registry.get(url) or Feed(url=url), sent)
    site.dynamic[url.rsplit("/", 1)[1]] = Canned(
        body=rss("Dupes", [("G", "https://d.example/g-renamed?ref=home")], item_extra=guid))
    assert run_poll(runtime, runtime.registry.get(url) or Feed(url=url), sent)["new"] == 0
    assert [s["url"] for s in sent][-1] == "https://d.example/g"


def test_an_item_indexed_under_its_v1_id_keeps_it(runtime: Runtime, site: FixtureSite) -> None:
    link = "https://l.example/story?utm_source=rss"
    legacy = document_id(link, 1)
    assert legacy != document_id(link)
    runtime.tracker.finish([legacy])  # indexed before the upgrade, under the id of the URL with its parameters
    url = _canned(site, Canned(body=rss("Legacy", [("Story", link)])))
    sent = Sent()
    assert run_poll(runtime, _register(runtime, url), sent)["new"] == 0  # the same document: nothing to fetch
    assert not runtime.tracker.is_seen(document_id(link))
    # Corrected later: fetched again under its legacy id and version, so extract updates that document.
    site.dynamic[url.rsplit("/", 1)[1]] = Canned(body=rss("Legacy", [("Story, corrected", link)]))
    assert run_poll(runtime, runtime.registry.get(url) or Feed(url=url), sent)["corrected"] == 1
    [item] = sent
    assert (item["doc_id"], item["id_version"]) == (legacy, 1)


def test_corrections_are_sent_again_under_the_same_id(runtime: Runtime, site: FixtureSite) -> None:
    desc = "<description>{}</description><pubDate>Tue, 02 Mar 2021 09:00:00 +0000</pubDate>"
    url = _canned(site, Canned(body=rss("News", [("Story", "https://n.example/s")], item_extra=desc.format("v1"))))
    feed, sent = _register(runtime, url), Sent()
    run_poll(runtime, feed, sent)
    doc_id = sent[0]["doc_id"]
    runtime.tracker.finish([doc_id])  # indexed
    assert run_poll(runtime, feed, sent)["corrected"] == 0  # unchanged: nothing
    site.dynamic[url.rsplit("/", 1)[1]] = Canned(
        body=rss("News", [("Story", "https://n.example/s")], item_extra=desc.format("v2: corrected figures")))
    outcome = run_poll(runtime, feed, sent)
    assert (outcome["new"], outcome["corrected"]) == (0, 1)
    assert sent[-1]["doc_id"] == doc_id and "corrected" in sent[-1]["summary"]
    assert len(sent) == 2
    assert run_poll(runtime, feed, sent)["corrected"] == 0  # in flight now; and once seen again, unchanged


def test_feed_errors_recorded_through_record_failure_keep_the_feed(runtime: Runtime) -> None:
    url = "https://x.example/feed"
    _register(runtime, url)
    record_failure(runtime, url, FeedError("boom", reason="feed.connect", retry_after_s=None))
    record_failure(runtime, url, RuntimeError("a bug"))
    state = runtime.registry.state(url)
    assert (state.error_streak, state.last_reason) == (2, "feed.crash")
    assert runtime.registry.next_poll_at(url) is not None


def test_a_redis_that_forgot_the_schedule_script_still_schedules(runtime: Runtime, site: FixtureSite) -> None:
    url = _canned(site, Canned(body=rss("Flush", [("A", "https://f.example/a")])))
    feed = _register(runtime, url)
    run_poll(runtime, feed, Sent())
    runtime.redis.script_flush()  # what a restarted Redis looks like to a long-lived worker
    runtime.redis.zrem(runtime.keys.schedule, url)
    run_poll(runtime, feed, Sent())
    assert runtime.registry.next_poll_at(url) is not None


def test_a_broken_feed_yields_its_items_and_records_the_problem(runtime: Runtime, site: FixtureSite) -> None:
    broken = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Broken &nbsp; feed</title>'
              "<item><title>One</title><link>https://b.example/1</link></item>"
              "<item><title>Two &amp; <b>bold</title><link>https://b.example/2</link></item>")  # unclosed, cut
    url = _canned(site, Canned(body=broken))
    sent = Sent()
    outcome = run_poll(runtime, _register(runtime, url), sent)
    assert outcome["new"] == 2 and [s["url"] for s in sent] == ["https://b.example/1", "https://b.example/2"]
    state = runtime.registry.state(url)
    assert state.error_streak == 0 and state.last_reason is None
    assert state.last_error and "SAXParseException" in state.last_error


def test_a_feed_that_comes_back_is_polled_normally_again(runtime: Runtime, site: FixtureSite) -> None:
    url = _canned(site, Canned(status=503, body="down", content_type="text/plain"))
    feed = _register(runtime, url)
    for _ in range(3):
        run_poll(runtime, feed, Sent())
    assert runtime.registry.state(url).error_streak == 3
    site.dynamic[url.rsplit("/", 1)[1]] = Canned(body=rss("Back", [("A", "https://back.example/a")]))
    before = time.time()
    assert run_poll(runtime, feed, Sent())["new"] == 1
    state = runtime.registry.state(url)
    assert (state.error_streak, state.last_reason, state.last_error, state.last_status) == (0, None, None, 200)
    interval = runtime.settings.poll_interval_s * (1 + runtime.settings.poll_jitter_ratio)
    assert (runtime.registry.next_poll_at(url) or 0) <= before + interval + 1


def _guid_rss(numbers: list[int], *, text: str = "first") -> str:
    """RSS whose entry n has GUID 'entry-n' and a link with a tracking parameter courlan drops."""
    entries = "".join(f"<item><title>E{n}</title><link>https://b.example/{n}?utm_source=rss</link>"
                      f"<guid isPermaLink='false'>entry-{n}</guid><description>{text} {n}</description></item>"
                      for n in numbers)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bounded</title>{entries}</channel></rss>'


def _remembered(rt: Runtime, feed_url: str) -> set[tuple[str, str | None]]:
    """(document id, revision) of each entry the feed's entry memory holds."""
    return {(entry.doc_id, entry.revision) for entry in rt.entries.read(feed_url).values()}


def test_guid_and_revision_memory_is_bounded_to_recent_entries(settings: Settings, site: FixtureSite) -> None:
    rt = Runtime(settings.model_copy(update={"feed_item_memory_s": 1}))
    try:
        url = _canned(site, Canned(body=_guid_rss([1, 2, 3])))
        feed, sent = _register(rt, url), Sent()
        assert run_poll(rt, feed, sent)["new"] == 3
        rt.tracker.finish([s["doc_id"] for s in sent])  # indexed
        assert _remembered(rt, url) == {(s["doc_id"], s["revision"]) for s in sent}
        for rotation in ([3, 4, 5], [5, 6, 7]):  # entries leave the feed, one stays listed across each poll
            time.sleep(1.2)
            site.dynamic[url.rsplit("/", 1)[1]] = Canned(body=_guid_rss(rotation))
            assert run_poll(rt, feed, sent)["new"] == 2  # the one still listed is not fetched again
            rt.tracker.finish([s["doc_id"] for s in sent])
            # Only what this document lists is left: the entries gone for longer than the window are forgotten.
            assert _remembered(rt, url) == {(s["doc_id"], s["revision"]) for s in sent[-3:]}
            assert rt.entries.count(url) == 3
        assert [s["guid"] for s in sent] == [f"entry-{n}" for n in range(1, 8)]
        # An entry kept in memory still has its revision: a correction to it is still noticed.
        site.dynamic[url.rsplit("/", 1)[1]] = Canned(body=_guid_rss([5, 6, 7], text="corrected"))
        assert run_poll(rt, feed, sent)["corrected"] == 3
        # A forgotten entry that comes back is still known by its document id: not fetched again.
        site.dynamic[url.rsplit("/", 1)[1]] = Canned(body=_guid_rss([1], text="first"))
        assert run_poll(rt, feed, sent)["new"] == 0
        assert len(sent) == 7 + 3
    finally:
        rt.close()


def test_an_item_whose_message_could_not_be_sent_is_given_back_for_the_next_poll(
    runtime: Runtime, site: FixtureSite
) -> None:
    from kombu.exceptions import OperationalError

    url = _canned(site, Canned(body=rss("Unsent", [("One", "https://u.example/1"), ("Two", "https://u.example/2")])))
    feed, sent = _register(runtime, url), Sent()

    def broker_away(item_json: dict[str, Any]) -> None:
        if len(sent) == 1:
            raise OperationalError("the broker could not be reached")
        sent(item_json)

    with pytest.raises(OperationalError):
        run_poll(runtime, feed, broker_away)
    assert len(sent) == 1 and runtime.tracker.inflight_count() == 1  # the unsent one is not left claimed
    again = run_poll(runtime, feed, sent)
    assert again["new"] == 1 and len(sent) == 2
    assert {i["url"] for i in sent} == {"https://u.example/1", "https://u.example/2"}
