"""The Elasticsearch settings and commands as a user meets them, without a cluster: pools, errors, secrets."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import ROOT, newsworkers_cli
from workers.cli import index as cli_index  # noqa: F401  (registers the index commands)
from workers.cli.main import app
from workers.core.errors import ConfigError
from workers.settings import Settings
from workers.state.embedded_redis import free_port
from workers.worker.pools import worker_spec


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*newsworkers_cli(), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ELASTICSEARCH_URL" and not k.startswith("NEWSWORKERS_")}
    return {**env, "NEWSWORKERS_DATA_DIR": str(tmp_path / "data"), **extra}


def test_index_consumers_with_elasticsearch_and_one_writer_without() -> None:
    tantivy = worker_spec("index", Settings(index_batch_size=50))
    assert (tantivy.pool, tantivy.concurrency, tantivy.prefetch_multiplier) == ("solo", 1, 7)  # 7 messages of 8
    es = worker_spec("index", Settings(elasticsearch_url="http://es:9200", index_consumers=3, index_batch_size=50))
    assert (es.pool, es.concurrency, es.prefetch_multiplier) == ("threads", 3, 7)
    io = worker_spec("io", Settings(poll_concurrency=4, fetch_concurrency=12))
    assert (io.queues, io.pool, io.concurrency) == (("poll", "fetch"), "threads", 16)


def test_index_commands_need_elasticsearch_and_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = environment(tmp_path)
    result = cli(env, "index", "create")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "set ELASTICSEARCH_URL" in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
    # The other commands share that guard; in-process is enough for them.
    monkeypatch.delenv("ELASTICSEARCH_URL", raising=False)
    runner = CliRunner()
    for args in (["index", "drop", "--yes"],):
        outcome = runner.invoke(app, [*args, "--data-dir", str(tmp_path / "data")])
        assert isinstance(outcome.exception, ConfigError) and "set ELASTICSEARCH_URL" in str(outcome.exception)
    # migrate has a Tantivy meaning (tests/test_tantivy_migrate.py): with no index yet, nothing to do.
    migrate = runner.invoke(app, ["index", "migrate", "--json", "--data-dir", str(tmp_path / "data")])
    assert migrate.exit_code == 0, migrate.output
    assert json.loads(migrate.stdout)["copied"] == 0
    status = runner.invoke(app, ["index", "status", "--json", "--data-dir", str(tmp_path / "data")])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["backend"] == "tantivy"
    # migrate serves the embedded index too (tests/test_geo_e2e.py moves an old one); a current one stays put.
    migrated = runner.invoke(app, ["index", "migrate", "--json", "--data-dir", str(tmp_path / "data")])
    assert migrated.exit_code == 0, migrated.output
    assert json.loads(migrated.stdout)["current"] is True


def test_an_unreachable_cluster_is_one_clear_line(tmp_path: Path) -> None:
    env = environment(tmp_path, ELASTICSEARCH_URL=f"http://127.0.0.1:{free_port()}",
                      NEWSWORKERS_ELASTICSEARCH_REQUEST_TIMEOUT_S="2")
    result = cli(env, "search", "rocket", "--json")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "index.unavailable" in result.stderr and "Traceback" not in result.stderr


def test_secrets_are_hidden_by_the_settings_command(tmp_path: Path) -> None:
    env = environment(tmp_path, ELASTICSEARCH_URL="https://elastic:hunter2@es.example:9200",
                      NEWSWORKERS_ELASTICSEARCH_API_KEY="c2VjcmV0a2V5", NEWSWORKERS_ELASTICSEARCH_PASSWORD="pw-123")
    result = cli(env, "settings")
    shown = json.loads(result.stdout)
    assert shown["elasticsearch_api_key"] == "***" and shown["elasticsearch_password"] == "***"
    assert "hunter2" not in result.stdout and "c2VjcmV0a2V5" not in result.stdout and "pw-123" not in result.stdout
    worker_env = Settings(elasticsearch_url="http://es:9200", elasticsearch_api_key="k").as_environment()
    assert worker_env["ELASTICSEARCH_URL"] == "http://es:9200"
    assert worker_env["NEWSWORKERS_ELASTICSEARCH_API_KEY"] == "k"  # workers get the real key


def test_search_collapse_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conformance.corpus import ARTICLES, ID
    from workers.search.tantivy.backend import TantivyBackend

    monkeypatch.delenv("ELASTICSEARCH_URL", raising=False)
    backend = TantivyBackend(tmp_path / "data" / "index", writer=True)
    backend.upsert(list(ARTICLES.values()))
    backend.close()
    runner = CliRunner()
    args = ["search", "baghdad", "--sort", "date", "--json", "--data-dir", str(tmp_path / "data")]
    plain = json.loads(runner.invoke(app, args).stdout)
    collapsed = json.loads(runner.invoke(app, [*args, "--collapse"]).stdout)
    assert [h["id"] for h in plain["hits"]] == [ID["a4"], ID["a9"], ID["a1"]]
    assert [h["id"] for h in collapsed["hits"]] == [ID["a4"], ID["a1"]]  # the a1/a9 cluster shown as first reported
    assert set(collapsed) == set(plain) == {"total", "hits", "facets"}


@pytest.mark.slow  # starts the embedded Redis of `run`
def test_run_refuses_to_start_against_an_unreachable_cluster(tmp_path: Path) -> None:
    env = environment(tmp_path, ELASTICSEARCH_URL=f"http://127.0.0.1:{free_port()}",
                      NEWSWORKERS_ELASTICSEARCH_REQUEST_TIMEOUT_S="2")
    result = cli(env, "run", "--once", "--timeout", "30")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Elasticsearch unreachable" in " ".join(result.stderr.split()) and "index.unavailable" in result.stderr
