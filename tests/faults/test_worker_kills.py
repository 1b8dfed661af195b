"""kill -9 of workers mid-run (extract three times, fetch and index once each, at different moments):
every article indexed exactly once, counted in the index itself."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.faults.conftest import (
    FEEDS,
    PER_FEED,
    Pipeline,
    Report,
    add_generated_feeds,
    expected_articles,
    fault_settings,
    index_contents,
    indexed_count,
    run_env,
    wait_for_index,
    wait_for_stage,
)
from tests.site import FixtureSite
from workers.settings import Settings

pytestmark = pytest.mark.slow

TOTAL = FEEDS * PER_FEED
KILLS = ("extract", "fetch", "extract", "index", "extract")


def kill_run(kills: tuple[str, ...], settings: Settings, site: FixtureSite,
             pipeline: Callable[[dict[str, str]], Pipeline], **overrides: object) -> Report:
    settings = fault_settings(settings, **overrides)
    env = run_env(settings)
    add_generated_feeds(env, site)
    report = Report(f"kill -9 of workers: {', '.join(kills)}", sent=TOTAL)
    started = time.monotonic()
    run = pipeline(env)
    step = TOTAL // (len(kills) + 2)
    for n, kind in enumerate(kills):
        wait_for_index(settings, step * (n + 1), timeout_s=180, run=run)
        run.kill_worker(kind)
        report.recover_s.append(wait_for_stage(settings, kind))  # until the replacement finished an item
    wait_for_index(settings, TOTAL, timeout_s=240, run=run)
    report.total_s = time.monotonic() - started
    time.sleep(2)  # anything still redelivered would land now, and be counted as a duplicate
    assert run.stop() == 0, run.output()
    contents = index_contents(settings)
    report.indexed, report.duplicated = len(contents.generated()), contents.duplicated
    report.lost = len(expected_articles() - contents.generated())
    report.extra = f"index_docs={contents.count}"
    report.print()
    assert (report.lost, report.duplicated, contents.count) == (0, 0, TOTAL)
    assert indexed_count(settings) == TOTAL
    return report


def test_workers_killed_mid_run_lose_and_double_nothing(settings: Settings, site: FixtureSite, pipeline) -> None:  # type: ignore[no-untyped-def]
    kill_run(KILLS, settings, site, pipeline)
