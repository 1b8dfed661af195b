"""The console script as a user meets it: clear errors, exact JSON, attached to Redis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT, cli_environment
from tests.conftest import run_cli as cli
from workers.core.models import Article, DateSource, utcnow
from workers.search.tantivy.backend import TantivyBackend


@pytest.fixture
def env(tmp_path: Path, redis_url: str, namespace: str) -> dict[str, str]:
    return cli_environment(tmp_path / "data", redis_url, namespace)


@pytest.fixture
def indexed(env: dict[str, str]) -> dict[str, str]:
    backend = TantivyBackend(Path(env["NEWSWORKERS_DATA_DIR"]) / "index", writer=True)
    backend.upsert([
        Article(id="a1", id_version=1, url="https://paper.example/a1", domain="paper.example",
                source_name="Paper", title="Rocket strikes embassy compound", body="Rockets struck the compound.",
                language="en", published_at=utcnow(), date_source=DateSource.PAGE, fetched_at=utcnow(),
                locations=["Baghdad"], persons=["Hoshyar Zebari"]),
    ])
    backend.close()
    return env


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", '"unclosed phrase'], "unclosed quote"),
        (["search", "rocket AND"], "'AND' needs a term after it"),
        (["search", "", "--filter", "planets=Mars"], "unknown facet 'planets'"),
        (["search", "", "--filter", "locations"], "--filter takes FACET=VALUE"),
        (["search", "", "--since", "yesterday"], "--since 'yesterday' is not an ISO date"),
        (["search", "", "--sort", "random"], "--sort is 'relevance' or 'date'"),
        (["--set", "fetch_timeout_s=-3", "settings"], "fetch_timeout_s"),
        (["feeds", "add", "file:///etc/passwd"], "feed URLs must be http(s)"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(env: dict[str, str], args: list[str], message: str) -> None:
    result = cli(env, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_search_prints_a_table_and_exact_json(indexed: dict[str, str]) -> None:
    table = cli(indexed, "search", "rocket")
    assert table.returncode == 0, table.stderr
    assert "Rocket strikes embassy compound" in table.stdout
    result = json.loads(cli(indexed, "search", "rockets", "--json", "--facet", "locations").stdout)
    assert result["total"] == 1
    assert set(result) == {"total", "hits", "facets"}
    assert set(result["hits"][0]) == {"id", "url", "title", "published_at", "source_name", "domain", "language",
                                      "authors", "persons", "organizations", "locations", "groups", "events",
                                      "collections", "cluster_id", "duplicates", "countries", "places", "snippet"}
    assert result["facets"] == {"locations": [{"value": "Baghdad", "count": 1}]}
    assert "<b>Rockets</b>" in result["hits"][0]["snippet"]


def test_feeds_import_list_status_remove(env: dict[str, str], tmp_path: Path) -> None:
    feed_list = tmp_path / "feeds.yaml"
    feed_list.write_text("feeds:\n  - https://one.example/rss\n  - url: https://two.example/atom\n    title: Two\n")
    assert cli(env, "feeds", "import", str(feed_list)).returncode == 0
    listed = json.loads(cli(env, "feeds", "list", "--json").stdout)
    assert [f["url"] for f in listed] == ["https://one.example/rss", "https://two.example/atom"]
    status = json.loads(cli(env, "feeds", "status", "--json").stdout)
    assert {row["url"]: row["error_streak"] for row in status} == {f["url"]: 0 for f in listed}
    assert cli(env, "feeds", "remove", "https://one.example/rss").returncode == 0
    missing = cli(env, "feeds", "remove", "https://one.example/rss")
    assert missing.returncode == 2 and "no such feed" in missing.stderr


def test_status_reports_queues_counters_and_index(indexed: dict[str, str]) -> None:
    data = json.loads(cli(indexed, "status", "--json").stdout)
    assert set(data["queues"]) == {"poll", "fetch", "extract", "index"}
    assert data["index"]["documents"] == 1
    assert data["failures"]["dead_letters"] == 0


def test_failed_retry_sends_a_dead_letter_back_to_fetch(env: dict[str, str]) -> None:
    from workers.state import DeadLetter, DeadLetters, Keys

    client = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    keys = Keys(env["NEWSWORKERS_NAMESPACE"])
    item = {"doc_id": "d1", "url": "https://paper.example/gone", "feed_url": "https://paper.example/rss"}
    DeadLetters(client, keys).record(DeadLetter(stage="fetch", key="d1", url=item["url"], reason="fetch.http_503",
                                                error="HTTP 503", attempts=5, payload=item))
    client.sadd(keys.seen, "d1")
    listed = json.loads(cli(env, "failed", "list", "--json").stdout)
    assert [(d["key"], d["reason"], d["attempts"]) for d in listed] == [("d1", "fetch.http_503", 5)]
    result = cli(env, "failed", "retry", "--all")
    assert result.returncode == 0 and "1 sent back" in result.stdout
    assert json.loads(cli(env, "failed", "list", "--json").stdout) == []
    assert not client.sismember(keys.seen, "d1")
    assert client.zscore(keys.inflight, "d1") is not None
    assert client.llen(keys.queue("fetch")) == 1


def test_extract_command_prints_one_article_per_line(env: dict[str, str]) -> None:
    pages = [str(ROOT / "seeds" / "articles" / "baghdad-embassy-rocket-attack.html"),
             str(ROOT / "seeds" / "articles" / "broken-page.html")]
    result = cli(env, "extract", *pages, "--json", "--no-entities")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    assert lines[0]["published_at"].startswith("2020-01-27") and lines[0]["language"] == "en"
    assert lines[1]["reason"] == "extract.empty"


def test_worker_kind_is_checked(env: dict[str, str]) -> None:
    result = cli(env, "worker", "bogus")
    assert result.returncode == 2 and "kinds are: poll, fetch, extract, index" in result.stderr


def test_an_unreachable_redis_is_named_with_the_fix(env: dict[str, str]) -> None:
    from workers.state.embedded_redis import free_port

    broken = {**env, "REDIS_URL": f"redis://:secret@127.0.0.1:{free_port()}/0"}
    for args in (["feeds", "list"], ["run", "--once"]):
        result = cli(broken, *args)
        assert result.returncode == 2, result.stdout + result.stderr
        message = " ".join(result.stderr.split())
        assert "cannot reach Redis at redis://:***@127.0.0.1" in message and "secret" not in message


def test_flags_beat_the_environment(env: dict[str, str], tmp_path: Path) -> None:
    noisy = {**env, "NEWSWORKERS_POLL_INTERVAL_S": "30", "NEWSWORKERS_DATA_DIR": str(tmp_path / "from-env")}
    flags = ("--set", "poll_interval_s=600", "settings", "--data-dir", str(tmp_path / "flag"))
    shown = json.loads(cli(noisy, *flags).stdout)
    assert shown["poll_interval_s"] == 600
    assert shown["data_dir"] == str(tmp_path / "flag")
    assert json.loads(cli(noisy, "settings").stdout)["poll_interval_s"] == 30


def test_each_worker_kind_gets_the_pool_it_needs() -> None:
    from workers.settings import Settings
    from workers.worker.pools import worker_spec

    settings = Settings(extract_concurrency=3, index_batch_size=150, extract_batch_size=8)
    specs = {kind: worker_spec(kind, settings) for kind in ("poll", "fetch", "extract", "index")}
    assert {k: (s.pool, s.concurrency) for k, s in specs.items()} == {
        "poll": ("threads", settings.poll_concurrency), "fetch": ("threads", settings.fetch_concurrency),
        "extract": ("prefork", 3), "index": ("solo", 1)}
    # Prefetch is per process: each child may hold one batch, so a killed child loses at most one batch.
    assert specs["extract"].prefetch_multiplier == settings.extract_batch_size
    # A whole batch must be able to arrive: its messages each carry an extract batch's articles.
    assert specs["index"].prefetch_multiplier == settings.index_batch_messages == 19
    assert specs["index"].prefetch_multiplier * settings.extract_batch_size >= 150
