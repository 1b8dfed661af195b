"""Bulk writes to Elasticsearch: batched by count and bytes, throttling retried, every item accounted for.

Like ``elasticsearch.helpers.streaming_bulk`` but with the contract the index
stage needs: :func:`send_bulk` returns only when Elasticsearch accepted every
item, and otherwise raises. Items answered 429/502/503/504 (and whole
requests that failed the same way, or never arrived) are resent with
exponential backoff and jitter; when the retries run out the batch is given
back (``RetryableIndexingError``), so the messages stay queued. Items the
cluster refuses for good (a mapping error) are collected over the whole batch
and raised together as ``index.rejected`` with each document's reason, after
the other items were written; upserts by id make resending those harmless.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from workers.core.errors import IndexingError, RetryableIndexingError
from workers.search.elasticsearch.errors import ItemVerdict, es_errors, item_verdict

__all__ = ["BulkPolicy", "BulkRejected", "chunk_lines", "send_bulk"]

Line = tuple[dict[str, Any], dict[str, Any] | None]  # (action, source or None for delete)
Send = Callable[[list[dict[str, Any]]], dict[str, Any]]  # flattened operations -> the bulk response body


@dataclass(frozen=True, slots=True)
class BulkPolicy:
    max_docs: int = 500
    max_bytes: int = 10 * 2**20
    retries: int = 5
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0


class BulkRejected(IndexingError):
    """Raised when Elasticsearch refused documents for good; ``rejected`` maps each id to its reason."""

    def __init__(self, rejected: dict[str, str]) -> None:
        listed = "; ".join(f"{doc_id}: {why}" for doc_id, why in list(rejected.items())[:5])
        more = f" and {len(rejected) - 5} more" if len(rejected) > 5 else ""
        super().__init__(f"Elasticsearch refused {len(rejected)} document(s): {listed}{more}", reason="index.rejected")
        self.rejected = rejected


def chunk_lines(lines: Sequence[Line], max_docs: int, max_bytes: int) -> Iterator[list[Line]]:
    """Consecutive chunks of at most ``max_docs`` items and about ``max_bytes`` of NDJSON (one oversized
    item still goes alone: Elasticsearch, not we, decides whether it is too large)."""
    chunk: list[Line] = []
    size = 0
    for line in lines:
        line_bytes = sum(len(json.dumps(part, ensure_ascii=False).encode()) + 1 for part in line if part is not None)
        if chunk and (len(chunk) >= max_docs or size + line_bytes > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(line)
        size += line_bytes
    if chunk:
        yield chunk


def send_bulk(send: Send, lines: Sequence[Line], policy: BulkPolicy, *,
              sleep: Callable[[float], None] = time.sleep, jitter: Callable[[], float] = random.random) -> int:
    """Write every line; return the number of items accepted, or raise (see the module docstring)."""
    rejected: dict[str, str] = {}
    accepted = 0
    for chunk in chunk_lines(lines, policy.max_docs, policy.max_bytes):
        accepted += _send_chunk(send, chunk, policy, rejected, sleep, jitter)
    if rejected:
        raise BulkRejected(rejected)
    return accepted


def _send_chunk(send: Send, chunk: list[Line], policy: BulkPolicy, rejected: dict[str, str],
                sleep: Callable[[float], None], jitter: Callable[[], float]) -> int:
    pending = chunk
    accepted = 0
    last: IndexingError | None = None
    for attempt in range(policy.retries + 1):
        if attempt:
            delay = min(policy.backoff_max_s, policy.backoff_s * 2 ** (attempt - 1))
            if last is not None and last.retry_after_s:
                delay = max(delay, min(policy.backoff_max_s, last.retry_after_s))
            sleep(delay * (0.5 + jitter()))  # full jitter around the delay, so consumers do not resend in step
        try:
            with es_errors("bulk"):
                response = send([part for line in pending for part in line if part is not None])
        except RetryableIndexingError as error:  # anything else is final: es_errors raised it from the cause
            last = error
            continue
        retry, progress = _sort_items(pending, response, rejected)
        accepted += progress
        if not retry:
            return accepted
        pending = [line for line, _status, _why in retry]
        throttled = any(status == 429 for _line, status, _why in retry)
        last = RetryableIndexingError(f"Elasticsearch pushed back on {len(retry)} item(s): {retry[0][2]}",
                                      reason="index.throttled" if throttled else "index.unavailable")
    assert last is not None
    raise RetryableIndexingError(f"{last} (still failing after {policy.retries} resends)", reason=last.reason,
                                 retry_after_s=last.retry_after_s)


def _sort_items(pending: list[Line], response: dict[str, Any],
                rejected: dict[str, str]) -> tuple[list[tuple[Line, int, str]], int]:
    items = response.get("items") or []
    if len(items) != len(pending):
        raise IndexingError(f"Elasticsearch answered {len(items)} bulk items for {len(pending)} sent",
                            reason="index.bad_response")
    retry: list[tuple[Line, int, str]] = []
    accepted = 0
    for line, item in zip(pending, items, strict=True):
        operation, result = next(iter(item.items()))
        verdict, why = item_verdict(operation, result)
        if verdict is ItemVerdict.ACCEPTED:
            accepted += 1
        elif verdict is ItemVerdict.RETRY:
            retry.append((line, int(result.get("status", 0)), f"status {result.get('status')}: {why}"))
        else:
            rejected[str(result.get("_id") or next(iter(line[0].values())).get("_id"))] = why or "refused"
    return retry, accepted
