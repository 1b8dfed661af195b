"""Elasticsearch's exceptions and bulk item errors, translated once into ours.

    unreachable, timeout, 502/503/504   RetryableIndexingError  index.unavailable
    429 (too many requests)             RetryableIndexingError  index.throttled
    401 / 403                           IndexingError           index.auth        (work stays queued)
    not Elasticsearch at that URL       IndexingError           index.not_elasticsearch
    a document the mapping refuses      IndexingError           index.rejected    (that document fails alone)
    anything else from the API          IndexingError           index.es_<status>

Call sites wrap their requests in :func:`es_errors`, which raises the
translation ``from`` the client's exception, the way httpx's
``map_httpcore_exceptions()`` maps httpcore's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, TypeVar

import elastic_transport
import elasticsearch

from workers.core.errors import IndexingError, RetryableIndexingError
from workers.net.http import retry_after_seconds

__all__ = [
    "CLIENT_ERRORS", "RETRY_STATUSES", "ItemVerdict", "es_errors", "from_elasticsearch", "item_verdict", "or_missing",
    "translate",
]  # fmt: skip

_T = TypeVar("_T")
_Caught = type[Exception] | tuple[type[Exception], ...]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Statuses of a bulk item (or a whole request) that say "later", not "never"."""

CLIENT_ERRORS: tuple[type[Exception], ...] = (elasticsearch.ApiError, elastic_transport.TransportError)
"""What the client raises about a request itself (UnsupportedProductError is an ApiError)."""


def translate(exc: Exception, *, where: str = "") -> IndexingError:
    """Our error for an exception of the elasticsearch client; raise it ``from exc``."""
    context = f" ({where})" if where else ""
    if isinstance(exc, elasticsearch.UnsupportedProductError):
        return IndexingError(f"the server at ELASTICSEARCH_URL is not Elasticsearch{context}: {exc}",
                             reason="index.not_elasticsearch")
    if isinstance(exc, elastic_transport.ConnectionError | elastic_transport.ConnectionTimeout):
        return RetryableIndexingError(f"Elasticsearch unreachable{context}: {exc}", reason="index.unavailable")
    if isinstance(exc, elasticsearch.ApiError):
        status = int(exc.meta.status)
        if not from_elasticsearch(exc) and status not in RETRY_STATUSES and status not in (401, 403):
            # A proxy may answer 5xx or 401 itself; anything else without Elasticsearch's header is another server.
            return IndexingError(f"the server at ELASTICSEARCH_URL answered {status} without Elasticsearch's "
                                 f"X-Elastic-Product header{context}: is it Elasticsearch?",
                                 reason="index.not_elasticsearch")
        message = f"Elasticsearch answered {status}{context}: {_describe(exc.body) or exc.message}"
        retry_after = _retry_after(exc)
        if status == 429:
            return RetryableIndexingError(message, reason="index.throttled", retry_after_s=retry_after)
        if status in RETRY_STATUSES:
            return RetryableIndexingError(message, reason="index.unavailable", retry_after_s=retry_after)
        if status in (401, 403):
            return IndexingError(message + "; check the Elasticsearch credentials settings", reason="index.auth")
        return IndexingError(message, reason=f"index.es_{status}")
    if isinstance(exc, elastic_transport.TransportError):
        return RetryableIndexingError(f"Elasticsearch transport error{context}: {exc}", reason="index.unavailable")
    return IndexingError(f"unexpected Elasticsearch client error{context}: {exc!r}", reason="index.crash")


@contextmanager
def es_errors(where: str = "", *, catch: _Caught = Exception, keep: _Caught = ()) -> Iterator[None]:
    """Raise :func:`translate`'s error for what the block raises, ``from`` it; ``where`` names the request in
    the message (``with es_errors("bulk"): ...``).

    By default everything is translated, so a surprise inside a request (a response without the expected key)
    still reaches the task layer as an IndexingError with a reason. ``catch=CLIENT_ERRORS`` translates only the
    client's errors, for blocks that also run our own code whose errors are already ours; ``keep`` lets the
    given exceptions through untouched (a QuerySyntaxError raised while the request is built).
    """
    try:
        yield
    except keep:
        raise
    except catch as exc:
        raise translate(exc, where=where) from exc


def or_missing(call: Callable[[], _T], *, where: str, keep: _Caught = ()) -> _T | None:
    """``call()``, or None when Elasticsearch itself answers 404 (no such index or document yet); every other
    failure, a 404 from something that is not Elasticsearch included, becomes ours (``keep`` as for
    :func:`es_errors`)."""
    with es_errors(where, keep=keep):
        try:
            return call()
        except elasticsearch.NotFoundError as exc:
            if not from_elasticsearch(exc):
                raise
            return None


def from_elasticsearch(exc: elasticsearch.ApiError) -> bool:
    """Whether an error response came from Elasticsearch itself (it marks every response, errors too)."""
    try:
        return exc.meta.headers.get("x-elastic-product") == "Elasticsearch"
    except AttributeError:
        return False


class ItemVerdict(StrEnum):
    """What to do with one bulk item."""

    ACCEPTED = "accepted"
    RETRY = "retry"
    REJECTED = "rejected"


def item_verdict(operation: str, result: dict[str, Any]) -> tuple[ItemVerdict, str | None]:
    """(verdict, reason) for one item of a bulk response, e.g. ``{"status": 429, "error": {...}}``."""
    status = int(result.get("status", 500))
    if 200 <= status < 300 or (operation == "delete" and status == 404):
        return ItemVerdict.ACCEPTED, None
    reason = _describe(result.get("error")) or f"status {status}"
    if status in RETRY_STATUSES:
        return ItemVerdict.RETRY, reason
    return ItemVerdict.REJECTED, reason


def _describe(error: Any) -> str:
    """``type: reason`` of an Elasticsearch error object (the root cause when there is one)."""
    if isinstance(error, dict) and isinstance(error.get("error"), dict):
        error = error["error"]
    if not isinstance(error, dict):
        return str(error) if error else ""
    text = ": ".join(str(error[k]) for k in ("type", "reason") if error.get(k))
    cause = error.get("caused_by")
    if isinstance(cause, dict) and cause.get("reason"):
        text += f" (caused by {cause.get('type', 'error')}: {cause['reason']})"
    return text[:500]


def _retry_after(exc: elasticsearch.ApiError) -> float | None:
    headers = getattr(getattr(exc, "meta", None), "headers", None)
    return retry_after_seconds(headers.get("retry-after")) if headers is not None else None
