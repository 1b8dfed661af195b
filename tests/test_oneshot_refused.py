"""One-shot commands on a host that refuses connections end fast, say why, and count each item once."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, newsworkers_cli
from tests.site import Canned, FixtureSite, rss
from workers.state.embedded_redis import free_port

pytestmark = pytest.mark.slow


def _embedded_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env["NEWSWORKERS_DATA_DIR"] = str(data_dir)
    return env


def test_backfill_of_a_page_on_a_refusing_host_ends_within_a_minute_as_fetch_connect(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    refused = f"http://127.0.0.1:{free_port()}/news/one.html"  # nothing listens there: connection refused
    urls.write_text(refused + "\n")
    env = _embedded_env(tmp_path / "data")
    started = time.monotonic()
    # Default retry settings: the bound under test is the one a user gets without tuning anything.
    result = subprocess.run([*newsworkers_cli(), "backfill", "urls", str(urls), "--json"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=180)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["finished"] and summary["queued"] == 1
    # One URL that failed for good: one failure, however many attempts it took.
    assert summary["pipeline_failed"] == {"fetch.connect": 1}, summary
    assert elapsed < 60, f"took {elapsed:.0f}s"
    # What it waited on was on screen (stderr with --json; a plain line every few seconds off a terminal).
    shown = " ".join(result.stderr.split())
    assert "waiting: fetch 127.0.0.1:" in shown and "(fetch.connect), next attempt in" in shown
    assert "attempts left" in shown or "attempt left" in shown

    listed = subprocess.run([*newsworkers_cli(), "failed", "list", "--json"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    letters = json.loads(listed.stdout)
    assert [(d["url"], d["reason"]) for d in letters] == [(refused, "fetch.connect")]

    # `failed retry` sees what it sends back through, as backfill does, and counts it once.
    started = time.monotonic()
    retried = subprocess.run([*newsworkers_cli(), "failed", "retry", "--all"], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=180)
    assert retried.returncode == 0, retried.stdout[-2000:] + retried.stderr[-3000:]
    said = " ".join(retried.stdout.split())
    assert "1 sent back" in said and "0 went through, 1 failed again" in said and "1 failed fetch.connect" in said
    assert time.monotonic() - started < 60


def test_run_once_over_a_feed_whose_pages_refuse_ends_within_a_minute(tmp_path: Path, site: FixtureSite) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    name = f"refusing-{uuid.uuid4().hex[:8]}"
    site.dynamic[name] = Canned(body=rss("Refusing", [("One", f"{dead}/one.html"), ("Two", f"{dead}/two.html")]))
    env = _embedded_env(tmp_path / "data")
    added = subprocess.run([*newsworkers_cli(), "feeds", "add", site.url(f"/dyn/{name}")], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    started = time.monotonic()
    result = subprocess.run([*newsworkers_cli(), "run", "--once"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=180)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert elapsed < 60, f"took {elapsed:.0f}s"
    said = " ".join(result.stdout.split())
    assert said.count("fetch.connect") >= 2, said[-2000:]
