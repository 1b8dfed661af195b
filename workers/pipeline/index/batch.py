"""Index stage: a batch of Articles into the search backend, idempotently.

Plain and free of Celery: it says which items are done, which messages go
back to the queue (a backend outage, a bug we may get past) and which fail
for good (a document the backend refuses), and the task layer acts on that.
A later message for the same document id wins within a batch; upserts by id
make a redelivered batch harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from workers.core.errors import IndexingError, NewsworkersError, Retryable
from workers.core.models import Article, utcnow
from workers.search.backend import SearchBackend

__all__ = ["IndexOutcome", "index_batch", "index_payloads"]

Refresh = Callable[[list[Article], SearchBackend], list[Article]]
Correct = Callable[[Article], Article]

# The backend refused this one document; every other reason is about the backend, not the document.
_DOCUMENT_REJECTED = "index.rejected"


def index_payloads(message: Any) -> list[dict[str, Any]]:
    """The per-article payloads of one index message: an extract batch sends ``{"batch": [...]}``, a single
    page, a retry or a re-sent dead letter one ``{"article": ..., "done": [...]}``."""
    if isinstance(message, dict) and isinstance(message.get("batch"), list):
        return [p if isinstance(p, dict) else {} for p in message["batch"]]
    return [message if isinstance(message, dict) else {}]


@dataclass(slots=True)
class IndexOutcome:
    done: list[str] = field(default_factory=list)  # item and document ids now indexed
    indexed: int = 0
    requeue: list[dict[str, Any]] = field(default_factory=list)  # payloads to send again, attempts counted
    failed: list[tuple[dict[str, Any], BaseException]] = field(default_factory=list)
    retry_reason: str | None = None
    articles: list[Article] = field(default_factory=list)  # the documents now indexed, for alert matching


def index_batch(payloads: Sequence[dict[str, Any]], open_writer: Callable[[], SearchBackend], *,
                max_attempts: int, refresh: Refresh | None = None, correct: Correct | None = None) -> IndexOutcome:
    """Upsert the batch; ``refresh`` sets each article's near-duplicate cluster as it stands now and names
    members already indexed whose cluster changed, which are upserted with the batch; ``correct`` gives each
    article the analysts' entity corrections in force now."""
    outcome = IndexOutcome()
    latest: dict[str, tuple[Article, dict[str, Any]]] = {}
    for payload in payloads:
        try:
            article = Article.model_validate(payload["article"])
        except (KeyError, TypeError, ValidationError) as exc:
            outcome.failed.append((payload, IndexingError(f"malformed index message: {exc}"[:500],
                                                          reason="index.bad_message")))
            continue
        if correct is not None:
            article = correct(article)
        previous = latest.get(article.id)
        merged = dict(payload)
        merged["done"] = [*(previous[1]["done"] if previous else []), *payload.get("done", [])]
        merged["attempts"] = max(payload.get("attempts", 0), previous[1].get("attempts", 0) if previous else 0)
        latest[article.id] = (article, merged)
    if not latest:
        return outcome
    now = utcnow()
    for article, _ in latest.values():
        article.indexed_at = now
    try:
        articles = [a for a, _ in latest.values()]
        changed = refresh(articles, open_writer()) if refresh is not None else []
        open_writer().upsert([*articles, *changed])
    except IndexingError as exc:
        named = getattr(exc, "rejected", None)  # a backend that says which documents it refused (Elasticsearch)
        if exc.reason == _DOCUMENT_REJECTED and isinstance(named, dict) and named:
            return _split(latest, named, outcome)
        if exc.reason == _DOCUMENT_REJECTED and len(latest) > 1:
            return _one_by_one(latest, open_writer, outcome, max_attempts)
        _give_back(latest.values(), exc, outcome, max_attempts)
        return outcome
    except Exception as exc:  # a bug or an unmapped backend error: retry a few times, then record it
        _give_back(latest.values(), exc, outcome, max_attempts)
        return outcome
    _indexed(latest.values(), outcome)
    return outcome


def _one_by_one(latest: dict[str, tuple[Article, dict[str, Any]]], open_writer: Callable[[], SearchBackend],
                outcome: IndexOutcome, max_attempts: int) -> IndexOutcome:
    """A batch was refused: find the documents at fault and fail only those."""
    for article, payload in latest.values():
        try:
            open_writer().upsert([article])
        except Exception as exc:
            _give_back([(article, payload)], exc, outcome, max_attempts)
            continue
        _indexed([(article, payload)], outcome)
    return outcome


def _split(latest: dict[str, tuple[Article, dict[str, Any]]], rejected: dict[str, str],
           outcome: IndexOutcome) -> IndexOutcome:
    """The backend wrote every document but the ones it names: those fail, each with its own reason."""
    for doc_id, (article, payload) in latest.items():
        if doc_id in rejected:
            error = IndexingError(f"the index refused this document: {rejected[doc_id]}", reason=_DOCUMENT_REJECTED)
            outcome.failed.append((payload | {"article": article.model_dump(mode="json")}, error))
        else:
            _indexed([(article, payload)], outcome)
    return outcome


def _indexed(entries: Any, outcome: IndexOutcome) -> None:
    for article, payload in entries:
        outcome.done.extend(dict.fromkeys([article.id, *payload["done"]]))
        outcome.articles.append(article)
        outcome.indexed += 1


def _give_back(entries: Any, exc: BaseException, outcome: IndexOutcome, max_attempts: int) -> None:
    # A backend outage never gives up: "a long outage leaves work queued, not lost". A refused
    # document fails at once. Anything else is retried a bounded number of times.
    transient = isinstance(exc, Retryable) or (
        isinstance(exc, IndexingError) and exc.reason != _DOCUMENT_REJECTED
    )
    outcome.retry_reason = exc.reason if isinstance(exc, NewsworkersError) else "index.crash"
    for article, payload in entries:
        attempts = int(payload.get("attempts", 0)) + 1
        final = isinstance(exc, IndexingError) and exc.reason == _DOCUMENT_REJECTED
        if final or (not transient and attempts >= max_attempts):
            outcome.failed.append((payload | {"article": article.model_dump(mode="json")}, exc))
        else:
            outcome.requeue.append(payload | {"article": article.model_dump(mode="json"), "attempts": attempts})
