"""prune_archive removes whole closed WARC files past a date, by domain only when a file holds nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workers.archive.prune import prune_archive, summarize_file
from workers.archive.read import read_record
from workers.archive.write import OPEN_SUFFIX, ArchiveWriter, archive_root, host_label
from workers.core.errors import ExtractionError
from workers.core.models import ArchiveRef
from workers.settings import Settings

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=100)


def one_file(settings: Settings, pages: list[tuple[str, datetime]]) -> ArchiveRef:
    """A closed WARC file holding these pages (URL, fetch time); the pointer of its first page."""
    writer = ArchiveWriter(settings)
    refs = [writer.write_response(url, 200, [("Content-Type", "text/html")], f"<html>{url}</html>".encode(),
                                  kind="page", fetched_at=when) for url, when in pages]
    writer.close()
    return refs[0]


def exists(settings: Settings, ref: ArchiveRef) -> bool:
    return (archive_root(settings) / ref.path).is_file()


@pytest.fixture
def archive_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_files_whose_newest_record_is_old_go_and_the_rest_stay(archive_settings: Settings) -> None:
    old = one_file(archive_settings, [("http://a.example/1", OLD), ("http://b.example/1", OLD)])
    mixed = one_file(archive_settings, [("http://a.example/2", OLD), ("http://a.example/3", NOW)])
    fresh = one_file(archive_settings, [("http://c.example/1", NOW)])
    assert summarize_file(archive_root(archive_settings) / mixed.path).newest is not None
    assert prune_archive(archive_settings, NOW - timedelta(days=90)) == 1
    assert not exists(archive_settings, old)
    assert exists(archive_settings, mixed) and exists(archive_settings, fresh)
    with pytest.raises(ExtractionError) as info:
        read_record(old, archive_root(archive_settings))
    assert info.value.reason == "archive.missing"
    # A file untouched since before the cut-off goes without being read (its mtime bounds every record).
    stamp = (NOW - timedelta(days=200)).timestamp()
    os.utime(archive_root(archive_settings) / fresh.path, (stamp, stamp))
    assert prune_archive(archive_settings, NOW - timedelta(days=90)) == 1
    assert not exists(archive_settings, fresh) and exists(archive_settings, mixed)


def test_by_domain_only_files_of_that_domain_alone_go(archive_settings: Settings) -> None:
    only_a = one_file(archive_settings, [("http://a.example/1", OLD), ("http://news.a.example/2", OLD),
                                         ("http://www.a.example/3", OLD)])
    a_and_b = one_file(archive_settings, [("http://a.example/4", OLD), ("http://b.example/1", OLD)])
    only_b = one_file(archive_settings, [("http://b.example/2", OLD)])
    a_recent = one_file(archive_settings, [("http://a.example/5", NOW)])
    assert prune_archive(archive_settings, NOW - timedelta(days=90), domain="a.example") == 1
    assert not exists(archive_settings, only_a)
    assert all(exists(archive_settings, ref) for ref in (a_and_b, only_b, a_recent))
    assert prune_archive(archive_settings, NOW - timedelta(days=90), domain="example") == 2  # subdomains count
    assert exists(archive_settings, a_recent)


def test_open_files_stay_unless_their_writer_died(archive_settings: Settings) -> None:
    writer = ArchiveWriter(archive_settings)
    live = writer.write_response("http://a.example/1", 200, [], b"<html>1</html>", kind="page", fetched_at=OLD)
    open_path = archive_root(archive_settings) / (live.path + OPEN_SUFFIX)
    assert open_path.is_file()
    assert prune_archive(archive_settings, NOW) == 0
    assert open_path.is_file()
    assert read_record(live, archive_root(archive_settings)).payload == b"<html>1</html>"
    # The same file as a writer that crashed would leave it: a process of this machine that is gone.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    orphan = open_path.with_name(f"nw-20200101000000-{host_label()}-{dead.stdout.strip()}-1-00001.warc.gz"
                                 + OPEN_SUFFIX)
    orphan.write_bytes(open_path.read_bytes())
    assert prune_archive(archive_settings, NOW) == 1
    assert not orphan.exists() and open_path.is_file()
    writer.close()
    assert prune_archive(archive_settings, NOW) == 1
    assert not any(archive_root(archive_settings).iterdir())  # empty day folders go too


def test_nothing_to_prune_without_an_archive(archive_settings: Settings) -> None:
    assert prune_archive(archive_settings, NOW) == 0
