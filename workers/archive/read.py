"""Reading one archived page back by its pointer, for the extract stage, reprocessing and backfill."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from workers.core.errors import ExtractionError
from workers.core.models import ArchiveRef, FeedItem, FetchedPage
from workers.net.decoding import decode_html, header_charset

__all__ = ["RawRecord", "page_with_html", "read_record"]


@dataclass(frozen=True)
class RawRecord:
    """One WARC response record: its target URL, HTTP status and headers, and the payload as sent."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    payload: bytes
    warc_date: str | None
    item_json: str | None = None  # the page's feed item, as the fetch stage archived it

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


def read_record(ref: ArchiveRef, base_dir: Path | None = None) -> RawRecord:
    """The record at ``ref``; ``ExtractionError`` (``archive.missing`` / ``archive.corrupt``) when it can't be had."""
    path = Path(ref.path)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        data = _read_range(path, ref.offset, ref.length)
    except OSError as exc:
        raise ExtractionError(f"archived page {path} unreadable: {exc}", reason="archive.missing") from exc
    if len(data) < ref.length:
        raise ExtractionError(f"archived page {path}@{ref.offset} is cut short ({len(data)} of {ref.length} bytes)",
                              reason="archive.corrupt")
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            if record.rec_type not in ("response", "resource"):
                break
            headers = record.http_headers
            status = int(headers.get_statuscode() or 200) if headers is not None else 200
            return RawRecord(
                url=record.rec_headers.get_header("WARC-Target-URI") or "",
                status=status,
                headers=list(headers.headers) if headers is not None else [],
                payload=record.content_stream().read(),
                warc_date=record.rec_headers.get_header("WARC-Date"),
                item_json=record.rec_headers.get_header("WARC-Newsworkers-Item"),
            )
    except (ArchiveLoadFailed, ValueError, OSError, EOFError) as exc:
        raise ExtractionError(f"archived page {path}@{ref.offset} unreadable: {exc}", reason="archive.corrupt") from exc
    raise ExtractionError(f"no response record at {path}@{ref.offset}", reason="archive.corrupt")


def _read_range(path: Path, offset: int, length: int) -> bytes:
    # A pointer names the file's final name; while its writer still has it open it carries the ".open"
    # suffix (workers.archive.write), and it may be renamed between two tries: the last try raises.
    for candidate in (path, path.with_name(path.name + ".open")):
        try:
            return _read_from(candidate, offset, length)
        except FileNotFoundError:
            continue
    return _read_from(path, offset, length)


def _read_from(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read(length)


def page_with_html(page: FetchedPage, base_dir: Path | None = None) -> FetchedPage:
    """The page with its HTML filled in from the archive when it travelled as a pointer only."""
    if page.html or page.archive is None:
        return page
    record = read_record(page.archive, base_dir)
    content_type = record.header("content-type") or page.content_type
    charset = header_charset(content_type) if content_type else None
    update: dict[str, object] = {"html": decode_html(record.payload, charset), "content_type": content_type}
    if page.reprocess and record.item_json:
        # The feed item as it was polled, rather than the one rebuilt from the indexed article; the document
        # keeps its id all the same.
        try:
            archived = FeedItem.model_validate_json(record.item_json)
        except ValueError:
            archived = None  # an unreadable copy: the rebuilt item stands
        if archived is not None:
            update["item"] = archived.model_copy(update={"doc_id": page.item.doc_id,
                                                         "id_version": page.item.id_version})
    return page.model_copy(update=update)
