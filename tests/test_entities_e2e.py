"""Alias search and corrections end to end, with real processes: `newsworkers run --once` with the embedded
defaults over the offline corpus, then `persons:Soleimani` finds the seed article whose person is stored under
another spelling; a correction made while `newsworkers run` owns the index goes through its index worker, and
so does its undo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, newsworkers_cli, wait_until
from workers.core.models import Article
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend

pytestmark = pytest.mark.slow

SEED_PAGE = "baghdad-embassy-rocket-attack.html"


def cli(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*newsworkers_cli(), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


def as_json(env: dict[str, str], *args: str) -> dict:  # type: ignore[type-arg]
    result = cli(env, *args, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One embedded-defaults run over the offline corpus, as the README's first command does it."""
    data_dir = tmp_path_factory.mktemp("entities-seeded") / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env["NEWSWORKERS_DATA_DIR"] = str(data_dir)
    result = cli(env, "run", "--once", "--timeout", "180", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return env


def seed_article(env: dict[str, str]) -> Article:
    reader = TantivyBackend(Path(env["NEWSWORKERS_DATA_DIR"]) / "index")
    try:
        found = [reader.get(h.id) for h in reader.search(SearchQuery(text="embassy", limit=50)).hits]
    finally:
        reader.close()
    pages = [a for a in found if a is not None and a.url.endswith(SEED_PAGE)]
    assert len(pages) == 1
    return pages[0]


def test_persons_soleimani_finds_the_seed_article_stored_under_another_spelling(seeded: dict[str, str]) -> None:
    article = seed_article(seeded)
    assert "Soleimani" not in article.persons  # listed under its full (canonical) name...
    assert any("Soleimani" in a for a in article.aliases_by_kind["persons"])  # ...this spelling merged away
    hits = as_json(seeded, "search", "persons:Soleimani")["hits"]
    assert article.id in [h["id"] for h in hits]
    assert article.id not in [h["id"] for h in as_json(seeded, "search", "organizations:Soleimani")["hits"]]


def test_corrections_while_run_owns_the_index_go_through_its_index_worker(seeded: dict[str, str],
                                                                          tmp_path: Path) -> None:
    article = seed_article(seeded)
    person = article.persons[0]
    run = subprocess.Popen([*newsworkers_cli(), "run"], env=seeded, cwd=ROOT,
                           stdout=(tmp_path / "run.out").open("w"), stderr=(tmp_path / "run.err").open("w"))
    reader = TantivyBackend(Path(seeded["NEWSWORKERS_DATA_DIR"]) / "index")

    def stored() -> Article:
        found = reader.get(article.id)
        assert found is not None
        return found

    try:
        wait_until(lambda: cli(seeded, "status", "--json").returncode == 0 and json.loads(
            cli(seeded, "status", "--json").stdout)["queues"].get("index", {}).get("workers", 0) > 0,
            timeout_s=180, what="the run's index worker consuming", interval_s=1.0)
        made = as_json(seeded, "entities", "rename", person, "The Renamed One", "--kind", "persons")
        assert made["where"] == "index worker" and made["updated"] >= 1
        wait_until(lambda: "The Renamed One" in stored().persons, timeout_s=60, what="the rename indexed")
        assert person in stored().aliases_by_kind["persons"]
        names = {e["name"] for e in as_json(seeded, "entities", "list", "--kind", "persons",
                                            "--limit", "1000")["entities"]["persons"]}
        assert "The Renamed One" in names and person not in names
        undone = as_json(seeded, "entities", "undo", str(made["correction"]["id"]))
        assert undone["where"] == "index worker"
        wait_until(lambda: stored().persons == article.persons, timeout_s=60, what="the undo indexed")
        assert stored().aliases_by_kind == article.aliases_by_kind
        assert run.poll() is None
    finally:
        reader.close()
        run.send_signal(signal.SIGINT)
        run.wait(timeout=120)
