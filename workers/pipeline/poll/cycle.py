"""One poll of a feed as it touches Redis: which items are new or corrected,
the feed's state, and when it is polled next.

The poll stage (:mod:`workers.pipeline.poll.feed`) fetches and parses; this module decides.
It is free of Celery: the caller passes ``enqueue`` (the fetch task's send),
so the poll task and the benchmark run the same code.

- Dedupe: an item is known by its document id (canonical URL, id version 2)
  and, within its feed, by its GUID: the first document id seen for a GUID
  is kept, so a tracking variant that courlan cannot see is not fetched
  again (a correction of it is fetched from the URL its document was
  indexed with). An item indexed under a legacy (version 1) id keeps it
  (see :mod:`workers.core.ids`).
- Corrections: an item already seen whose revision (hash of its updated date
  and content) changed in the same feed is made in flight again and fetched into the same
  document id; the index upserts by id, so it is updated in place.
- A 304 costs one read of the feed's state and one pipelined write: no parse,
  no per-item work.
- Failures back off per feed (:mod:`workers.pipeline.poll.schedule`); 410 Gone stops
  polling (until ``feeds add`` again); a permanent redirect moves the feed,
  state and all, to its new URL.
- Politeness: the poll task downloads within its domain's turn, shared with
  the domain's pages (:class:`workers.net.politeness.DomainGate`); a turn too far
  off holds the poll in the delayed set (:func:`poll_or_hold`), not an error.
- Back-pressure: while the fetch and extract backlog is above its high-water mark a poll is held the
  same way, without touching the feed (:mod:`workers.pipeline.poll.backpressure`).
- GUID aliases and revisions are remembered per feed, for a bounded time
  after their entry leaves it (:mod:`workers.state.entries`).
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Callable
from typing import Any

from redis.client import Pipeline
from redis.exceptions import NoScriptError

from workers.broker.outage import retry_through_outage
from workers.core.errors import FeedError, NewsworkersError
from workers.core.ids import id_candidates
from workers.core.logs import get_logger
from workers.core.models import Feed, FeedItem
from workers.core.stages import POLL_TASK
from workers.net.politeness import DomainGate, PolitenessDelay
from workers.pipeline.poll.backpressure import BackPressure
from workers.pipeline.poll.feed import PollResult, poll_feed
from workers.pipeline.poll.schedule import adapt_interval, failure_delay, jittered
from workers.runtime import Runtime
from workers.state.blocklist import drop_blocked_items
from workers.state.entries import Entry, entry_field
from workers.state.registry import FeedState

__all__ = ["hold_poll", "poll_or_hold", "record_failure", "run_poll"]

# A held poll keeps its feed's schedule entry leased this long past its due time, like the scheduler's claim,
# so the scheduler does not hand out a second poll of the feed while this one waits in the delayed set.
_HELD_LEASE_S = 600.0

Enqueue = Callable[[dict[str, Any]], None]

log = get_logger(__name__)


def poll_or_hold(runtime: Runtime, feed: Feed, enqueue: Enqueue, *, gate: DomainGate,
                 rng: random.Random | None = None) -> dict[str, Any]:
    """:func:`run_poll` within the feed's domain turn; a turn too far off holds the poll until then, and
    so does back-pressure (:mod:`workers.pipeline.poll.backpressure`) while fetch and extract are behind.

    Held is not failed: no error streak, no backoff, nothing requested from the host.
    """
    pressure = BackPressure(runtime).check()
    if pressure.held:
        due_at = time.time() + runtime.settings.backpressure_retry_s
        hold_poll(runtime, feed, due_at=due_at)
        return {"feed": feed.url, "status": "held", "due_at": due_at, "reason": "backpressure",
                "backlog": pressure.backlog}
    try:
        return run_poll(runtime, feed, enqueue, rng=rng, gate=gate)
    except PolitenessDelay as exc:
        due_at = time.time() + (exc.retry_after_s or 1.0)
        hold_poll(runtime, feed, due_at=due_at)
        return {"feed": feed.url, "status": "held", "due_at": due_at}


def hold_poll(runtime: Runtime, feed: Feed, *, due_at: float) -> None:
    """Send the poll of ``feed`` again at ``due_at`` from the delayed set (never a broker countdown)."""
    runtime.delayed.hold(POLL_TASK, [feed.model_dump(mode="json")], due_at=due_at)
    pipe = runtime.redis.pipeline(transaction=False)
    # Still under way: `run --once` waits for it, and the lost-poll check does not count it lost.
    pipe.zadd(runtime.keys.pending_polls, {feed.url: due_at})
    pipe.zadd(runtime.keys.schedule, {feed.url: due_at + _HELD_LEASE_S}, xx=True)  # xx: never revive a 410
    pipe.hincrby(runtime.keys.stats, "poll.held", 1)
    pipe.execute()


def run_poll(runtime: Runtime, feed: Feed, enqueue: Enqueue, *, rng: random.Random | None = None,
             gate: DomainGate | None = None) -> dict[str, Any]:
    """Poll ``feed`` once: enqueue its new and corrected items, record its state, schedule the next poll.

    With a ``gate`` the download waits for its domain's turn, or raises
    :class:`~workers.net.politeness.PolitenessDelay` (nothing recorded) when that is too far off.
    """
    registry, now = runtime.registry, time.time()
    state = registry.state(feed.url)
    try:
        result: PollResult = poll_feed(feed, state, runtime.settings, runtime.feed_client, gate=gate,
                                       archive=runtime.archive)
    except FeedError as exc:
        record_failure(runtime, feed.url, exc, rng=rng)
        return {"feed": feed.url, "status": "failed", "reason": exc.reason}
    new = corrected = 0
    pipe = runtime.redis.pipeline(transaction=False)
    if not result.not_modified:
        new, corrected = _take_items(runtime, feed.url, result.items, enqueue, pipe, now=now)
        state.hint_s = result.feed_hint_s
        state.title = result.title or state.title
    elapsed = now - state.last_ok_at if state.last_ok_at else None
    hints = [h for h in (result.max_age_s, state.hint_s) if h]
    state.rate_per_s, state.interval_s = adapt_interval(
        runtime.settings, rate_per_s=state.rate_per_s, interval_s=state.interval_s, new_items=new,
        elapsed_s=elapsed, hint_s=max(hints) if hints else None,
    )
    state.etag, state.last_modified = result.etag, result.last_modified
    state.last_polled_at = state.last_ok_at = now
    if not result.not_modified or state.error_streak:
        state.last_error = result.problem  # a broken ("bozo") feed that still gave items says what was wrong
    state.last_status, state.error_streak, state.last_reason = result.status, 0, None
    state.items_total += new
    registry.save_state(feed.url, state, pipe=pipe)
    next_poll = now + jittered(state.interval_s, runtime.settings, rng)
    registry.schedule(feed.url, next_poll, pipe=pipe)
    stats = runtime.keys.stats
    pipe.hincrby(stats, "poll.not_modified" if result.not_modified else "poll.ok", 1)
    if new:
        pipe.hincrby(stats, "poll.items_new", new)
    if corrected:
        pipe.hincrby(stats, "poll.items_corrected", corrected)
    try:
        pipe.execute()
    except NoScriptError:  # Redis restarted and forgot the schedule script; the rest of the pipeline ran
        registry.schedule(feed.url, next_poll)
    outcome: dict[str, Any] = {"feed": feed.url, "status": result.status, "new": new, "corrected": corrected}
    if result.permanent_redirect and result.url != feed.url and not feed.local and registry.move(feed.url, result.url):
        log.info("feed moved permanently", url=feed.url, to=result.url)
        outcome["moved_to"] = result.url
    return outcome


def _take_items(runtime: Runtime, feed_url: str, items: list[FeedItem], enqueue: Enqueue, pipe: Pipeline, *,
                now: float) -> tuple[int, int]:
    """Claim and enqueue the new items, re-open and enqueue the corrected ones; (new, corrected).

    Every entry listed is remembered in its feed's entry memory (:mod:`workers.state.entries`), and the
    entries no longer listed for ``feed_item_memory_s`` are forgotten.
    """
    items = drop_blocked_items(runtime, items)  # takedowns (newsworkers delete --block) are never fetched again
    known = runtime.entries.read(feed_url)
    listed: dict[bytes, Entry] = {}
    try:
        if not items:
            return 0, 0
        return _decide(runtime, items, known, listed, enqueue, now=now)
    finally:
        runtime.entries.write(pipe, feed_url, known=known, listed=listed, now=now,
                              memory_s=runtime.settings.feed_item_memory_s)


def _decide(runtime: Runtime, items: list[FeedItem], known: dict[bytes, Entry], listed: dict[bytes, Entry],
            enqueue: Enqueue, *, now: float) -> tuple[int, int]:
    """:func:`_take_items` once the feed's entry memory is read; fills ``listed`` with what to remember."""
    tracker = runtime.tracker
    fields = [entry_field(item.guid, item.doc_id) for item in items]
    memory = [known.get(field) for field in fields]
    candidates: list[list[tuple[int, str]]] = []
    for item, entry in zip(items, memory, strict=True):
        if entry is not None:  # listed before, maybe under another URL (same GUID): it is that document
            item.id_version, item.doc_id = entry.id_version, entry.doc_id
            candidates.append([(entry.id_version, entry.doc_id)])
        else:
            candidates.append(id_candidates(item.url))
    every_id = [doc_id for options in candidates for _version, doc_id in options]
    seen_ids = runtime.seen_ids(every_id)
    inflight_scores = runtime.redis.zmscore(runtime.keys.inflight, every_id)
    answers = [answer for doc_id, score in zip(every_id, inflight_scores, strict=True)
               for answer in (doc_id in seen_ids, score)]
    corrected = 0
    unclaimed: list[tuple[FeedItem, dict[str, Any]]] = []  # claimed together, in one round trip, below
    for item, options, field, entry in zip(items, candidates, fields, memory, strict=True):
        known_as = None  # (version, id, seen) of the first id this item is already known under
        for (version, doc_id), (seen, inflight) in zip(options, _pairs(answers), strict=False):
            if seen or inflight is not None:
                known_as = (version, doc_id, bool(seen))
                break
        answers = answers[2 * len(options):]
        stored = entry.revision if entry is not None else None
        if known_as is not None and known_as[1] != item.doc_id:  # indexed under a legacy id: keep it
            item.id_version, item.doc_id = known_as[0], known_as[1]
        if known_as is None or not known_as[2]:
            unclaimed.append((item, item.model_dump(mode="json")))
        elif stored and item.revision and stored != item.revision:
            item.url = _indexed_url(runtime, item)
            item_json = item.model_dump(mode="json")
            tracker.reopen(item.doc_id, json.dumps(item_json))
            _enqueue(runtime, item, item_json, enqueue)
            corrected += 1
        listed[field] = Entry(doc_id=item.doc_id, id_version=item.id_version, revision=item.revision or stored,
                              listed_at=int(now))
    new = _claim_and_enqueue(runtime, unclaimed, enqueue)
    return new, corrected


