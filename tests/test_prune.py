"""Pruning by age (published_at): the age syntax, `newsworkers prune` with --domain, --dry-run and --archive,
the retention schedule that sends a prune to the index worker once per interval, and a real `run` pruning
on that schedule."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import ROOT, cli_environment, newsworkers_cli, run_cli, wait_until
from tests.site import FixtureSite
from workers.archive import prune_archive
from workers.core.errors import ConfigError
from workers.core.ids import document_id
from workers.core.models import Article, DateSource
from workers.core.stages import INDEX_DELETE_TASK
from workers.ops.retention import RetentionSchedule, cutoff, parse_age
from workers.pipeline.index.deletion import apply_deletion_message
from workers.runtime import Runtime
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings
from workers.state import Keys

NOW = datetime.now(UTC)


def doc(key: str, age_days: float, domain: str = "example.org") -> Article:
    url = f"https://{domain}/news/{key}"
    published = NOW - timedelta(days=age_days)
    return Article(id=document_id(url), id_version=2, url=url, domain=domain, title=f"Story {key}",
                   body=f"The story called {key}.", published_at=published, date_source=DateSource.PAGE,
                   fetched_at=published)


@pytest.mark.parametrize(("text", "seconds"), [("90d", 90 * 86400), ("12h", 43200), ("2w", 14 * 86400),
                                               ("30m", 1800), ("45s", 45), (" 1.5D ", 1.5 * 86400)])
def test_ages(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("bad", ["90", "d", "-3d", "0d", "3 days", "3y", ""])
def test_bad_ages_say_how_to_write_one(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"e\.g\. 90d"):
        parse_age(bad)


def test_cutoff_is_that_long_before_now() -> None:
    assert cutoff(86400, now=1_000_000.0) == datetime.fromtimestamp(1_000_000.0 - 86400, UTC)


@pytest.mark.slow  # five CLI processes
def test_prune_from_the_cli(tmp_path: Path, redis_url: str, namespace: str) -> None:
    data_dir = tmp_path / "data"
    env = cli_environment(data_dir, redis_url, namespace)
    docs = [doc("new", 1), doc("old", 100), doc("older", 400), doc("old-sub", 120, "news.other.example"),
            doc("new-sub", 2, "news.other.example")]
    backend = TantivyBackend(data_dir / "index", writer=True)
    backend.upsert(docs)
    backend.close()
    reader = TantivyBackend(data_dir / "index")

    dry = run_cli(env, "prune", "--older-than", "90d", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "3 documents published at or before" in dry.stdout and "(dry run)" in dry.stdout
    assert reader.count() == 5

    by_domain = run_cli(env, "prune", "--older-than", "90d", "--domain", "other.example")
    assert by_domain.returncode == 0, by_domain.stderr
    assert "1 documents pruned of other.example" in by_domain.stdout
    assert {d.id for d in docs} - set(reader.ids_where(SearchQuery())) == {docs[3].id}

    everything = run_cli(env, "prune", "--older-than", "90d", "--archive")
    assert everything.returncode == 0, everything.stderr
    assert "2 documents pruned" in everything.stdout
    assert "archive: 0 WARC files pruned" in everything.stdout  # nothing was archived in this data directory
    assert set(reader.ids_where(SearchQuery())) == {docs[0].id, docs[4].id}
    bad = run_cli(env, "prune", "--older-than", "ninety days")
    assert bad.returncode == 2 and "config.age" in bad.stderr


def test_prune_with_archive_removes_archived_pages(tmp_path: Path, settings: Settings) -> None:
    # The archive's own tests cover what it removes; here: the very call `prune --archive` makes goes through,
    # with and without a domain, on a data directory that has no archive yet.
    prune_archive(settings, cutoff(parse_age("90d")), None)
    prune_archive(settings, cutoff(parse_age("90d")), "example.org")


def _queued_deletions(runtime: Runtime) -> list[dict[str, Any]]:
    """The delete messages waiting on the index queue (kombu's JSON envelope, base64 body)."""
    found = []
    for raw in runtime.redis.lrange(runtime.keys.queue("index"), 0, -1):
        envelope = json.loads(raw)
        if envelope.get("headers", {}).get("task") == INDEX_DELETE_TASK:
            args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
            found.append(args[0])
    return found


def test_the_retention_schedule_prunes_once_per_interval_through_the_index_worker(settings: Settings) -> None:
    from workers.worker.app import create_app

    settings = settings.model_copy(update={"retention_days": 90.0, "retention_check_interval_s": 60})
    app = create_app(settings)
    runtime: Runtime = app.runtime  # type: ignore[attr-defined]
    try:
        runtime.index_writer.upsert([doc("new", 1), doc("old", 100)])
        schedule, other_scheduler = RetentionSchedule(runtime, app), RetentionSchedule(runtime, app)
        now = time.time()
        assert schedule.tick(now)
        assert not schedule.tick(now + 1) and not other_scheduler.tick(now + 1)  # once per interval, anywhere
        (message,) = _queued_deletions(runtime)
        assert abs(datetime.fromisoformat(message["selection"]["before"]).timestamp() - (now - 90 * 86400)) < 1
        apply_deletion_message(runtime, message)  # what the index worker does with it
        assert runtime.index_writer.ids_where(SearchQuery()) == [doc("new", 1).id]
        # Off (0 days): the tick costs nothing, not even a Redis call.
        off = RetentionSchedule(Runtime(settings.model_copy(update={"retention_days": 0.0, "redis_url": None})))
        assert not off.tick(now + 3600)
    finally:
        runtime.close()
        app.close()


@pytest.mark.slow
def test_a_running_pipeline_prunes_on_schedule(tmp_path: Path, site: FixtureSite, redis_url: str,
                                               namespace: str) -> None:
    data_dir = tmp_path / "data"
    # The generated pages are dated years ago: with a year's retention each is pruned soon after it is indexed.
    env = {**cli_environment(data_dir, redis_url, namespace), "NEWSWORKERS_RETENTION_DAYS": "365",
           "NEWSWORKERS_RETENTION_CHECK_INTERVAL_S": "2", "NEWSWORKERS_EXTRACT_CONCURRENCY": "1"}
    assert run_cli(env, "feeds", "add", site.url("/gen/81.xml?m=12")).returncode == 0
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = Keys(namespace)
    run = subprocess.Popen([*newsworkers_cli(), "run"], env=env, cwd=ROOT, stdout=(tmp_path / "run.out").open("w"),
                           stderr=(tmp_path / "run.err").open("w"))
    try:
        wait_until(lambda: int(client.hget(keys.stats, "index.ok") or 0) >= 12, timeout_s=180,
                   what="the feed's articles indexed", interval_s=0.5)
        wait_until(lambda: int(client.hget(keys.stats, "index.deleted") or 0) >= 12, timeout_s=60,
                   what="the scheduled prunes", interval_s=0.5)
        assert TantivyBackend(data_dir / "index").count() == 0
        assert run.poll() is None
    finally:
        run.send_signal(signal.SIGINT)
        run.wait(timeout=120)
        client.close()
