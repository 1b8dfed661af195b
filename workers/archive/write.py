"""Writing fetched pages and feed documents to WARC files, one gzip member per record.

Many fetch threads in many processes (on many machines sharing a volume) write at once, so every
thread of every process owns its own file: ``<day>/nw-<opened>-<host>-<pid>-<thread>-<seq>.warc.gz``,
named with an ``.open`` suffix until it is closed, so a reader never trusts a file that is still
growing and pruning never removes one. Records never interleave because no two writers share a file.
A pointer names the final (closed) name; :func:`workers.archive.read.read_record` falls back to the
``.open`` file while the record's file is still being written.

The payload is kept as the client received it *after* undoing its Content-Encoding (httpx's
``response.content``): the original Content-Encoding, Transfer-Encoding and Content-Length headers are
kept as ``X-Archive-Orig-*`` so that WARC readers do not try to decode the body a second time, and
every record says so in its ``WARC-Newsworkers-Payload`` header.
"""

from __future__ import annotations

import atexit
import io
import itertools
import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from workers.core.dates import iso_utc
from workers.core.errors import RetryableFeedError, RetryableFetchError
from workers.core.models import ArchiveRef, FeedItem
from workers.core.processes import pid_alive
from workers.settings import Settings

__all__ = [
    "ITEM_HEADER", "OPEN_SUFFIX", "PAYLOAD_NOTE", "ArchiveWriter", "archive_root", "close_abandoned", "host_label",
]

OPEN_SUFFIX = ".open"
ITEM_HEADER = "WARC-Newsworkers-Item"
"""WARC header of a page's record holding its feed item as JSON (the feed's title, date, text...)."""
PAYLOAD_NOTE = "decoded-content-encoding"
"""Value of ``WARC-Newsworkers-Payload``: the body is what the client had after undoing Content-Encoding."""

# One sequence per process, not per writer: two writers of one thread must never pick the same file name.
_SEQUENCE = itertools.count(1)

# Headers that describe the bytes on the wire rather than the payload we keep: renamed, not dropped.
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


def host_label() -> str:
    """This machine's name as it appears in archive file names (letters, digits and dashes only)."""
    return "".join(c if c.isalnum() or c == "-" else "-" for c in socket.gethostname())[:40] or "host"


def close_abandoned(path: Path) -> Path | None:
    """Close (rename) an ``.open`` file whose writer, a process of this machine, is gone; its closed path, or
    None while its writer may live (or runs on another machine, where we cannot tell)."""
    parts = path.name.removesuffix(OPEN_SUFFIX).removesuffix(".warc.gz").split("-")
    # nw-<opened>-<host...>-<pid>-<thread>-<seq>: the host may itself hold dashes.
    if len(parts) < 6 or not parts[-3].isdigit():
        return None
    host, pid = "-".join(parts[2:-3]), int(parts[-3])
    if host != host_label() or pid_alive(pid):
        return None
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    try:
        os.replace(path, final)
    except FileNotFoundError:
        return None  # another process closed it first
    return final


def archive_root(settings: Settings) -> Path:
    """The archive directory: the ``archive_dir`` setting, else ``<data_dir>/archive``."""
    return (settings.archive_dir or settings.data_dir / "archive").resolve()


@dataclass(slots=True)
class _OpenFile:
    relative: str  # final name, relative to the archive root: what pointers carry
    fh: BinaryIO
    writer: WARCWriter
    opened_at: float
    pid: int


