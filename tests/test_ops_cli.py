"""The operator's commands as a user meets them: `failed list/show/retry/purge` and `status`, real Redis."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from tests.test_cli import cli, env  # noqa: F401  (the fixture)
from workers.cli.failed import parse_duration
from workers.core.errors import ConfigError
from workers.search.tantivy.backend import TantivyBackend
from workers.state import DeadLetter, DeadLetters, Keys, Stats


@pytest.fixture
def letters(env: dict[str, str]) -> DeadLetters:  # noqa: F811
    client = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    store = DeadLetters(client, Keys(env["NEWSWORKERS_NAMESPACE"]))
    old = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    for key, stage, reason, when in (("d1", "fetch", "fetch.http_404", old), ("d2", "fetch", "fetch.timeout", None),
                                     ("d3", "extract", "extract.empty", None)):
        item = {"doc_id": key, "url": f"https://paper.example/{key}", "feed_url": "https://paper.example/rss"}
        payload = item if stage == "fetch" else {"item": item, "final_url": item["url"]}
        store.record(DeadLetter(stage=stage, key=key, url=item["url"], reason=reason, error="FetchError: boom",
                                attempts=3, payload=payload, traceback_tail="Traceback: line 1",
                                **({"failed_at": when} if when else {})))
    return store


def test_failed_list_filters_and_prints_json_without_payloads(env: dict[str, str], letters: DeadLetters) -> None:  # noqa: F811
    listed = json.loads(cli(env, "failed", "list", "--json").stdout)
    assert [d["id"] for d in listed] == ["d1", "d2", "d3"]
    assert "payload" not in listed[0] and listed[0]["feed_url"] == "https://paper.example/rss"
    assert [d["id"] for d in json.loads(cli(env, "failed", "list", "--stage", "fetch", "--json").stdout)] == [
        "d1", "d2"]
    assert [d["id"] for d in json.loads(cli(env, "failed", "list", "--reason", "extract.empty", "--json").stdout)
            ] == ["d3"]
    table = cli(env, "failed", "list", "--reason", "fetch.*")
    assert "fetch.http_404" in table.stdout and "extract.empty" not in table.stdout and "2 dead letters" in table.stdout


def test_failed_show_gives_the_whole_record(env: dict[str, str], letters: DeadLetters) -> None:  # noqa: F811
    shown = json.loads(cli(env, "failed", "show", "d3", "--json").stdout)
    assert shown["task"] == "newsworkers.extract" and shown["payload"]["item"]["doc_id"] == "d3"
    assert shown["error_class"] == "FetchError" and shown["message"] == "boom"
    text = cli(env, "failed", "show", "d3").stdout
    assert "Traceback: line 1" in text and "extract.empty" in text
    assert "a retry sends newsworkers.fetch" in " ".join(text.split())
    missing = cli(env, "failed", "show", "nope")
    assert missing.returncode == 2 and "no dead letter with id 'nope'" in missing.stderr


def test_failed_retry_by_stage_then_one_id(env: dict[str, str], letters: DeadLetters) -> None:  # noqa: F811
    client = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    keys = Keys(env["NEWSWORKERS_NAMESPACE"])
    result = cli(env, "failed", "retry", "--stage", "fetch")
    assert result.returncode == 0 and "2 sent back" in result.stdout
    assert client.llen(keys.queue("fetch")) == 2
    assert [d.key for d in letters.list()] == ["d3"]
    assert "1 sent back" in cli(env, "failed", "retry", "d3").stdout
    assert client.llen(keys.queue("fetch")) == 3  # extract failures are fetched again
    both = cli(env, "failed", "retry", "d3", "--all")
    assert both.returncode == 2 and "name one dead letter's id, or pass --stage STAGE or --all" in both.stderr


def test_failed_purge_older_than(env: dict[str, str], letters: DeadLetters) -> None:  # noqa: F811
    assert "1 dead letters purged" in cli(env, "failed", "purge", "--older-than", "7d").stdout
    assert [d.key for d in letters.list()] == ["d2", "d3"]
    bad = cli(env, "failed", "purge", "--older-than", "soon")
    assert bad.returncode == 2 and "duration such as 30m" in bad.stderr
    assert "2 dead letters purged" in cli(env, "failed", "purge").stdout
    assert letters.count() == 0


def test_durations() -> None:
    assert parse_duration("90s") == 90 and parse_duration("1d12h") == 36 * 3600 and parse_duration("2 w") == 14 * 86400
    for bad in ("", "7", "7x", "d7"):
        with pytest.raises(ConfigError):
            parse_duration(bad)


def test_status_without_a_run_says_no_workers(env: dict[str, str], letters: DeadLetters) -> None:  # noqa: F811
    client = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    keys = Keys(env["NEWSWORKERS_NAMESPACE"])
    stats = Stats(client, keys)
    stats.incr("index", "ok", 50)
    stats.incr("fetch", "failed", reason="fetch.timeout")
    client.hset(keys.feeds, mapping={"https://a.example/rss": "{}", "https://b.example/rss": "{}"})
    client.hset(keys.feed_state("https://b.example/rss"), "error_streak", "2")
    client.zadd(keys.schedule, {"https://a.example/rss": 1, "https://b.example/rss": 4e9})
    client.rpush(keys.queue("extract"), "x", "y")
    data = json.loads(cli(env, "--set", "status_ping_timeout_s=0.5", "status", "--json").stdout)
    assert set(data) == {"queues", "workers", "index", "feeds", "items", "failures", "rate", "counters",
                         "backpressure", "errors"}
    assert data["errors"] == {}
    assert data["backpressure"]["held"] is False and data["backpressure"]["backlog"] == 2
    assert data["queues"]["extract"] == {"depth": 2, "inflight": 0, "workers": 0}
    assert data["workers"] == {"alive": 0, "nodes": []}
    assert data["index"] == {"documents": 0, "error": None}
    assert data["feeds"] == {"registered": 2, "due": 1, "failing": 1}
    failures = data["failures"]
    assert failures["last_hour"] == {"fetch": 1} and failures["last_hour_by_reason"] == {"fetch.timeout": 1}
    assert failures["dead_letters"] == 3 and failures["dead_letters_by_stage"] == {"extract": 1, "fetch": 2}
    # The 50 are in the newest minute, or in the one before if the minute turned while the CLI started.
    assert data["rate"]["window_min"] == 5 and data["rate"]["per_minute"][-2:] in ([0, 50], [50, 0])
    assert data["rate"]["articles_per_min"] == 10.0
    table = cli(env, "status")
    assert table.returncode == 0 and "ingest rate: 10.0 articles/min" in table.stdout


def test_status_on_the_embedded_redis_with_no_run(env: dict[str, str]) -> None:  # noqa: F811
    embedded = {k: v for k, v in env.items() if k != "REDIS_URL"}
    # A data directory a run has left (here: its empty index); one that holds nothing is refused.
    TantivyBackend(Path(env["NEWSWORKERS_DATA_DIR"]) / "index").close()
    result = cli(embedded, "--set", "status_ping_timeout_s=0.3", "status", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {q["workers"] for q in data["queues"].values()} == {0}
    assert data["failures"]["dead_letters"] == 0 and data["index"]["documents"] == 0
