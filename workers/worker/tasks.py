"""Celery tasks: the thin layer that connects the queues to the stage functions.

Each task parses its message into the stage's typed input, calls the plain
stage function, records counters and hands the result to the next queue.
Failures go through :func:`workers.worker.middleware.retry_or_dead_letter`.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Celery, Task
from celery_batches import SimpleRequest

from workers.broker.outage import OUTAGE
from workers.core.errors import NewsworkersError
from workers.core.ids import document_id, pin_id_version
from workers.core.logs import get_logger
from workers.core.models import Article, Feed, FeedItem, FetchedPage
from workers.core.stages import EXTRACT_BATCH_TASK, EXTRACT_TASK, FETCH_TASK, INDEX_DELETE_TASK, INDEX_TASK, POLL_TASK
from workers.neardup.clusters import ClusterStore
from workers.net.politeness import PolitenessDelay
from workers.pipeline.extract.batch import extract_pages
from workers.pipeline.fetch.page import fetch_page
from workers.pipeline.index.batch import index_batch, index_payloads
from workers.pipeline.index.deletion import apply_deletion_message
from workers.pipeline.poll.cycle import poll_or_hold, record_failure
from workers.runtime import Runtime
from workers.state.blocklist import drop_blocked_articles, drop_blocked_page
from workers.worker.alert_tasks import AlertHooks, register_alert_tasks
from workers.worker.batches import TimedBatches
from workers.worker.middleware import (
    Counted,
    dead_letter,
    delivered,
    given_back_on_outage,
    poison_error,
    poisoned,
    retry_or_dead_letter,
)

__all__ = ["register_tasks"]

log = get_logger(__name__)


def register_tasks(app: Celery) -> None:
    # shared=False: each app's tasks close over that app's Runtime; Celery's default would hand
    # every later app the tasks of the first one (and its settings).
    runtime: Runtime = app.runtime  # type: ignore[attr-defined]
    settings = runtime.settings
    alerts = register_alert_tasks(app)  # the webhook task, and the matching each index batch ends with

    @app.task(name=POLL_TASK, bind=True, shared=False,
              counted=Counted("poll", key=lambda feed_json: str(feed_json.get("url")), on_poison=_poll_poisoned))
    def poll(self: Task, feed_json: dict[str, Any]) -> dict[str, Any]:
        url = str(feed_json.get("url"))
        held = False
        try:
            outcome = _poll(runtime, Feed.model_validate(feed_json), app)
            held = outcome.get("status") == "held"
            return outcome
        except OUTAGE:
            raise  # not the feed's fault: the poll goes back to the queue (workers/broker/outage.py)
        except Exception as exc:  # a bug of ours: on the feed's record (feed.crash), and in the worker log
            record_failure(runtime, url, exc)
            raise
        finally:
            if not held:  # a held poll is still under way, in the delayed set
                runtime.redis.zrem(runtime.keys.pending_polls, url)

    @app.task(name=FETCH_TASK, bind=True, shared=False,
              counted=Counted("fetch", key=lambda item_json: str(item_json["doc_id"]),
                              letter=lambda item_json: (str(item_json.get("url", "")), item_json)))
    def fetch(self: Task, item_json: dict[str, Any]) -> None:
        item = FeedItem.model_validate(item_json)
        try:
            if drop_blocked_page(runtime, item.doc_id, item.url):
                return  # a takedown: done quietly, never retried nor dead-lettered (see workers/state/blocklist.py)
            page = fetch_page(item, settings, runtime.page_client, gate=runtime.domain_gate, robots=runtime.robots,
                              archive=runtime.archive)
            if drop_blocked_page(runtime, item.doc_id, page.final_url):
                return
        except PolitenessDelay as exc:
            # The domain's turn is far off: held until then (never a broker countdown), without spending a retry.
            runtime.delayed.hold(fetch.name, [item_json], due_at=time.time() + (exc.retry_after_s or 1.0))
            runtime.stats.incr("fetch", "deferred")
            return
        except Exception as exc:
            retry_or_dead_letter(self, runtime, exc, stage="fetch", key=item.doc_id, url=item.url, payload=item_json)
            return
        runtime.stats.incr("fetch", "ok")
        extract_batch.apply_async((page.model_dump(mode="json"),))

    # acks_on_failure_or_timeout=False: a child killed by the hard time limit leaves its message unacked, so
    # it comes back and its delivery count makes it poison, instead of being acked and lost in flight. A page
    # that kills its worker child (a parser segfault, memory) comes back on worker loss; after a few
    # deliveries it is recorded instead of taking down child after child forever.
    @app.task(name=EXTRACT_TASK, bind=True, shared=False, time_limit=settings.extract_time_limit_s,
              soft_time_limit=max(1, settings.extract_time_limit_s - 10), acks_on_failure_or_timeout=False,
              counted=Counted("extract", key=lambda page_json: str(page_json["item"]["doc_id"]), letter=_page_letter))
    def extract(self: Task, page_json: dict[str, Any]) -> None:
        page = FetchedPage.model_validate(page_json)
        result = extract_pages([page], settings, runtime.ner, _clusters(runtime))[0]
        if isinstance(result, Exception):
            url, payload = _page_letter(page_json)
            retry_or_dead_letter(self, runtime, result, stage="extract", key=page.item.doc_id, url=url,
                                 payload=payload)
            return
        index.apply_async((_extracted(runtime, page, result),))

    # Pages in batches, so NER runs them through nlp.pipe. A page delivered before (its batch's child died)
    # or that failed here goes to the one-page task above, which owns poison detection, retries and dead letters.
    @app.task(name=EXTRACT_BATCH_TASK, base=TimedBatches, bind=True, shared=False,
              flush_every=settings.extract_batch_size, flush_interval=settings.extract_batch_interval_s,
              batch_time_limit_s=settings.extract_time_limit_s)
    def extract_batch(self: Task, requests: list[SimpleRequest]) -> None:
        # Copies of one message in one batch (a broker restart restores what was unacknowledged, perhaps more
        # than once) are one delivery of one page: extracted once, counted once.
        pages = list({p.item.doc_id: p for p in (FetchedPage.model_validate(r.args[0]) for r in requests)}.values())
        with given_back_on_outage(runtime, "extract-batch", [p.item.doc_id for p in pages]):
            _extract_batch(pages)

    def _extract_batch(pages: list[FetchedPage]) -> None:
        counts = runtime.tracker.count_deliveries("extract-batch", [p.item.doc_id for p in pages])
        seen = [count > 1 for count in counts]
        for page in (p for p, again in zip(pages, seen, strict=True) if again):
            extract.apply_async((page.model_dump(mode="json"),))
        fresh = [p for p, again in zip(pages, seen, strict=True) if not again]
        ok = from_feed = 0
        done: list[dict[str, Any]] = []
        for page, result in zip(fresh, extract_pages(fresh, settings, runtime.ner, _clusters(runtime)), strict=True):
            if isinstance(result, Exception):
                extract.apply_async((page.model_dump(mode="json"),))
            else:
                done.append(_extracted(runtime, page, result, count=False))
                ok, from_feed = ok + 1, from_feed + (result.extraction_error is not None)
        if done:  # the batch's articles in one index message: one publish, one consume, not one per article
            index.apply_async(({"batch": done},))
        # The batch's counters in one round trip each, not one per article.
        if ok:
            runtime.stats.incr("extract", "ok", ok)
        if from_feed:
            runtime.stats.incr("extract", "from_feed", from_feed)
        delivered(runtime, "extract-batch", *(p.item.doc_id for p in pages))

    @app.task(name=INDEX_TASK, base=TimedBatches, bind=True, shared=False,
              flush_every=settings.index_batch_messages, flush_interval=settings.index_flush_interval_s)
    def index(self: Task, requests: list[SimpleRequest]) -> None:
        _index_batch(runtime, index, requests, alerts)

    # Takedowns and pruning on the index queue, so the one process holding the Tantivy writer applies them.
    @app.task(name=INDEX_DELETE_TASK, bind=True, shared=False)
    def index_delete(self: Task, message: dict[str, Any]) -> None:
        apply_deletion_message(runtime, message)


def _poll_poisoned(runtime: Runtime, feed_json: dict[str, Any], error: NewsworkersError) -> dict[str, Any]:
    """A poll that keeps killing its worker: on the feed's record, where ``feeds status`` shows it."""
    url = str(feed_json.get("url"))
    record_failure(runtime, url, error)
    runtime.redis.zrem(runtime.keys.pending_polls, url)
    return {"feed": url, "status": "failed", "reason": error.reason}


