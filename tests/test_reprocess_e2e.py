"""`newsworkers reprocess` end to end on embedded defaults: after a pipeline-version bump every document is
extracted again from the page archive (the corpus itself is gone by then) and updated in place."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, newsworkers_cli
from workers.core.models import PIPELINE_VERSION, Article
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend

pytestmark = pytest.mark.slow


def cli(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*newsworkers_cli(), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


def all_articles(index_dir: Path) -> dict[str, Article]:
    backend = TantivyBackend(index_dir)
    try:
        hits = backend.search(SearchQuery(limit=1000)).hits
        return {hit.id: backend.get(hit.id) for hit in hits}  # type: ignore[misc]
    finally:
        backend.close()


def rewrite(index_dir: Path, articles: list[Article]) -> None:
    backend = TantivyBackend(index_dir, writer=True)
    try:
        backend.upsert(articles)
    finally:
        backend.close()


def test_reprocess_after_a_version_bump_updates_every_document_in_place(tmp_path: Path) -> None:
    corpus = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", corpus)
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env.update(NEWSWORKERS_DATA_DIR=str(data_dir), NEWSWORKERS_SEEDS_DIR=str(corpus))
    ran = cli("run", "--once", "--timeout", "180", env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    index_dir = data_dir / "index"
    first = all_articles(index_dir)
    assert len(first) >= 20
    assert all(a.archive_path and a.pipeline_version == PIPELINE_VERSION for a in first.values())

    # The documents as an older pipeline would have left them: another version, another title. One of them
    # has no archived page (indexed before the archive existed).
    unarchived = sorted(first)[0]
    rewrite(index_dir, [a.model_copy(update={"pipeline_version": PIPELINE_VERSION - 1, "title": "stale title",
                                             **({"archive_path": None, "archive_offset": None,
                                                 "archive_length": None} if a.id == unarchived else {})})
                        for a in first.values()])
    shutil.rmtree(corpus)  # no network, no corpus: only the archive can give the pages back

    redone = cli("reprocess", "--only-older-version", "--json", env=env)
    assert redone.returncode == 0, redone.stdout + redone.stderr
    summary = json.loads(redone.stdout.strip().splitlines()[-1])
    assert summary == {"chosen": len(first), "queued": len(first) - 1, "skipped_no_archive": 1,
                       "skipped_current_version": 0, "reindexed": len(first) - 1, "pending": 0, "failed": 0,
                       "failed_reasons": {}}
    after = all_articles(index_dir)
    assert set(after) == set(first)  # same ids, nothing duplicated, nothing lost
    for doc_id, article in after.items():
        if doc_id == unarchived:
            assert article.pipeline_version == PIPELINE_VERSION - 1 and article.title == "stale title"
            continue
        assert article.pipeline_version == PIPELINE_VERSION
        assert article.title == first[doc_id].title and article.body == first[doc_id].body
        assert article.archive_path == first[doc_id].archive_path
        assert article.indexed_at is not None and article.indexed_at > first[doc_id].indexed_at  # type: ignore[operator]

    again = cli("reprocess", "--only-older-version", "--json", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["queued"] == 0