class ArchiveWriter:
    """Appends WARC records to this thread's own file and returns where each one landed."""

    def __init__(self, settings: Settings) -> None:
        self.root = archive_root(settings)
        self.max_bytes = settings.archive_max_file_bytes
        self.max_age_s = settings.archive_max_file_age_s
        self.fsync = settings.archive_fsync
        self._host = host_label()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._files: dict[int, _OpenFile] = {}
        self._swept = False
        atexit.register(self.close)

    def write_response(self, url: str, status: int, headers: list[tuple[str, str]], payload: bytes, *,
                       kind: str, fetched_at: datetime | None = None, item: FeedItem | None = None) -> ArchiveRef:
        """One HTTP response (a page or a feed document) with its status line and headers; a page's feed
        item rides along in ``WARC-Newsworkers-Item`` so reprocessing has the feed's own fields back."""
        kept = [(f"X-Archive-Orig-{k}" if k.lower() in _WIRE_HEADERS else k, v) for k, v in headers]
        kept.append(("Content-Length", str(len(payload))))
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        http_headers = StatusAndHeaders(f"{status} {phrase}", kept, protocol="HTTP/1.1")
        return self._write(url, "response", payload, kind=kind, fetched_at=fetched_at, http_headers=http_headers,
                           item=item)

    def write_resource(self, url: str, payload: bytes, *, content_type: str, kind: str,
                       fetched_at: datetime | None = None, item: FeedItem | None = None) -> ArchiveRef:
        """A document read without HTTP (a ``file:`` page of the offline corpus): a WARC resource record."""
        return self._write(url, "resource", payload, kind=kind, fetched_at=fetched_at, content_type=content_type,
                           item=item)

    def _write(self, url: str, rec_type: str, payload: bytes, *, kind: str, fetched_at: datetime | None,
               http_headers: StatusAndHeaders | None = None, content_type: str = "",
               item: FeedItem | None = None) -> ArchiveRef:
        try:
            return self._append(url, rec_type, payload, kind=kind, fetched_at=fetched_at, http_headers=http_headers,
                                content_type=content_type, item=item)
        except OSError as exc:
            # A full or unmounted volume: the download is retried later, its file (maybe holding half a
            # record, which readers skip by pointer) is closed so the next write starts a fresh one.
            try:
                self._close_current()
            except OSError:
                self._local.file = None
            error, stage = (RetryableFeedError, "feed") if kind == "feed" else (RetryableFetchError, "fetch")
            raise error(f"cannot write the page archive under {self.root}: {exc}", reason=f"{stage}.archive_write",
                        url=url) from exc

    def _append(self, url: str, rec_type: str, payload: bytes, *, kind: str, fetched_at: datetime | None,
                http_headers: StatusAndHeaders | None, content_type: str, item: FeedItem | None) -> ArchiveRef:
        current = self._current()
        warc_headers = {"WARC-Newsworkers-Kind": kind, "WARC-Newsworkers-Payload": PAYLOAD_NOTE,
                        "WARC-Date": _warc_date(fetched_at)}
        if item is not None:
            # One line of ASCII JSON: a WARC header value may hold neither line breaks nor raw UTF-8 safely.
            warc_headers[ITEM_HEADER] = json.dumps(item.model_dump(mode="json"), ensure_ascii=True)
        record = current.writer.create_warc_record(url, rec_type, payload=io.BytesIO(payload),
                                                   length=len(payload), warc_content_type=content_type,
                                                   warc_headers_dict=warc_headers, http_headers=http_headers)
        offset = current.fh.tell()
        current.writer.write_record(record)
        length = current.fh.tell() - offset
        # Durable before the pointer leaves: flushed to the OS (a worker crash keeps it), fsynced when asked.
        current.fh.flush()
        if self.fsync:
            os.fsync(current.fh.fileno())
        if offset + length >= self.max_bytes:
            self._close_current()
        return ArchiveRef(path=current.relative, offset=offset, length=length)

    def _current(self) -> _OpenFile:
        current: _OpenFile | None = getattr(self._local, "file", None)
        if current is not None and (current.pid != os.getpid() or current.fh.closed):
            current = None  # inherited through fork (the parent owns that file), or closed by close()
        if current is not None and time.time() - current.opened_at >= self.max_age_s:
            self._close_current()
            current = None
        if current is None:
            current = self._open()
            self._local.file = current
        return current

    def _open(self) -> _OpenFile:
        if not self._swept:
            # Workers stopped with SIGKILL (an idle `run --once` ends its fetch workers so) leave their files
            # open: the first writer of the next process on this machine closes them.
            self._swept = True
            for stale in self.root.glob(f"*/*{OPEN_SUFFIX}"):
                close_abandoned(stale)
        seq = next(_SEQUENCE)  # atomic under the GIL
        now = datetime.now(UTC)
        relative = (f"{now:%Y-%m-%d}/nw-{now:%Y%m%d%H%M%S}-{self._host}-{os.getpid()}-"
                    f"{threading.get_ident()}-{seq:05d}.warc.gz")
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path.with_name(path.name + OPEN_SUFFIX), "xb")  # noqa: SIM115 (closed by _finish); x: never a shared file
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {
            "software": "newsworkers", "format": "WARC File Format 1.0",
            "payload": "HTTP bodies as received after undoing Content-Encoding (see X-Archive-Orig-*)",
        }))
        opened = _OpenFile(relative=relative, fh=fh, writer=writer, opened_at=time.time(), pid=os.getpid())
        with self._lock:
            self._files[id(opened)] = opened
        return opened

    def _close_current(self) -> None:
        current: _OpenFile | None = getattr(self._local, "file", None)
        self._local.file = None
        if current is not None:
            self._finish(current)

    def _finish(self, current: _OpenFile) -> None:
        with self._lock:
            if self._files.pop(id(current), None) is None:
                return
        if current.pid != os.getpid():
            return
        current.fh.close()
        final = self.root / current.relative
        os.replace(final.with_name(final.name + OPEN_SUFFIX), final)

    def close(self) -> None:
        """Close every file this process has open (at worker shutdown); later writes open new ones."""
        with self._lock:
            files = list(self._files.values())
        for current in files:
            self._finish(current)


def _warc_date(when: datetime | None) -> str:
    return iso_utc(when or datetime.now(UTC), timespec="seconds")