def _page_letter(page_json: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What an extract dead letter keeps: the feed item (a retry fetches the page again), not the page."""
    item = FeedItem.model_validate(page_json.get("item"))
    return item.url, {"item": item.model_dump(mode="json"), "final_url": page_json.get("final_url")}


def _clusters(runtime: Runtime) -> ClusterStore | None:
    return runtime.clusters if runtime.settings.near_dup_enabled else None


def _extracted(runtime: Runtime, page: FetchedPage, article: Article, *, count: bool = True) -> dict[str, Any]:
    """The index payload of one extracted article."""
    item = page.item
    article = pin_id_version(article, item.id_version)  # an item first indexed under an older id keeps it
    if count:  # a batch counts its articles at once
        runtime.stats.incr("extract", "ok")
    if count and article.extraction_error is not None:
        # The page gave no article and the feed's fields stand in: a fallback, not a failure (kept out of the
        # reasons). A body taken from the feed's clean copy of a page that agrees with it is no fallback.
        runtime.stats.incr("extract", "from_feed")
    # Every URL this article answers to counts as seen, so other feeds' links to it are not fetched again.
    done = list(dict.fromkeys([item.doc_id, article.id, document_id(page.final_url)]))
    return {"article": article.model_dump(mode="json"), "done": done}


def _poll(runtime: Runtime, feed: Feed, app: Celery) -> dict[str, Any]:
    # Feeds share their domain's politeness budget with its pages; a far turn holds the poll, not the thread.
    return poll_or_hold(runtime, feed, lambda item_json: app.tasks[FETCH_TASK].apply_async((item_json,)),
                        gate=runtime.domain_gate)


def _index_batch(runtime: Runtime, task: Task, requests: list[SimpleRequest], alerts: AlertHooks | None = None
                 ) -> None:
    payloads = [payload for r in requests for payload in index_payloads(r.args[0] if r.args else None)]
    keys = [_index_key(payload) for payload in payloads]
    with given_back_on_outage(runtime, "index", keys):  # indexing the batch again changes nothing
        _index_payloads(runtime, task, payloads, keys, alerts)


def _index_payloads(runtime: Runtime, task: Task, payloads: list[Any], keys: list[str],
                    alerts: AlertHooks | None) -> None:
    settings = runtime.settings
    good: list[Any] = []
    poison: list[Any] = []
    # One count per item and batch: a restore after a broker outage may put several copies of one message
    # into the same batch, and those are one delivery of the item, not several deaths.
    poison_keys = poisoned(runtime, "index", keys)
    for payload, key in zip(payloads, keys, strict=True):
        (poison if key in poison_keys else good).append(payload)
    good = drop_blocked_articles(runtime, good)  # extracted before a takedown blocked them
    outcome = index_batch(good, lambda: runtime.index_writer, max_attempts=settings.max_retries + 1,
                          refresh=runtime.clusters.refresh if settings.near_dup_enabled else None,
                          correct=runtime.entity_corrections.correct_article)
    outcome.failed += [(p, poison_error(runtime, "index")) for p in poison]
    # Everything below happens before celery-batches acknowledges these messages: what goes back to
    # the queue is held in Redis first, so a crash here costs a redelivery, never an article.
    delayed = runtime.delayed
    for payload in outcome.requeue:
        delay = min(settings.retry_backoff_max_s, settings.retry_backoff_s * 2 ** payload["attempts"])
        delayed.hold(task.name, [payload], due_at=time.time() + delay)
    if outcome.requeue:
        runtime.stats.incr("index", "retried", len(outcome.requeue), reason=outcome.retry_reason)
        log.warning("index batch given back", reason=outcome.retry_reason, documents=len(outcome.requeue))
    for payload, exc in outcome.failed:
        article = payload.get("article") if isinstance(payload.get("article"), dict) else {}
        done = [i for i in payload.get("done", []) if isinstance(i, str)] if isinstance(payload, dict) else []
        key = _index_key(payload)
        dead_letter(runtime, exc, stage="index", key=key, url=article.get("url", ""), payload=payload,
                    attempts=int(payload.get("attempts", 0)) + 1, finished=[key, *done])
    runtime.tracker.finish(outcome.done)
    if alerts is not None:
        alerts.indexed(outcome.articles)  # saved searches matched against the batch just indexed
    delivered(runtime, "index", *keys)
    if outcome.indexed:
        runtime.stats.incr("index", "ok", outcome.indexed)


def _index_key(payload: Any) -> str:
    """The item an index message is about, for its delivery count."""
    if not isinstance(payload, dict):
        return "unknown"
    article = payload.get("article") if isinstance(payload.get("article"), dict) else {}
    done = [i for i in payload.get("done", []) if isinstance(i, str)]
    return str(article.get("id") or next(iter(done), "unknown"))