def _indexed_url(runtime: Runtime, item: FeedItem) -> str:
    """The URL a corrected item's document was fetched from: its link may have changed under its GUID, and the
    document is fetched again from where it came (the entry memory keeps ids, not URLs, to stay small)."""
    if item.doc_id in {doc_id for _version, doc_id in id_candidates(item.url)}:
        return item.url
    return runtime.indexed_url(item.doc_id) or item.url


def _claim_and_enqueue(runtime: Runtime, unclaimed: list[tuple[FeedItem, dict[str, Any]]], enqueue: Enqueue) -> int:
    taken = runtime.tracker.claim_many([(item.doc_id, json.dumps(item_json)) for item, item_json in unclaimed])
    claimed = [pair for pair, ok in zip(unclaimed, taken, strict=True) if ok]
    for sent, (item, item_json) in enumerate(claimed):
        try:
            _enqueue(runtime, item, item_json, enqueue)
        except Exception:
            # The rest were claimed with this one and have no message either: give them back too.
            for later, _json in claimed[sent + 1:]:
                retry_through_outage(runtime.redis, functools.partial(runtime.tracker.release, later.doc_id))
            raise
    return len(claimed)


def _pairs(answers: list[Any]) -> list[tuple[Any, Any]]:
    return list(zip(answers[0::2], answers[1::2], strict=True))


