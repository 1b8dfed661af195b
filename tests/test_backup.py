"""Backup and restore of the embedded data directory: a restore into a fresh data directory (and namespace)
searches the same, has the same feeds and state; restore refuses a directory in use; and a backup taken while
a real `newsworkers run` ingests (with a takedown sent through its index worker) restores into a directory
that a `run --once` then completes, every article indexed once and the blocked one never."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT, cli_environment, newsworkers_cli, run_cli, scratch_namespace, wait_until
from tests.site import FixtureSite
from workers.core.errors import ConfigError
from workers.core.ids import document_id
from workers.core.models import Article, DateSource, Feed
from workers.ops.backup import BackupManifest, backup, restore
from workers.runtime import Runtime
from workers.search.model import SearchQuery, Sort
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings
from workers.state.blocklist import Blocklist
from workers.state.ownership import DataDirLock

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
QUERIES = [SearchQuery(text="harbour"), SearchQuery(text="story", filters={"domain": ["b.example"]}),
           SearchQuery(sort=Sort.DATE, limit=100), SearchQuery(text="gen", limit=100)]


@pytest.fixture
def other_namespace(redis_url: str) -> Iterator[str]:
    """A second namespace to restore into."""
    yield from scratch_namespace(redis_url)


def doc(key: str, domain: str, hours: int, words: str = "") -> Article:
    url = f"https://{domain}/news/{key}"
    return Article(id=document_id(url), id_version=2, url=url, domain=domain, title=f"Story {key}",
                   body=f"The story called {key}. {words}", published_at=T0 + timedelta(hours=hours),
                   date_source=DateSource.PAGE, fetched_at=T0)


def hits(index: Path) -> list[list[str]]:
    reader = TantivyBackend(index)
    try:
        return [[h.id for h in reader.search(q).hits] for q in QUERIES]
    finally:
        reader.close()


def test_a_restore_into_a_fresh_directory_searches_the_same(tmp_path: Path, settings: Settings,
                                                           other_namespace: str) -> None:
    runtime = Runtime(settings)
    docs = [doc(f"s{i}", "a.example" if i % 2 else "b.example", i, "harbour" if i % 3 == 0 else "") for i in range(30)]
    runtime.index_writer.upsert(docs)
    runtime.index_writer.close()
    for number in range(3):
        runtime.registry.add(Feed(url=f"https://feeds.example/{number}.xml", title=f"Feed {number}"))
    runtime.tracker.finish([d.id for d in docs])
    Blocklist(runtime.redis, settings.namespace).block_domain("spam.example")
    runtime.redis.set(f"{settings.namespace}:short-lived", "x", ex=3600)
    (settings.data_dir / "archive").mkdir(parents=True)
    (settings.data_dir / "archive" / "pages-0001.warc.gz").write_bytes(b"\x1f\x8b" + bytes(range(256)) * 40)

    manifest = backup(settings, tmp_path / "backup")
    assert (manifest.documents, manifest.feeds, manifest.archive_files) == (30, 3, 1)
    assert BackupManifest.read(tmp_path / "backup") == manifest
    with pytest.raises(ConfigError, match="not empty"):
        backup(settings, tmp_path / "backup")

    fresh = settings.model_copy(update={"data_dir": tmp_path / "fresh", "namespace": other_namespace})
    restore(fresh, tmp_path / "backup")
    assert hits(fresh.index_dir) == hits(settings.index_dir)
    assert all(hits(fresh.index_dir)[:3]), "every query finds something"
    again = Runtime(fresh)
    try:
        assert again.registry.all() == runtime.registry.all()
        assert again.tracker.seen_count() == 30
        assert Blocklist(again.redis, other_namespace).entries().domains == ["spam.example"]
        assert 0 < again.redis.ttl(f"{other_namespace}:short-lived") <= 3600
        assert ((fresh.data_dir / "archive" / "pages-0001.warc.gz").read_bytes()
                == (settings.data_dir / "archive" / "pages-0001.warc.gz").read_bytes())
        with pytest.raises(ConfigError, match="already holds an index") as caught:
            restore(fresh, tmp_path / "backup")
        assert caught.value.reason == "backup.target"
        again.redis.set(f"{other_namespace}:added-later", "1")
        restore(fresh, tmp_path / "backup", force=True)
        assert not again.redis.exists(f"{other_namespace}:added-later")
    finally:
        again.close()
        runtime.close()


def test_restore_refuses_a_directory_a_process_owns_and_a_folder_that_is_no_backup(tmp_path: Path,
                                                                                  settings: Settings) -> None:
    backup(settings, tmp_path / "empty-backup")  # nothing ingested yet: an empty backup is still a backup
    owned = DataDirLock(settings.data_dir)
    assert owned.acquire()
    try:
        with pytest.raises(ConfigError, match="owned by running process") as caught:
            restore(settings, tmp_path / "empty-backup")
        assert caught.value.reason == "backup.in_use"
    finally:
        owned.release()
    (tmp_path / "nothing").mkdir()
    with pytest.raises(ConfigError, match="not a newsworkers backup"):
        restore(settings, tmp_path / "nothing")
    with pytest.raises(ConfigError, match="outside the data directory"):
        backup(settings, settings.data_dir / "inside")


PAGES_PER_FEED = 40
FEEDS = (71, 72, 73)


@pytest.mark.slow
def test_backup_while_run_ingests_restores_and_completes(tmp_path: Path, site: FixtureSite, redis_url: str,
                                                         namespace: str, other_namespace: str) -> None:
    data_dir, fresh_dir = tmp_path / "data", tmp_path / "fresh"
    # Pages a quarter second apart: the run is still ingesting when the takedown and the backup come.
    env = {**cli_environment(data_dir, redis_url, namespace), "NEWSWORKERS_EXTRACT_CONCURRENCY": "1",
           "NEWSWORKERS_DOMAIN_MIN_INTERVAL_S": "0.25"}
    fresh_env = {**cli_environment(fresh_dir, redis_url, other_namespace), "NEWSWORKERS_EXTRACT_CONCURRENCY": "1"}
    feeds = [site.url(f"/gen/{number}.xml?m={PAGES_PER_FEED}") for number in FEEDS]
    for url in feeds:
        assert run_cli(env, "feeds", "add", url).returncode == 0
    reader = TantivyBackend(data_dir / "index")
    run = subprocess.Popen([*newsworkers_cli(), "run"], env=env, cwd=ROOT, stdout=(tmp_path / "run.out").open("w"),
                           stderr=(tmp_path / "run.err").open("w"))
    try:
        wait_until(lambda: (data_dir / "index" / "meta.json").exists() and reader.count() >= 5, timeout_s=180,
                   what="a first few articles indexed", interval_s=0.5)
        # A takedown while `run` owns the index: it goes through the index worker.
        taken_down = reader.search(SearchQuery(sort=Sort.DATE, limit=1)).hits[0]
        deleted = run_cli(env, "delete", "--url", taken_down.url, "--block")
        assert deleted.returncode == 0, deleted.stderr
        assert "1 documents deleted (index worker)" in deleted.stdout
        assert reader.get(taken_down.id) is None

        taken = run_cli(env, "backup", str(tmp_path / "backup"))
        assert taken.returncode == 0, taken.stderr
        assert run.poll() is None, "the run went on during the backup"
    finally:
        run.send_signal(signal.SIGINT)
        run.wait(timeout=120)
    manifest = BackupManifest.read(tmp_path / "backup")
    total = len(FEEDS) * PAGES_PER_FEED - 1  # all but the one taken down
    assert 4 <= manifest.documents < total, "the backup was taken while articles were still coming in"
    assert manifest.feeds == len(FEEDS)

    refused = run_cli(fresh_env, "restore", str(tmp_path / "backup"))
    assert refused.returncode == 0, refused.stderr
    assert hits(fresh_dir / "index") == hits(tmp_path / "backup" / "index")
    assert hits(fresh_dir / "index")[3], "the generated pages are found"
    assert TantivyBackend(fresh_dir / "index").count() == manifest.documents
    listed = [json.loads(run_cli(e, "feeds", "list", "--json").stdout) for e in (env, fresh_env)]
    assert listed[0] == listed[1] and len(listed[0]) == len(FEEDS)
    assert json.loads(run_cli(fresh_env, "blocklist", "list", "--json").stdout)["urls"] == [taken_down.url]

    # The restored directory picks up where the backup stood: every article once, the blocked one never.
    finished = subprocess.run([*newsworkers_cli(), "run", "--once", "--timeout", "150"], env=fresh_env, cwd=ROOT,
                              capture_output=True, text=True, timeout=200)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    restored = TantivyBackend(fresh_dir / "index")
    ids = restored.ids_where(SearchQuery())
    assert len(ids) == len(set(ids)) == total
    assert taken_down.id not in ids


def test_index_snapshots_taken_during_commits_and_merges_open_whole(tmp_path: Path) -> None:
    from workers.ops.backup import _snapshot_index

    writer = TantivyBackend(tmp_path / "index", writer=True)
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        batch = 0
        while not stop.is_set():  # small commits: many segments, which the writer keeps merging
            writer.upsert([doc(f"w{batch}-{i}", "w.example", batch) for i in range(5)])
            written.append(batch)
            batch += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        counts = []
        for number in range(10):
            wait_until(lambda n=number: len(written) >= 2 * n, timeout_s=60, what="more commits")
            copy = tmp_path / f"copy{number}"
            _snapshot_index(tmp_path / "index", copy)
            reader = TantivyBackend(copy)
            # Every document of the copy reads back (no segment file missing), and counts agree.
            ids = reader.ids_where(SearchQuery())
            assert len(ids) == reader.count() == len(set(ids))
            assert all(reader.get(i) is not None for i in ids[:: max(1, len(ids) // 20)])
            counts.append(len(ids))
            reader.close()
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert counts == sorted(counts) and counts[-1] > counts[0], "the copies followed the writes"
    assert len(written) >= 18
