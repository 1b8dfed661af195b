"""Poison pages (the extractor raises, hangs, eats memory, kills its worker): each dead-lettered with its
reason, every other article indexed. The misbehaviour comes from tests/faults/hooks (test-only)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.conftest import ROOT, newsworkers_cli, wait_until
from tests.faults.conftest import FEEDS, HOOKS, PER_FEED, Pipeline, Report, count_index, prepare_run, wait_for_index
from tests.site import POISON_KINDS, FixtureSite
from workers.settings import Settings

pytestmark = pytest.mark.slow

FEEDS_HERE = FEEDS // 2  # a smaller run: the hostile pages are the point
TOTAL = FEEDS_HERE * PER_FEED
REASONS = {"raise": "extract.crash", "hang": "extract.timeout", "memory": "extract.memory",
           "crash": "extract.poison"}


def dead_letters(env: dict[str, str]) -> dict[str, str]:
    result = subprocess.run([*newsworkers_cli(), "failed", "list", "--json"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return {letter["url"].rsplit("/", 1)[-1].removesuffix(".html"): letter["reason"]
            for letter in json.loads(result.stdout)}


def test_poison_pages_are_dead_lettered_with_their_reason_and_the_rest_indexed(
    settings: Settings, site: FixtureSite, pipeline: Callable[[dict[str, str]], Pipeline]
) -> None:
    settings, env = prepare_run(settings, site, feeds=FEEDS_HERE,
                                env={"NEWSWORKERS_TEST_FAULT_HOOKS": "1", "PYTHONPATH": f"{HOOKS}:{ROOT}"},
                                extract_time_limit_s=20)  # the hang meets the soft limit after 10 s
    added = subprocess.run([*newsworkers_cli(), "feeds", "add", site.url("/gen/poison.xml")], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    report = Report("poison pages (raise, hang, memory, worker killed)", sent=TOTAL + len(POISON_KINDS))
    started = time.monotonic()
    run = pipeline(env)
    wait_for_index(settings, TOTAL, timeout_s=300, run=run, failures_allowed=True)
    wait_until(lambda: len(dead_letters(env)) >= len(POISON_KINDS), timeout_s=240, what="every poison page",
               interval_s=2)
    report.total_s = time.monotonic() - started
    letters = dead_letters(env)
    assert run.stop() == 0, run.output()
    contents = count_index(report, settings, feeds=FEEDS_HERE)
    report.extra = f"dead_letters={letters}"
    report.print()
    assert letters == REASONS
    assert (report.lost, report.duplicated, contents.count) == (0, 0, TOTAL)
