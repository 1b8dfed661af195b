"""The page archive: the real fetch and poll stages write WARC records that read back byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import ROOT
from tests.site import FixtureSite, article_page
from workers.archive.read import page_with_html, read_record
from workers.archive.write import OPEN_SUFFIX, PAYLOAD_NOTE, ArchiveWriter, archive_root
from workers.core.errors import RetryableFetchError
from workers.core.ids import document_id
from workers.core.models import ArchiveRef, Feed, FeedItem
from workers.pipeline.extract.batch import extract_pages
from workers.pipeline.fetch.page import fetch_page
from workers.pipeline.poll.feed import poll_feed
from workers.runtime import Runtime
from workers.settings import Settings
from workers.state.registry import FeedState


def item_for(url: str, *, feed_url: str = "https://example.org/feed.xml", local: bool = False) -> FeedItem:
    return FeedItem(doc_id=document_id(url), url=url, feed_url=feed_url, feed_local=local)


def warc_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_fetched_page_travels_as_a_pointer_and_reads_back_byte_for_byte(
        site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    writer = ArchiveWriter(http_settings)
    page = fetch_page(item_for(site.url("/articles/berlin-budget.html")), http_settings, client, archive=writer)
    assert page.html == "" and page.archive is not None
    assert not Path(page.archive.path).is_absolute()  # relative: a shared volume may sit elsewhere on each machine
    record = read_record(page.archive, archive_root(http_settings))
    assert record.payload == article_page("berlin-budget").encode()
    assert record.url == page.final_url and record.status == 200
    assert record.header("Content-Type") == "text/html; charset=utf-8"
    assert record.header("Content-Length") == str(len(record.payload))
    # The page read back is the page a fetch without the archive hands over.
    plain = fetch_page(item_for(site.url("/articles/berlin-budget.html")), http_settings, client)
    assert page_with_html(page, archive_root(http_settings)).html == plain.html
    writer.close()


def test_gzip_encoded_page_is_kept_decoded_and_says_so(
        site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    writer = ArchiveWriter(http_settings)
    page = fetch_page(item_for(site.url("/articles/gzipped.html")), http_settings, client, archive=writer)
    writer.close()
    assert page.archive is not None
    record = read_record(page.archive, archive_root(http_settings))
    assert record.payload == article_page("lima-election").encode()
    assert record.header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert record.header("Content-Encoding") is None
    with (archive_root(http_settings) / page.archive.path).open("rb") as fh:
        fh.seek(page.archive.offset)
        warc = next(iter(ArchiveIterator(fh)))
        assert warc.rec_headers.get_header("WARC-Newsworkers-Payload") == PAYLOAD_NOTE
        assert warc.rec_headers.get_header("WARC-Newsworkers-Kind") == "page"


def test_feed_documents_are_archived_too(site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    writer = ArchiveWriter(http_settings)
    result = poll_feed(Feed(url=site.url("/feeds/news.xml")), FeedState(), http_settings, client, archive=writer)
    assert result.items
    again = poll_feed(Feed(url=site.url("/feeds/news.xml")), FeedState(etag=result.etag), http_settings, client,
                      archive=writer)
    assert again.not_modified
    writer.close()
    records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
               for f in warc_files(archive_root(http_settings)) for r in ArchiveIterator(f.open("rb"))]
    responses = [r for r in records if r[0] == "response"]
    assert len(responses) == 1  # the 304 brought no document
    assert responses[0][1] == site.url("/feeds/news.xml")
    assert responses[0][2] == site.news_feed().encode()


def test_local_corpus_page_is_archived_as_a_resource(http_settings: Settings, client: httpx.Client) -> None:
    feed = next((ROOT / "seeds" / "feeds").iterdir())
    page_file = next((ROOT / "seeds" / "articles").glob("*.html"))
    item = item_for(page_file.as_uri(), feed_url=feed.as_uri(), local=True)
    writer = ArchiveWriter(http_settings)
    page = fetch_page(item, http_settings, client, archive=writer)
    writer.close()
    assert page.archive is not None and page.html == ""
    assert read_record(page.archive, archive_root(http_settings)).payload == page_file.read_bytes()


def test_threads_write_their_own_files_and_never_interleave(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    writer = ArchiveWriter(settings)
    refs: dict[bytes, object] = {}
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(40):
            payload = f"<html>thread {n} page {i} ".encode() + os.urandom(300)
            ref = writer.write_response(f"http://127.0.0.1/{n}/{i}", 200, [("Content-Type", "text/html")], payload,
                                        kind="page")
            with lock:
                refs[payload] = ref

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    root = archive_root(settings)
    assert all(p.name.endswith(OPEN_SUFFIX) for p in warc_files(root))  # still being written: not closed
    for payload, ref in refs.items():  # readable while open, through the final name
        assert read_record(ref, root).payload == payload  # type: ignore[arg-type]
    writer.close()
    files = warc_files(root)
    assert len(files) == 8 and not any(p.name.endswith(OPEN_SUFFIX) for p in files)
    for payload, ref in refs.items():
        assert read_record(ref, root).payload == payload  # type: ignore[arg-type]
    # Each file is a valid WARC on its own: a warcinfo, then one thread's records in order.
    for path in files:
        with path.open("rb") as fh:
            records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(fh)]
        assert records[0][0] == "warcinfo"
        thread_of = {uri.split("/")[3] for _, uri in records[1:]}
        assert len(records) == 41 and len(thread_of) == 1


def test_files_roll_by_size_and_by_age(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", archive_max_file_bytes=2**16, archive_max_file_age_s=3600)
    writer = ArchiveWriter(settings)
    refs = [writer.write_response(f"http://127.0.0.1/{i}", 200, [], os.urandom(4000), kind="page") for i in range(40)]
    paths = {ref.path for ref in refs}
    assert len(paths) >= 3  # 160 KB of incompressible pages in 64 KB files
    closed = [p for p in warc_files(archive_root(settings)) if not p.name.endswith(OPEN_SUFFIX)]
    assert all(p.stat().st_size >= 2**16 for p in closed) and len(closed) == len(paths) - 1
    first = writer.write_response("http://127.0.0.1/a", 200, [], b"a", kind="page")
    writer._local.file.opened_at -= 3601  # the file has been open an hour
    second = writer.write_response("http://127.0.0.1/b", 200, [], b"b", kind="page")
    assert first.path != second.path
    assert (archive_root(settings) / first.path).is_file()  # closed at the next record
    writer.close()


def test_an_unwritable_archive_is_a_retryable_fetch_error(
        site: FixtureSite, tmp_path: Path, http_settings: Settings, client: httpx.Client) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the archive directory should be")
    settings = http_settings.model_copy(update={"archive_dir": blocker})
    with pytest.raises(RetryableFetchError) as info:
        fetch_page(item_for(site.url("/articles/berlin-budget.html")), settings, client,
                   archive=ArchiveWriter(settings))
    assert info.value.reason == "fetch.archive_write"


def test_switch_off_and_the_html_travels_as_before(tmp_path: Path) -> None:
    assert Runtime(Settings(data_dir=tmp_path, archive_enabled=False)).archive is None
    assert isinstance(Runtime(Settings(data_dir=tmp_path)).archive, ArchiveWriter)


def test_extract_reads_the_pointer_and_the_article_records_it(
        site: FixtureSite, http_settings: Settings, client: httpx.Client) -> None:
    writer = ArchiveWriter(http_settings)
    page = fetch_page(item_for(site.url("/articles/berlin-budget.html")), http_settings, client, archive=writer)
    writer.close()
    [article] = extract_pages([page], http_settings, None, None)
    assert not isinstance(article, Exception)
    assert "Chancellor Angela Merkel" in article.body.replace("&#x27;", "'")
    assert page.archive is not None
    assert (article.archive_path, article.archive_offset, article.archive_length) == (
        page.archive.path, page.archive.offset, page.archive.length)


FORKED_WRITERS = """
import json, multiprocessing, sys
from pathlib import Path
from workers.archive.write import ArchiveWriter
from workers.settings import Settings

