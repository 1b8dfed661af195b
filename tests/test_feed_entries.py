"""Each feed's entry memory (workers/state/entries.py) against a real Redis and the fixture server: packed
compactly, kept listpack-encoded, moved and removed with its feed, and upgraded from the layout of before."""

from __future__ import annotations

import json
import time
import uuid

from tests.site import Canned, FixtureSite
from workers.core.ids import document_id
from workers.core.models import Feed
from workers.pipeline.poll.cycle import run_poll
from workers.runtime import Runtime
from workers.state.entries import Entry, entry_field, upgrade_entry_memory


def _feed(site: FixtureSite, body: str) -> str:
    name = uuid.uuid4().hex[:12]
    site.dynamic[name] = Canned(body=body)
    return site.url(f"/dyn/{name}")


def _guid_rss(numbers: range, *, text: str = "first", link: str = "https://e.example/{n}") -> str:
    items = "".join(f"<item><title>E{n}</title><link>{link.format(n=n)}</link>"
                    f"<guid isPermaLink='false'>entry-{n}</guid><description>{text} {n}</description></item>"
                    for n in numbers)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Entries</title>{items}</channel></rss>'


def test_an_entry_packs_into_few_bytes_and_back() -> None:
    doc_id, revision = document_id("https://e.example/1"), "0123456789abcdef"
    entry = Entry(doc_id=doc_id, id_version=2, revision=revision, listed_at=int(time.time()))
    assert len(entry.pack()) == 6 + 16 + 8  # time, version, flags; the id and revision as bytes
    assert Entry.unpack(entry.pack()) == entry
    odd = Entry(doc_id="not-hex Ünïcode", id_version=1, revision=None, listed_at=0)
    assert Entry.unpack(odd.pack()) == odd
    assert len(entry_field("urn:x:1", doc_id)) == 8
    assert entry_field("urn:x:1", doc_id) != entry_field(None, doc_id)


def test_a_feed_of_twenty_entries_is_one_listpack_hash(runtime: Runtime, site: FixtureSite) -> None:
    url = _feed(site, _guid_rss(range(20), link="https://e.example/section/a-rather-long-slug-{n}?utm_source=rss"))
    runtime.registry.add(Feed(url=url))
    sent: list[dict[str, object]] = []
    assert run_poll(runtime, Feed(url=url), sent.append)["new"] == 20
    key = runtime.keys.feed_entries(url)
    assert runtime.redis.object("encoding", key) in ("listpack", "ziplist")  # ziplist: its name before Redis 7
    assert runtime.entries.count(url) == 20
    assert (runtime.redis.memory_usage(key) or 0) < 20 * 60  # about 40 bytes an entry, key and header included


def test_the_entry_memory_moves_and_goes_with_its_feed(runtime: Runtime, site: FixtureSite) -> None:
    url = _feed(site, _guid_rss(range(3)))
    runtime.registry.add(Feed(url=url))
    run_poll(runtime, Feed(url=url), lambda _item: None)
    moved = url + "-moved"
    assert runtime.registry.move(url, moved)
    assert (runtime.entries.count(url), runtime.entries.count(moved)) == (0, 3)
    assert runtime.registry.remove(moved)
    assert not runtime.redis.exists(runtime.keys.feed_entries(moved))


def test_the_memory_of_before_is_upgraded_into_the_feeds(runtime: Runtime, site: FixtureSite) -> None:
    """What earlier versions wrote (guids by host, revisions by document and feed, item-memory scores) is
    moved into the feed's hash: a renamed link under a known GUID is still that document, and a correction
    is noticed on the first poll after the upgrade."""
    url = _feed(site, _guid_rss(range(2)))
    runtime.registry.add(Feed(url=url))
    sent: list[dict[str, object]] = []
    run_poll(runtime, Feed(url=url), sent.append)
    runtime.tracker.finish([str(s["doc_id"]) for s in sent])
    # Rewrite what the poll stored as the layout of before, then drop the new one.
    client, keys, now = runtime.redis, runtime.keys, time.time()
    for item in sent:
        guid_field, revision_field = f"127.0.0.1 {item['guid']}", f"{item['doc_id']} {url}"
        client.hset(keys.guids, guid_field, json.dumps([2, item["doc_id"], item["url"]]))
        client.hset(keys.revisions, revision_field, str(item["revision"]))
        client.zadd(keys.item_memory, {f"g {guid_field}": now, f"r {revision_field}": now})
    client.delete(keys.feed_entries(url))

    assert upgrade_entry_memory(runtime.raw_redis, keys) == 2
    assert not client.exists(keys.guids, keys.revisions, keys.item_memory)
    assert upgrade_entry_memory(runtime.raw_redis, keys) == 0  # once is enough; again is harmless
    remembered = runtime.entries.read(url)
    assert {(e.doc_id, e.revision, e.listed_at) for e in remembered.values()} == {
        (s["doc_id"], s["revision"], int(now)) for s in sent}

    site.dynamic[url.rsplit("/", 1)[1]] = Canned(body=_guid_rss(range(2), link="https://e.example/renamed-{n}"))
    assert run_poll(runtime, Feed(url=url), sent.append)["new"] == 0  # known by its GUID: not fetched again
    site.dynamic[url.rsplit("/", 1)[1]] = Canned(body=_guid_rss(range(2), text="corrected",
                                                                link="https://e.example/renamed-{n}"))
    outcome = run_poll(runtime, Feed(url=url), sent.append)
    assert outcome["corrected"] == 2
    assert [s["doc_id"] for s in sent[-2:]] == [document_id(f"https://e.example/{n}") for n in range(2)]
