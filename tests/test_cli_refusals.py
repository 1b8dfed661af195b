"""Read commands on a data directory that holds nothing refuse, create nothing; status reports what it can."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import cli_environment, run_cli
from workers.core.models import Article, DateSource, utcnow
from workers.search.tantivy.backend import TantivyBackend
from workers.state.embedded_redis import free_port

READS = [
    ["search", "Soleimani"],
    ["export", "Soleimani", "--format", "csv"],
    ["status"],
    ["status", "--json"],
    ["serve", "--port", "0"],
    ["failed", "list"],
    ["alerts", "list"],
]


def _embedded(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "REDIS_URL"}


def _index_one(data_dir: Path) -> None:
    backend = TantivyBackend(data_dir / "index", writer=True)
    backend.upsert([Article(id="a1", id_version=1, url="https://paper.example/a1", domain="paper.example",
                            title="Rocket strikes embassy", body="Rockets struck.", language="en",
                            published_at=utcnow(), date_source=DateSource.PAGE, fetched_at=utcnow())])
    backend.close()


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_reads_refuse_a_data_directory_that_holds_nothing(tmp_path: Path, redis_url: str, namespace: str,
                                                          args: list[str]) -> None:
    missing = tmp_path / "typo"
    env = _embedded(cli_environment(missing, redis_url, namespace))
    result = run_cli(env, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert f"no index at {missing}: pass --data-dir or run `newsworkers run` first" in message
    assert "Traceback" not in result.stderr
    assert not missing.exists(), "a refused read created the data directory"
    assert result.stdout == "", "nothing to pass on: no CSV header, no empty table"


def test_the_default_data_directory_is_named_as_typed(tmp_path: Path, redis_url: str, namespace: str) -> None:
    env = _embedded(cli_environment(tmp_path, redis_url, namespace))
    env.pop("NEWSWORKERS_DATA_DIR")
    result = run_cli(env, "search", "x", "--data-dir", "data-typo")
    assert result.returncode == 2 and "no index at ./data-typo:" in result.stderr


def test_export_to_a_file_on_a_missing_index_writes_no_file(tmp_path: Path, redis_url: str, namespace: str) -> None:
    # With Redis external the index is still what an export reads: missing, it is refused.
    env = cli_environment(tmp_path / "data", redis_url, namespace)
    out = tmp_path / "out.csv"
    result = run_cli(env, "export", "x", "--format", "csv", "-o", str(out))
    assert result.returncode == 2 and "no index at" in result.stderr
    assert not out.exists() and not (tmp_path / "data").exists()


def test_reads_work_once_there_is_an_index(tmp_path: Path, redis_url: str, namespace: str) -> None:
    env = _embedded(cli_environment(tmp_path / "data", redis_url, namespace))
    _index_one(tmp_path / "data")
    found = run_cli(env, "search", "rocket", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["total"] == 1
    assert run_cli(env, "failed", "list").returncode == 0


def test_status_with_elasticsearch_unreachable_still_prints_the_queues(tmp_path: Path, redis_url: str,
                                                                       namespace: str) -> None:
    env = {**cli_environment(tmp_path / "data", redis_url, namespace),
           "ELASTICSEARCH_URL": f"http://127.0.0.1:{free_port()}"}
    result = run_cli(env, "--set", "status_ping_timeout_s=0.3", "status", "--json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert set(data["queues"]) == {"poll", "fetch", "extract", "index"}
    assert data["queues"]["fetch"]["depth"] == 0
    assert data["index"]["documents"] is None and data["index"]["error"]
    assert data["errors"] == {"index": data["index"]["error"]}
    table = run_cli(env, "--set", "status_ping_timeout_s=0.3", "status")
    assert table.returncode == 1 and "Traceback" not in table.stderr
    assert "fetch" in table.stdout and "waiting" in table.stdout
    assert "index unreadable" in " ".join(table.stderr.split())


def test_status_with_redis_unreachable_still_counts_the_index(tmp_path: Path, namespace: str) -> None:
    _index_one(tmp_path / "data")
    env = cli_environment(tmp_path / "data", f"redis://127.0.0.1:{free_port()}/0", namespace)
    result = run_cli(env, "status", "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["index"] == {"documents": 1, "error": None}
    assert "cannot reach Redis" in data["errors"]["redis"]
    assert data["queues"]["poll"] == {"depth": None, "inflight": None, "workers": None}
    assert data["feeds"] is None
    table = run_cli(env, "status")
    assert table.returncode == 1 and "index: 1 documents" in table.stdout
    assert "redis unreadable" in " ".join(table.stderr.split())
