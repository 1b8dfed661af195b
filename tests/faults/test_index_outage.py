"""The index unavailable for 30 s mid-run (another process holds the Tantivy writer): everything lands after."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

from tests.conftest import wait_until
from tests.faults.conftest import TOTAL, Pipeline, Report, count_index, indexed_count, prepare_run, wait_for_index
from tests.site import FixtureSite
from workers.core.errors import IndexingError
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings

pytestmark = pytest.mark.slow

OUTAGE_S = 30


def take_writer(settings: Settings) -> TantivyBackend:
    deadline = time.monotonic() + 20
    while True:
        try:
            return TantivyBackend(settings.index_dir, writer=True)
        except IndexingError:  # the killed worker's lock goes with its last file descriptor
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_index_locked_for_30_s_then_everything_lands(
    settings: Settings, site: FixtureSite, pipeline: Callable[[dict[str, str]], Pipeline]
) -> None:
    settings, env = prepare_run(settings, site)
    report = Report(f"index writer held by another process for {OUTAGE_S} s", sent=TOTAL)
    started = time.monotonic()
    run = pipeline(env)
    wait_for_index(settings, TOTAL // 5, timeout_s=180, run=run)
    # The index worker restarts while another process holds the writer: every batch meets index.locked.
    run.kill_worker("index")
    holder = take_writer(settings)
    client = redis.Redis.from_url(settings.redis_url or "", decode_responses=True)
    try:
        at_outage = indexed_count(settings)
        wait_until(lambda: client.zcard(f"{settings.namespace}:delayed") > 0, timeout_s=60,
                   what="index batches held back for a retry")
        time.sleep(OUTAGE_S)
        assert indexed_count(settings) == at_outage  # nothing reached the index, nothing was marked done
        held = client.zcard(f"{settings.namespace}:delayed")
        assert client.hlen(f"{settings.namespace}:failed") == 0
    finally:
        holder.close()
        del holder
    report.recover_s.append(wait_for_index(settings, at_outage + 1, timeout_s=60, run=run))
    wait_for_index(settings, TOTAL, timeout_s=240, run=run)
    report.total_s = time.monotonic() - started
    time.sleep(2)
    assert run.stop() == 0, run.output()
    contents = count_index(report, settings)
    report.extra = f"index_docs={contents.count} held_in_redis_during_outage={held} indexed_at_outage={at_outage}"
    report.print()
    assert (report.lost, report.duplicated, contents.count) == (0, 0, TOTAL)
    client.close()
