"""bench/pipeline.py at a small size: the whole pipeline with real processes, and the limit beside it.
Checks the JSON it prints and that every generated article was indexed; the figures themselves are for
people (timings on a shared machine prove nothing here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

ARTICLES = 60


def test_small_pipeline_benchmark_indexes_everything_and_reports_its_figures() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWORKERS_")}
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "pipeline.py"), "--articles", str(ARTICLES),
                             "--json"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["articles"] == ARTICLES
    assert figures["indexed"] == ARTICLES  # every generated page went all the way through
    assert figures["limit_articles"] == ARTICLES  # and every one is an article to our own extract stage
    for key in ("end_to_end_per_s", "limit_per_s", "plain_trafilatura_spacy_per_s", "ratio", "cpu_ratio"):
        assert isinstance(figures[key], float) and figures[key] > 0, key
    assert set(figures["cpu_ms_per_article"]) == {"poll", "fetch", "extract", "ner", "index",
                                                  "celery_redis_overhead"}
    assert {"poll", "fetch", "extract", "index"} <= set(figures["peak_rss_mb"])
    assert all(mb > 10 for mb in figures["peak_rss_mb"].values())