def _enqueue(runtime: Runtime, item: FeedItem, item_json: dict[str, Any], enqueue: Enqueue) -> None:
    try:
        enqueue(item_json)
    except Exception:
        # Not sent: the next poll takes it again. A publish fails most often because Redis is away, and then
        # so would this: wait for it, or the item stays claimed with no message until the in-flight TTL.
        retry_through_outage(runtime.redis, lambda: runtime.tracker.release(item.doc_id))
        raise


def record_failure(runtime: Runtime, feed_url: str, exc: BaseException, *, rng: random.Random | None = None) -> None:
    """Record a failed poll on the feed; it is polled again, ever more slowly, never dropped (but for 410)."""
    settings, now, registry = runtime.settings, time.time(), runtime.registry
    reason = exc.reason if isinstance(exc, NewsworkersError) else "feed.crash"
    state: FeedState = registry.state(feed_url)
    state.last_polled_at = now
    state.error_streak += 1
    state.last_reason, state.last_error = reason, str(exc)[:1000]
    if reason.startswith("feed.http_") and reason[10:].isdigit():
        state.last_status = int(reason[10:])
    state.gone = reason == "feed.http_410"
    registry.save_state(feed_url, state)
    runtime.stats.incr("poll", "failed", reason=reason)
    if state.gone:
        registry.unschedule(feed_url)
        log.warning("feed is gone (410): no longer polled", url=feed_url)
        return
    retry_after = exc.retry_after_s if isinstance(exc, NewsworkersError) else None
    delay = jittered(failure_delay(settings, error_streak=state.error_streak, retry_after_s=retry_after), settings,
                     rng)
    registry.schedule(feed_url, now + delay)
    log.warning("feed failed", reason=reason, url=feed_url, error_streak=state.error_streak,
                retry_in_s=round(delay), error=str(exc)[:300])