def child(writer, n, out):
    refs = [writer.write_response(f"http://127.0.0.1/p{n}/{i}", 200, [], f"<html>{n}/{i}</html>".encode(),
                                  kind="page") for i in range(20)]
    writer.close()
    out.put([(ref.model_dump(), f"<html>{n}/{i}</html>") for i, ref in enumerate(refs)])

writer = ArchiveWriter(Settings(data_dir=Path(sys.argv[1]), archive_fsync=True))
parent = writer.write_response("http://127.0.0.1/parent", 200, [], b"<html>parent</html>", kind="page")
context = multiprocessing.get_context("fork")  # as prefork pools do: the child inherits the open file
out = context.Queue()
children = [context.Process(target=child, args=(writer, n, out)) for n in range(3)]
for c in children:
    c.start()
results = [out.get(timeout=60) for _ in children]
for c in children:
    c.join(timeout=60)
writer.close()
print(json.dumps({"parent": parent.model_dump(), "results": results,
                  "exitcodes": [c.exitcode for c in children]}))
"""


def test_processes_forked_from_a_writer_open_files_of_their_own(tmp_path: Path) -> None:
    # In a process of its own: forking pytest itself would also fork every test's leftover broker pools.
    settings = Settings(data_dir=tmp_path / "data")
    done = subprocess.run([sys.executable, "-c", FORKED_WRITERS, str(settings.data_dir)], check=True,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    report = json.loads(done.stdout)
    assert report["exitcodes"] == [0, 0, 0]
    parent = ArchiveRef(**report["parent"])
    root = archive_root(settings)
    paths = {ArchiveRef(**ref).path for result in report["results"] for ref, _ in result}
    assert len(paths) == 3 and parent.path not in paths
    for result in report["results"]:
        for ref, payload in result:
            assert read_record(ArchiveRef(**ref), root).payload == payload.encode()
    assert read_record(parent, root).payload == b"<html>parent</html>"
    assert not any(p.name.endswith(OPEN_SUFFIX) for p in warc_files(root))


def test_a_new_writer_closes_files_a_killed_writer_of_this_machine_left_open(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(settings.data_dir)], check=False)
    assert killed.returncode == -9
    [left] = warc_files(archive_root(settings))
    assert left.name.endswith(OPEN_SUFFIX)
    writer = ArchiveWriter(settings)
    writer.write_response("http://127.0.0.1/next", 200, [], b"<html>next</html>", kind="page")
    assert (left.parent / left.name.removesuffix(OPEN_SUFFIX)).is_file() and not left.exists()
    writer.close()


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from workers.archive.write import ArchiveWriter
from workers.settings import Settings
writer = ArchiveWriter(Settings(data_dir=Path(sys.argv[1])))
writer.write_response("http://127.0.0.1/a", 200, [], b"<html>a</html>", kind="page")
os.kill(os.getpid(), signal.SIGKILL)
"""
