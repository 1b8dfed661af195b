"""The page archive's size per article, and what archiving costs a `run --once`.

Two embedded-defaults runs over the offline corpus in seeds/ (real Redis, real workers, real Tantivy):
the baseline with ``NEWSWORKERS_ARCHIVE_ENABLED=false``, then the same with the archive on. It prints
the wall time of both and their ratio, then, for the archived run: articles indexed, bytes of the whole
archive (WARC files, gzip per record, feed documents and warcinfo records included) per article, the
mean stored page record, and the raw page bytes it holds (so the gzip ratio).

Then the fixture site's pages over HTTP (127.0.0.1): its hand-written articles and generated news
pages, fetched by the real fetch stage with and without the archive: bytes per page, and the ratio of
the two fetch times.

    .venv/bin/python bench/archive_bytes.py [--seeds seeds] [--pages 300]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import LOOPBACK_SETTINGS  # noqa: E402
from tests.site import ARTICLES, FixtureSite, make_handler  # noqa: E402
from workers.archive.read import read_record  # noqa: E402
from workers.archive.write import ArchiveWriter  # noqa: E402
from workers.core.ids import document_id  # noqa: E402
from workers.core.models import ArchiveRef, FeedItem  # noqa: E402
from workers.net import http  # noqa: E402
from workers.pipeline.fetch.page import fetch_page  # noqa: E402
from workers.search.model import SearchQuery  # noqa: E402
from workers.search.tantivy.backend import TantivyBackend  # noqa: E402
from workers.settings import Settings  # noqa: E402


def run_once(data_dir: Path, seeds: Path, *, archive: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env.update(NEWSWORKERS_DATA_DIR=str(data_dir), NEWSWORKERS_SEEDS_DIR=str(seeds),
               NEWSWORKERS_ARCHIVE_ENABLED="true" if archive else "false")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", "from workers.cli.main import main; main()", "run", "--once"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return time.monotonic() - started


def fixture_pages(tmp: Path, pages: int) -> None:
    site = FixtureSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(site))
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    urls = [site.url(f"/articles/{slug}.html") for slug in ARTICLES]
    urls += [site.url(f"/gen/{n % 10}/{n}.html") for n in range(pages - len(urls))]
    items = [FeedItem(doc_id=document_id(u), url=u, feed_url=site.url("/feeds/news.xml"), title="t") for u in urls]
    settings = Settings(data_dir=tmp / "fixture", **LOOPBACK_SETTINGS)
    writer = ArchiveWriter(settings)
    timings = {}
    with http.make_client(settings, timeout_s=10) as client:
        for archive in (None, writer, None, writer):  # twice each, interleaved: the second pair is reported
            started = time.perf_counter()
            fetched = [fetch_page(item, settings, client, archive=archive) for item in items]
            timings[archive is not None] = time.perf_counter() - started
    writer.close()
    server.shutdown()
    refs = [p.archive for p in fetched if p.archive is not None]
    stored = sum(r.length for r in refs) / len(refs)
    raw = sum(len(read_record(r, writer.root).payload) for r in refs) / len(refs)
    print(f"fixture site, {len(items)} pages over HTTP: {stored:.0f} bytes stored per page (gzip, feed item "
          f"included), {raw:.0f} raw; fetch time with the archive / without: {timings[True] / timings[False]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fixture_pages(Path(tmp), args.pages)
        baseline = run_once(Path(tmp) / "off", args.seeds, archive=False)
        archived = run_once(Path(tmp) / "on", args.seeds, archive=True)
        data = Path(tmp) / "on"
        backend = TantivyBackend(data / "index")
        articles = [backend.get(hit.id) for hit in backend.search(SearchQuery(limit=10_000)).hits]
        backend.close()
        refs = [ArchiveRef(path=a.archive_path, offset=a.archive_offset, length=a.archive_length)
                for a in articles if a is not None and a.archive_path and a.archive_offset is not None
                and a.archive_length]
        archive_dir = data / "archive"
        total = sum(p.stat().st_size for p in archive_dir.rglob("*") if p.is_file())
        raw = sum(len(read_record(ref, archive_dir).payload) for ref in refs)
        stored = sum(ref.length for ref in refs)
    count = len(articles)
    print(f"run --once, archive off: {baseline:.1f}s; archive on: {archived:.1f}s; ratio {archived / baseline:.2f}")
    print(f"articles indexed: {count}, with an archived page: {len(refs)}")
    print(f"archive: {total} bytes in all, {total / count:.0f} bytes per article")
    print(f"page records: {stored / len(refs):.0f} bytes stored per page (gzip), {raw / len(refs):.0f} raw; "
          f"gzip keeps {stored / raw:.2f} of the bytes")


if __name__ == "__main__":
    main()
