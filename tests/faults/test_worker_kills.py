"""kill -9 of workers mid-run (extract three times, fetch and index once each, at different moments):
every article indexed exactly once, counted in the index itself."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.conftest import wait_until
from tests.faults.conftest import (
    TOTAL,
    Pipeline,
    Report,
    count_index,
    indexed_count,
    prepare_run,
    stage_done,
    wait_for_index,
    wait_for_stage,
)
from tests.site import FixtureSite
from workers.settings import Settings

pytestmark = pytest.mark.slow

# (kind, how many items that kind has finished when it is killed): each kill meets work still to do.
KILLS = (("fetch", 30), ("extract", 40), ("extract", 80), ("index", 100), ("extract", 120))


def kill_run(kills: tuple[tuple[str, int], ...], settings: Settings, site: FixtureSite,
             pipeline: Callable[[dict[str, str]], Pipeline], **overrides: object) -> Report:
    settings, env = prepare_run(settings, site, **overrides)
    report = Report(f"kill -9 of workers: {', '.join(f'{k}@{n}' for k, n in kills)}", sent=TOTAL)
    started = time.monotonic()
    run = pipeline(env)
    for kind, finished in kills:
        wait_until(lambda k=kind, n=finished: stage_done(settings, k) >= n or run.proc.poll() is not None,  # type: ignore[union-attr]
                   timeout_s=180, what=f"{finished} items through {kind}", interval_s=0.1)
        run.kill_worker(kind)
        report.recover_s.append(wait_for_stage(settings, kind, total=TOTAL))  # the replacement finished one
    wait_for_index(settings, TOTAL, timeout_s=240, run=run)
    report.total_s = time.monotonic() - started
    time.sleep(2)  # anything still redelivered would land now, and be counted as a duplicate
    assert run.stop() == 0, run.output()
    contents = count_index(report, settings)
    report.extra = f"index_docs={contents.count}"
    report.print()
    assert (report.lost, report.duplicated, contents.count) == (0, 0, TOTAL)
    assert indexed_count(settings) == TOTAL
    return report


def test_workers_killed_mid_run_lose_and_double_nothing(settings: Settings, site: FixtureSite, pipeline) -> None:  # type: ignore[no-untyped-def]
    kill_run(KILLS, settings, site, pipeline)
