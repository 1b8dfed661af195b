"""SIGTERM (then a double Ctrl-C) to `newsworkers run`, and a kill -9 of Redis mid-run: the work finishes,
none lost, none doubled."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import (
    TOTAL,
    AofRedisServer,
    Pipeline,
    Report,
    count_index,
    indexed_count,
    prepare_run,
    wait_for_growth,
    wait_for_index,
)
from tests.site import FixtureSite
from workers.settings import Settings

pytestmark = pytest.mark.slow


def finish(report: Report, settings: Settings, started: float) -> None:
    report.total_s = time.monotonic() - started
    contents = count_index(report, settings)
    report.extra += f" index_docs={contents.count}"
    report.print()
    assert (report.lost, report.duplicated, contents.count) == (0, 0, TOTAL)


def test_sigterm_mid_run_then_a_second_run_finishes_the_work(
    settings: Settings, site: FixtureSite, pipeline: Callable[[dict[str, str]], Pipeline]
) -> None:
    settings, env = prepare_run(settings, site)
    report = Report("SIGTERM to newsworkers run, run again, double Ctrl-C, run again", sent=TOTAL)
    started = time.monotonic()
    first = pipeline(env)
    wait_for_index(settings, TOTAL // 4, timeout_s=180, run=first)
    first.signal(signal.SIGTERM)
    assert first.stop() == 0, first.output()
    stopped_at = indexed_count(settings)
    report.extra = f"indexed_when_stopped={stopped_at}"
    assert stopped_at < TOTAL, "the run finished before it was stopped; the test proves nothing"
    second = pipeline(env)
    report.recover_s.append(wait_for_growth(settings, run=second))
    # Then Ctrl-C twice: the second one kills the workers at once; what they held is given back.
    wait_for_index(settings, TOTAL * 3 // 5, timeout_s=240, run=second)
    second.signal(signal.SIGINT)
    time.sleep(0.5)
    second.signal(signal.SIGINT)
    assert second.stop() == 0, second.output()
    report.extra += f" indexed_at_double_ctrl_c={indexed_count(settings)}"
    assert indexed_count(settings) < TOTAL, "the second run finished before it was stopped; the test proves nothing"
    third = pipeline(env)
    report.recover_s.append(wait_for_growth(settings, run=third))
    wait_for_index(settings, TOTAL, timeout_s=240, run=third)
    time.sleep(2)
    assert third.stop() == 0, third.output()
    finish(report, settings, started)


def test_redis_killed_and_restarted_mid_run(
    settings: Settings, site: FixtureSite, pipeline: Callable[[dict[str, str]], Pipeline], tmp_path: Path
) -> None:
    server = AofRedisServer(tmp_path / "own-redis", appendfsync="everysec")
    server.start()
    try:
        settings, env = prepare_run(settings, site, redis_url=server.url)
        report = Report("kill -9 Redis (AOF everysec), restart 2 s later", sent=TOTAL)
        started = time.monotonic()
        run = pipeline(env)
        for n in (1, 2):
            wait_for_index(settings, TOTAL * n // 3, timeout_s=180, run=run)
            at_kill = indexed_count(settings)
            assert at_kill < TOTAL, "the run finished before Redis was killed; the test proves nothing"
            server.kill()
            time.sleep(2)
            server.start()
            # Growth past the count at the kill: extract children keep working through the outage, and what
            # they finish may be indexed the moment Redis is back, even the run's last articles.
            report.recover_s.append(wait_for_index(settings, at_kill + 1, timeout_s=180, run=run))
        wait_for_index(settings, TOTAL, timeout_s=240, run=run)
        time.sleep(2)
        assert run.stop() == 0, run.output()
        finish(report, settings, started)
    finally:
        server.stop()
