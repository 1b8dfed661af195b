"""`delete --dry-run`: what a takedown would remove, listed, with nothing changed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.conftest import cli_environment, run_cli
from workers.core.models import Article, DateSource, utcnow
from workers.search.tantivy.backend import TantivyBackend


def _article(key: str, domain: str, days_ago: int) -> Article:
    return Article(id=key, id_version=1, url=f"https://{domain}/{key}", domain=domain, title=f"Story {key}",
                   body="Text of the story.", language="en", published_at=utcnow() - timedelta(days=days_ago),
                   date_source=DateSource.PAGE, fetched_at=utcnow())


def test_delete_dry_run_lists_what_would_go_and_changes_nothing(tmp_path: Path, redis_url: str,
                                                                namespace: str) -> None:
    data_dir = tmp_path / "data"
    writer = TantivyBackend(data_dir / "index", writer=True)
    writer.upsert([_article("a1", "paper.example", 3), _article("a2", "news.paper.example", 1),
                   _article("a3", "other.example", 2)])
    writer.close()
    env = cli_environment(data_dir, redis_url, namespace)
    shown = run_cli(env, "delete", "--domain", "paper.example", "--dry-run", "--block")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "https://news.paper.example/a2" in lines[0] and "https://paper.example/a1" in lines[1]  # newest first
    assert "2 documents would be deleted; --block would also block it (dry run: nothing changed)" in " ".join(
        shown.stdout.split())
    data = json.loads(run_cli(env, "delete", "--domain", "paper.example", "--dry-run", "--json").stdout)
    assert data["would_delete"] == 2 and [d["id"] for d in data["documents"]] == ["a2", "a1"]
    assert TantivyBackend(data_dir / "index").count() == 3
    assert json.loads(run_cli(env, "blocklist", "list", "--json").stdout) == {"urls": [], "domains": []}
    one = json.loads(run_cli(env, "delete", "--url", "https://other.example/a3", "--dry-run", "--json").stdout)
    assert one["would_delete"] == 1
