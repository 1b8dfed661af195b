"""Backfill: load history from WARC/ARC files, news sitemaps or URL lists into the live pipeline.

One module per source (:mod:`.warc`, :mod:`.sitemap`, :mod:`.urls`), the Redis checkpoint that makes a
backfill resumable (:mod:`.checkpoint`), and the sender that dedupes, filters and enqueues on the
backfill queues (:mod:`.enqueue`). The CLI is :mod:`workers.cli.backfill`; the one-shot runner that
starts workers or only enqueues is :mod:`workers.ops.oneshot`.
"""

from __future__ import annotations

__all__: list[str] = []
