"""A page archived as a WARC record reads back by its pointer, byte for byte, and a bad pointer is a clear error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from workers.archive.read import page_with_html, read_record
from workers.core.errors import ExtractionError
from workers.core.models import ArchiveRef, FeedItem, FetchedPage

PAGE = "<html><head><title>Ça va</title></head><body><p>Grüße aus Köln.</p></body></html>".encode("latin-1")


def write_warc(path: Path, url: str, payload: bytes, content_type: str) -> ArchiveRef:
    with path.open("ab") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=headers)
        offset = fh.tell()
        writer.write_record(record)
        return ArchiveRef(path=str(path), offset=offset, length=fh.tell() - offset)


def test_record_reads_back_byte_for_byte(tmp_path: Path) -> None:
    warc = tmp_path / "pages.warc.gz"
    write_warc(warc, "https://example.org/other", b"<html>first</html>", "text/html")
    ref = write_warc(warc, "https://example.org/a", PAGE, "text/html; charset=iso-8859-1")
    record = read_record(ref)
    assert record.payload == PAGE
    assert record.url == "https://example.org/a"
    assert record.status == 200
    assert record.header("Content-Type") == "text/html; charset=iso-8859-1"


def test_pointer_only_page_gets_its_html_decoded_by_the_archived_charset(tmp_path: Path) -> None:
    ref = write_warc(tmp_path / "pages.warc.gz", "https://example.org/a", PAGE, "text/html; charset=iso-8859-1")
    item = FeedItem(doc_id="a", url="https://example.org/a", feed_url="https://example.org/feed")
    page = page_with_html(FetchedPage(item=item, final_url=item.url, status=200, archive=ref))
    assert "Grüße aus Köln." in page.html


def test_relative_pointer_resolves_under_the_archive_directory(tmp_path: Path) -> None:
    ref = write_warc(tmp_path / "pages.warc.gz", "https://example.org/a", PAGE, "text/html")
    relative = ArchiveRef(path="pages.warc.gz", offset=ref.offset, length=ref.length)
    assert read_record(relative, tmp_path).payload == PAGE


def test_missing_file_and_cut_record_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError) as missing:
        read_record(ArchiveRef(path=str(tmp_path / "gone.warc.gz"), offset=0, length=10))
    assert missing.value.reason == "archive.missing"
    ref = write_warc(tmp_path / "pages.warc.gz", "https://example.org/a", PAGE, "text/html")
    with pytest.raises(ExtractionError) as cut:
        read_record(ArchiveRef(path=ref.path, offset=ref.offset, length=ref.length + 50))
    assert cut.value.reason == "archive.corrupt"
    with pytest.raises(ExtractionError) as garbage:
        read_record(ArchiveRef(path=ref.path, offset=ref.offset + 3, length=ref.length - 3))
    assert garbage.value.reason == "archive.corrupt"
