"""bench/scale.py at a toy size: each part runs, and the JSON it ends with has the figures people read.
The figures themselves prove nothing on a shared machine; what is checked is what must hold at any size:
every feed was polled and re-polled at 304, the host spacing held, the seen window emptied behind itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_small_scale_benchmark_reports_every_figure() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWORKERS_")}
    command = [sys.executable, str(ROOT / "bench" / "scale.py"), "--feeds", "60", "--hosts", "12", "--threads", "2",
               "--articles", "30000", "--window", "2", "--index-docs", "3000", "--json"]
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["feeds"] == 60 and figures["items_enqueued"] == 60 * 20
    assert figures["claim_feeds"] == 60 and figures["claim_spacing_violations"] == 0
    assert figures["articles"] == 30000 and figures["index_docs"] == 3000
    # Past the window nothing is left of the early articles: Redis holds what is in it, a fraction of them.
    assert figures["articles_in_window_at_end"] < 30000
    for key in ("redis_bytes_per_feed", "redis_bytes_per_article_after_window", "index_rate_ratio",
                "search_p95_growth", "full_vs_raw", "repoll_cost_ratio", "claim_feeds_per_s",
                "index_disk_bytes_per_doc", "index_writer_rss_mb", "index_reader_rss_mb"):
        assert isinstance(figures[key], float), key
