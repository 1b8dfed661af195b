"""Reprocessing: choose indexed articles, and send their archived pages through extract and index again.

No network: each page is rebuilt from the article's stored fields and its archive pointer. The feed
item's own fields are not archived apart from the page, so the article's stand in for them (its title,
summary, authors, tags, image, and the feed's date when the date came from the feed); extraction
prefers the page's own values over these exactly as it does on a first pass. The document keeps its
id (``FetchedPage.reprocess``), so it is updated in place and never duplicated.

Progress is followed through the item tracker the pipeline already keeps: every chosen article is made
*in flight* again before its page is sent, and the index stage (or a dead letter) finishes it.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from celery import Celery

from workers.archive.write import OPEN_SUFFIX
from workers.core.models import PIPELINE_VERSION, ArchiveRef, Article, DateSource, FeedItem, FetchedPage
from workers.runtime import Runtime
from workers.search.backend import SearchBackend
from workers.search.model import SearchQuery, Sort

__all__ = ["ReprocessSummary", "Selection", "choose", "page_for", "plan", "send", "settle"]

# Offset paging goes this deep at most (Elasticsearch's max_result_window is 10,000); deeper, the next
# window starts at the last date seen.
_WINDOW = 9000
_EXTRACT_TASK = "newsworkers.extract_batch"


@dataclass(slots=True)
class Selection:
    """Which indexed articles to reprocess: the search's filters, and optionally only older versions."""

    since: datetime | None = None
    until: datetime | None = None
    domain: str | None = None
    query: str = ""
    only_older_version: bool = False


@dataclass(slots=True)
class ReprocessSummary:
    chosen: int = 0
    queued: int = 0
    skipped_no_archive: int = 0
    skipped_current: int = 0
    reindexed: int = 0
    pending: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    followed: bool = False  # the command waited for the work to end (else pending is what it left queued)

    def to_json(self) -> dict[str, Any]:
        return {"chosen": self.chosen, "queued": self.queued, "skipped_no_archive": self.skipped_no_archive,
                "skipped_current_version": self.skipped_current, "reindexed": self.reindexed,
                "pending": self.pending, "failed": sum(self.failed.values()), "failed_reasons": dict(self.failed)}


def choose(backend: SearchBackend, selection: Selection, *, page_size: int = 500) -> Iterator[Article]:
    """Every article the selection matches, each once, newest first.

    The ids of the whole selection are gathered before the first article is given: reprocessing may move
    a document's date, and must not move it in or out of pages still to be read.
    """
    for doc_id in _chosen_ids(backend, selection, page_size):
        article = backend.get(doc_id)
        if article is not None:
            yield article


def _chosen_ids(backend: SearchBackend, selection: Selection, page_size: int) -> list[str]:
    seen: dict[str, None] = {}
    until, offset = selection.until, 0
    while True:
        query = SearchQuery(text=selection.query, since=selection.since, until=until, sort=Sort.DATE,
                            limit=page_size, offset=offset,
                            filters={"domain": [selection.domain]} if selection.domain else {})
        hits = backend.search(query).hits
        fresh = [hit for hit in hits if hit.id not in seen]
        seen.update(dict.fromkeys(hit.id for hit in fresh))
        if len(hits) < page_size:
            return list(seen)
        offset += page_size
        if offset >= _WINDOW:
            # A new window from the oldest date seen (inclusive: the ids already seen are skipped). A whole
            # window of one date would make no progress: then that many articles share one timestamp.
            last = hits[-1].published_at
            if last is None or (last == until and not fresh):
                return list(seen)
            until, offset = last, 0


def page_for(article: Article, archive_root: Path) -> FetchedPage | None:
    """The page to extract again, rebuilt from the article; None when its page was not archived (or is gone)."""
    if article.archive_path is None or article.archive_offset is None or not article.archive_length:
        return None
    path = Path(article.archive_path)
    path = path if path.is_absolute() else archive_root / path
    if not path.is_file() and not path.with_name(path.name + OPEN_SUFFIX).is_file():
        return None  # pruned
    # A body the feed gave goes back as the feed's HTML, one paragraph per line, as it was read the first time.
    feed_body = ("".join(f"<p>{html.escape(line)}</p>" for line in article.body.splitlines())
                 if article.body_source == "feed" else None)
    item = FeedItem(
        doc_id=article.id, url=article.url, feed_url=article.feed_url or article.url, feed_title=article.feed_title,
        feed_local=article.url.startswith("file:"), source_name=article.source_name, title=article.title,
        published_at=article.published_at if article.date_source == DateSource.FEED else None,
        summary=article.summary, content_html=feed_body, authors=article.authors, tags=article.tags,
        image_url=article.image_url, collections=article.collections, id_version=article.id_version,
    )
    ref = ArchiveRef(path=article.archive_path, offset=article.archive_offset, length=article.archive_length)
    return FetchedPage(item=item, final_url=article.final_url or article.url, status=200, archive=ref,
                       fetched_at=article.fetched_at, reprocess=True)


def plan(backend: SearchBackend, selection: Selection, archive_root: Path, summary: ReprocessSummary) -> list[str]:
    """The ids to send: the selection, less articles of the current version (when asked) and those without an
    archived page. Nothing is sent yet, so an empty plan costs no workers."""
    ids: list[str] = []
    for article in choose(backend, selection):
        summary.chosen += 1
        if selection.only_older_version and article.pipeline_version >= PIPELINE_VERSION:
            summary.skipped_current += 1
        elif page_for(article, archive_root) is None:
            summary.skipped_no_archive += 1
        else:
            ids.append(article.id)
    return ids


def send(runtime: Runtime, app: Celery, backend: SearchBackend, ids: list[str], archive_root: Path,
         summary: ReprocessSummary, *, stopping: Callable[[], bool] = lambda: False,
         track: Callable[[list[str]], None] | None = None) -> list[str]:
    """Send the planned articles' pages to the extract queue; returns the ids sent (all, unless stopped)."""
    sent: list[str] = []
    task = app.tasks[_EXTRACT_TASK]
    for doc_id in ids:
        if stopping():
            break
        article = backend.get(doc_id)
        page = page_for(article, archive_root) if article is not None else None
        if page is None:  # deleted or pruned since the plan was made
            summary.skipped_no_archive += 1
            continue
        # In flight before it is sent: the index stage may finish it before apply_async even returns.
        runtime.tracker.reopen(doc_id)
        task.apply_async((page.model_dump(mode="json"),))
        sent.append(doc_id)
        summary.queued += 1
        if track is not None:
            track([doc_id])
    summary.pending = len(sent)
    return sent


def settle(runtime: Runtime, ids: list[str], started_at: float, summary: ReprocessSummary) -> list[str]:
    """Count the ids no longer in flight as reindexed or failed; returns those still in flight."""
    pending: list[str] = []
    redis, keys = runtime.redis, runtime.keys
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        scores = redis.zmscore(keys.inflight, chunk)
        for doc_id, score in zip(chunk, scores, strict=True):
            if score is not None:
                pending.append(doc_id)
                continue
            letter = runtime.dead_letters.get(doc_id)
            if letter is not None and letter.failed_epoch >= started_at - 1:
                summary.failed[letter.reason] += 1
            elif runtime.tracker.is_seen(doc_id):
                summary.reindexed += 1
            else:
                # Released as lost in flight (its message vanished): the old document still stands.
                runtime.tracker.finish([doc_id])
                summary.failed["reprocess.lost"] += 1
    summary.pending = len(pending)
    return pending
