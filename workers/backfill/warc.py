"""Backfill from WARC and ARC files (gzip or not), such as Common Crawl's CC-NEWS.

warcio's ArchiveIterator reads both formats. Each HTML response record enters the pipeline at the
extract stage as a pointer (file, offset, length) into the user's own file, so no page travels through
the broker and nothing is fetched again; in a deployment the files must therefore sit on a path every
extract worker mounts, at the same absolute path. Other records are counted as skipped.

The position (per file: the offset of the next record and the records read so far) is saved after what
came before it was sent. A record that cannot be read (a corrupt or truncated gzip member, a broken
header) is reported as ``archive.corrupt`` with its offset, and reading goes on at the next record
boundary found after it.
"""

from __future__ import annotations

import glob
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from workers.backfill.checkpoint import Checkpoint
from workers.backfill.enqueue import Sender
from workers.core.dates import parse_iso
from workers.core.errors import ConfigError
from workers.core.models import ArchiveRef, FetchedPage

__all__ = ["WarcFilters", "backfill_warc", "expand_paths", "in_domains"]

_HTML = ("text/html", "application/xhtml+xml")
_READ_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError)
_GZIP_MEMBER = b"\x1f\x8b\x08"
_WARC_START = (b"WARC/1.", b"\nWARC/1.")


@dataclass(frozen=True, slots=True)
class WarcFilters:
    domains: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    max_bytes: int = 10 * 2**20


def expand_paths(patterns: list[str]) -> list[Path]:
    """Files named or matched by glob patterns, absolute, in a stable order; a pattern matching none fails."""
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        files = [Path(m).resolve() for m in matches if Path(m).is_file()]
        if not files:
            raise ConfigError(f"no WARC/ARC file at {pattern!r}")
        found.extend(files)
    return list(dict.fromkeys(found))


def in_domains(url: str, domains: tuple[str, ...]) -> bool:
    if not domains:
        return True
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return any(host == d or host.endswith(f".{d}") for d in domains)


def backfill_warc(sender: Sender, checkpoint: Checkpoint, paths: list[Path], filters: WarcFilters, *,
                  every: int) -> None:
    """Read every file from its saved position, sending HTML responses to extract; stops early on Ctrl-C."""
    for path in paths:
        if sender.job.stopping:
            return
        _one_file(sender, checkpoint, path, filters, every=every)


def _one_file(sender: Sender, checkpoint: Checkpoint, path: Path, filters: WarcFilters, *, every: int) -> None:
    tally, unit = sender.tally, str(path)
    position = checkpoint.get(unit)
    offset, records = int(position.get("offset", 0)), int(position.get("records", 0))
    tally.resumed += records
    if position.get("done"):
        return
    saved_at, unsaved = time.monotonic(), 0
    try:
        fh = path.open("rb")
    except OSError as exc:
        tally.fail("archive.missing", f"{path}: {exc.strerror}")
        return
    with fh:
        while True:
            fh.seek(offset)
            iterator = ArchiveIterator(fh, arc2warc=True)
            try:
                for record_offset, length, entry in _records(iterator):
                    offset = record_offset + length
                    records += 1
                    unsaved += 1
                    tally.records_read += 1
                    if entry is not None:
                        _take(sender, path, record_offset, length, entry, filters)
                    if unsaved >= every or time.monotonic() - saved_at > 1.0 or sender.job.stopping:
                        checkpoint.save(unit, {"offset": offset, "records": records})
                        saved_at, unsaved = time.monotonic(), 0
                    if sender.job.stopping:
                        return
            except _READ_ERRORS as exc:
                tally.fail("archive.corrupt", f"{path}@{offset}: {type(exc).__name__}: {str(exc)[:200]}")
                records += 1
                tally.records_read += 1
                found = _next_record_start(fh, offset + 1)
                if found is None:
                    break
                offset = found
                checkpoint.save(unit, {"offset": offset, "records": records})
                continue
            break
    checkpoint.save(unit, {"offset": offset, "records": records, "done": True})


def _records(iterator: ArchiveIterator) -> Iterator[tuple[int, int, dict[str, Any] | None]]:
    """(offset, length, what a page needs or None) per record; the record is read through before it is yielded."""
    for record in iterator:
        offset = iterator.get_record_offset()
        entry: dict[str, Any] | None = None
        if record.rec_type in ("response", "resource"):
            headers = record.http_headers
            entry = {
                "url": record.rec_headers.get_header("WARC-Target-URI") or "",
                "date": record.rec_headers.get_header("WARC-Date") or record.rec_headers.get_header("ARC-Date"),
                "status": int(headers.get_statuscode() or 0) if headers is not None else 0,
                "content_type": (headers.get_header("Content-Type") if headers is not None else None) or "",
                "size": int(record.rec_headers.get_header("Content-Length") or record.length or 0),
            }
            # Read the payload through: warcio hands out what there is of a record cut short, and says so only
            # by the bytes its reader still expected.
            while record.raw_stream.read(1 << 16):
                pass
            missing = getattr(record.raw_stream, "limit", 0)
            if missing:
                raise ValueError(f"record cut short: {missing} bytes of its content are missing")
        length = iterator.get_record_length()
        yield offset, length, entry


def _take(sender: Sender, path: Path, offset: int, length: int, entry: dict[str, Any], filters: WarcFilters) -> None:
    tally, url = sender.tally, entry["url"]
    mime = entry["content_type"].split(";")[0].strip().lower()
    if not mime.startswith(_HTML):
        tally.skipped["non_html"] += 1
        return
    if entry["status"] != 200:
        tally.skipped["not_ok"] += 1
        return
    if entry["size"] > filters.max_bytes:
        tally.skipped["too_large"] += 1
        return
    fetched_at = _when(entry["date"])
    if not in_domains(url, filters.domains) or not _in_range(fetched_at, filters):
        tally.skipped["filtered"] += 1
        return
    item = sender.item(url, feed_url=path.as_uri(), feed_title=path.name)
    if item is None:
        return
    page = FetchedPage(item=item, final_url=url, status=200, archive=ArchiveRef(path=str(path), offset=offset,
                                                                                length=length),
                       content_type=entry["content_type"] or None, **({"fetched_at": fetched_at} if fetched_at else {}))
    sender.send_extract(page)


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        if value.isdigit() and len(value) >= 14:  # an ARC date: YYYYMMDDhhmmss
            return datetime.strptime(value[:14] + "+0000", "%Y%m%d%H%M%S%z")
        return parse_iso(value)
    except ValueError:
        return None


def _in_range(when: datetime | None, filters: WarcFilters) -> bool:
    if when is None:
        return filters.since is None and filters.until is None
    return (filters.since is None or when >= filters.since) and (filters.until is None or when <= filters.until)


def _next_record_start(fh: Any, start: int) -> int | None:
    """The next place after ``start`` where a record may begin: a gzip member, or a WARC header line."""
    fh.seek(start)
    chunk_size, position = 1 << 20, start
    while True:
        chunk = fh.read(chunk_size + 16)
        if not chunk:
            return None
        hits = [i for i in (chunk.find(_GZIP_MEMBER), *(chunk.find(m) for m in _WARC_START)) if i >= 0]
        if hits:
            first = min(hits)
            return position + first + (1 if chunk[first:first + 1] == b"\n" else 0)
        position += chunk_size
        fh.seek(position)
