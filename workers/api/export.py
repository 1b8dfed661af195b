"""Export a whole result set as JSON Lines or CSV, streamed.

Backends page by offset, which costs more the deeper it goes, so an export walks the results newest
first with a date cursor instead: each request asks for the hits published up to the end of the second
of the last hit written, and skips the ones of that second it already wrote (hits within one second come
in no guaranteed order). Memory holds one page and the ids of one second, never the result set.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from workers.search.backend import SearchBackend
from workers.search.model import Hit, SearchQuery, Sort

__all__ = ["COLUMNS", "FORMATS", "export_lines", "iter_hits"]

FORMATS = {"jsonl": ("application/x-ndjson", "jsonl"), "csv": ("text/csv; charset=utf-8", "csv")}
"""Export format → (media type, file suffix)."""
COLUMNS = (
    "id", "url", "title", "published_at", "source_name", "domain", "language", "authors", "persons",
    "organizations", "locations", "groups", "events", "collections", "cluster_id", "duplicates", "countries",
)  # fmt: skip
_LIST_SEPARATOR = "; "
# A spreadsheet runs a cell that starts like a formula; article titles are hostile input (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def iter_hits(backend: SearchBackend, query: SearchQuery, *, page_size: int, max_docs: int) -> Iterator[Hit]:
    """Every hit of ``query``, newest first, at most ``max_docs``; with ``collapse``, one per cluster (its newest)."""
    base = replace(query, sort=Sort.DATE, offset=0, facets=[], histogram=None, collapse=False)
    until = query.until
    second: datetime | None = None  # the second of the last hit written
    written_in_second: set[str] = set()
    clusters: set[str] = set()
    written = 0
    while written < max_docs:
        limit = page_size + len(written_in_second)
        page = backend.search(replace(base, until=until, limit=limit)).hits
        fresh = [hit for hit in page if hit.id not in written_in_second]
        for hit in fresh:
            if query.collapse:
                cluster = hit.cluster_id or hit.id
                if cluster in clusters:
                    continue
                clusters.add(cluster)
            yield hit
            written += 1
            if written >= max_docs:
                return
        if len(page) < limit or not fresh:
            return
        last = _second(fresh[-1])
        if last != second:
            second, written_in_second = last, set()
        written_in_second.update(hit.id for hit in fresh if _second(hit) == last)
        until = last + timedelta(microseconds=999_999)


def _second(hit: Hit) -> datetime:
    assert hit.published_at is not None  # every indexed Article has a published_at
    return hit.published_at.replace(microsecond=0)


def export_lines(backend: SearchBackend, query: SearchQuery, fmt: str, *, page_size: int,
                 max_docs: int) -> Iterator[str]:
    """The export as text chunks: a header first (an empty string for JSON Lines), then one line per hit.
    The first search runs before the header comes out, so a query that fails, fails before any output."""
    walk = iter_hits(backend, query, page_size=page_size, max_docs=max_docs)
    first = next(walk, None)
    hits = itertools.chain([first] if first else [], walk)
    if fmt == "csv":
        yield _csv_row(COLUMNS)
        for hit in hits:
            yield _csv_row([_cell(value) for value in _row(hit)])
        return
    yield ""
    for hit in hits:
        yield json.dumps(_record(hit), ensure_ascii=False) + "\n"


def _record(hit: Hit) -> dict[str, Any]:
    data = hit.to_json()
    del data["snippet"]  # HTML made for the page; the export carries the fields
    return data


def _row(hit: Hit) -> list[Any]:
    record = _record(hit)
    return [record[name] for name in COLUMNS]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = _LIST_SEPARATOR.join(value) if isinstance(value, list) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_row(values: Any) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()
