"""Sending a backfill's items: non-news filtering, dedupe against what is indexed, back-pressure, counts.

Every source hands the :class:`Sender` one entry at a time: a :class:`~workers.core.models.FeedItem` for the
fetch stage (sitemaps, URL lists) or a :class:`~workers.core.models.FetchedPage` with a WARC pointer for the
extract stage. Items carry ``backfill`` (the backfill's id), so Celery routes them to the backfill queues
(:func:`workers.broker.routing.backfill_route`), which workers read only while live news is not waiting.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from courlan import is_navigation_page, is_not_crawlable
from courlan.filters import extension_filter, type_filter

from workers.broker.routing import broker_is_redis
from workers.core.ids import id_candidates
from workers.core.models import FeedItem, FetchedPage
from workers.core.stages import BACKFILL_QUEUES, EXTRACT_BATCH_TASK, FETCH_TASK
from workers.ops.oneshot import Job

__all__ = ["Sender", "Tally", "is_news_url"]


def is_news_url(url: str) -> bool:
    """Could this URL be an article? Home pages, section/tag/pagination pages, feeds, logins and files
    (images, PDFs, scripts) are not: courlan's filters, the ones trafilatura's crawler uses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") == "":
        return False
    return (extension_filter(parts.path) and type_filter(url, strict=True) and not is_navigation_page(url)
            and not is_not_crawlable(url))


@dataclass(slots=True)
class Tally:
    """What a backfill did with what it read; ``resumed`` is what earlier runs had already done."""

    records_read: int = 0
    queued: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # non_news, duplicate, non_html, filtered, too_large
    failed: Counter[str] = field(default_factory=Counter)  # reason code → count
    errors: list[str] = field(default_factory=list)  # the first few failures, with where they happened
    resumed: int = 0

    def fail(self, reason: str, message: str) -> None:
        self.failed[reason] += 1
        if len(self.errors) < 20:
            self.errors.append(f"{reason}: {message}")

    def line(self) -> str:
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())) or "none"
        failed = sum(self.failed.values())
        resumed = f" (continuing after {self.resumed})" if self.resumed else ""
        return (f"backfill: read {self.records_read}{resumed}, queued {self.queued}, skipped: {skipped}; "
                f"failed {failed}")

    def as_dict(self) -> dict[str, Any]:
        return {"records_read": self.records_read, "resumed_after": self.resumed, "queued": self.queued,
                "skipped": dict(sorted(self.skipped.items())), "failed": dict(sorted(self.failed.items())),
                "errors": list(self.errors)}


class Sender:
    """Dedupes, claims and sends a backfill's entries, waiting while its queue is full."""

    def __init__(self, job: Job, backfill: str, tally: Tally) -> None:
        self.job, self.backfill, self.tally = job, backfill, tally
        self.runtime = job.runtime
        self.run = uuid.uuid4().hex  # tells this run's claims from those of a run that stopped
        self._next_room_check = 0.0

    def item(self, url: str, **fields: Any) -> FeedItem | None:
        """The item for ``url``, or None (counted) when it is not news or already indexed or in flight."""
        if not is_news_url(url):
            self.tally.skipped["non_news"] += 1
            return None
        candidates = id_candidates(url)
        if self.runtime.seen_ids([doc_id for _v, doc_id in candidates]):
            self.tally.skipped["duplicate"] += 1
            return None
        return FeedItem(doc_id=candidates[0][1], url=url, backfill=self.backfill, **fields)

    def send_fetch(self, item: FeedItem) -> bool:
        payload = item.model_dump(mode="json")
        return self._send(item, FETCH_TASK, payload, "fetch")

    def send_extract(self, page: FetchedPage) -> bool:
        payload = page.model_dump(mode="json")
        return self._send(page.item, EXTRACT_BATCH_TASK, payload, "extract")

    def _send(self, item: FeedItem, task: str, payload: dict[str, Any], stage: str) -> bool:
        self.wait_for_room(stage)
        item_json = json.dumps({**item.model_dump(mode="json"), "backfill_run": self.run})
        tracker = self.runtime.tracker
        if not tracker.claim(item.doc_id, item_json):
            if not self._ours_from_before(item.doc_id):
                self.tally.skipped["duplicate"] += 1
                return False
            self.runtime.redis.hset(self.runtime.keys.inflight_items, item.doc_id, item_json)  # this run's now
        try:
            self.job.app.tasks[task].apply_async((payload,))
        except Exception:
            tracker.release(item.doc_id)  # not sent: a restart takes it again
            raise
        self.job.track([item.doc_id])
        self.tally.queued += 1
        return True

    def _ours_from_before(self, doc_id: str) -> bool:
        """In flight for this same backfill, sent by an earlier run that stopped before it saved its position:
        sent again (the index upserts by id, so a second copy costs work, never a document)."""
        keys = self.runtime.keys
        if self.runtime.tracker.is_seen(doc_id):
            return False
        raw = self.runtime.redis.hget(keys.inflight_items, doc_id)
        try:
            claimed = json.loads(raw) if raw else {}
        except ValueError:
            return False
        return claimed.get("backfill") == self.backfill and claimed.get("backfill_run") != self.run

    def wait_for_room(self, stage: str) -> None:
        """Hold while the backfill queue of ``stage`` is full (checked at most every 0.2 s)."""
        settings = self.runtime.settings
        if not broker_is_redis(settings) or time.monotonic() < self._next_room_check:
            return
        key = self.runtime.keys.queue(BACKFILL_QUEUES[stage])
        while self.runtime.redis.llen(key) >= settings.backfill_max_queued and not self.job.stopping:
            time.sleep(0.2)
        self._next_room_check = time.monotonic() + 0.2
