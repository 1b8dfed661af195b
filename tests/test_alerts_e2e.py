"""The issue's "done when" for alerts, with real processes: a saved search for Soleimani, then `newsworkers run
--once` over the offline corpus; the seed article is in the search's Atom feed and its webhook fired once. Then
the same articles are fetched, extracted and indexed again by a second run (their pipeline state dropped,
the alerts kept), and nothing fires again."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest
import redis
from fastapi.testclient import TestClient

from tests.conftest import ROOT, cli_environment, newsworkers_cli
from tests.test_alerts_http import make_app
from tests.test_alerts_webhook import Receiver, receiver  # noqa: F401  (the receiver fixture)
from workers.alerts.webhook import IDEMPOTENCY_HEADER
from workers.settings import Settings

pytestmark = pytest.mark.slow

SEED_URL_END = "baghdad-embassy-rocket-attack.html"


def cli(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*newsworkers_cli(), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_a_saved_search_for_soleimani_over_the_offline_corpus(tmp_path: Path, redis_url: str, namespace: str,
                                                               receiver: Receiver) -> None:  # noqa: F811
    data_dir = tmp_path / "data"
    env = cli_environment(data_dir, redis_url, namespace)
    added = cli(env, "alerts", "add", "soleimani", "Soleimani", "--webhook", receiver.url)
    assert added.returncode == 0, added.stdout + added.stderr
    assert "0 matching articles so far" in added.stdout  # nothing indexed yet
    bad = cli(env, "alerts", "add", "broken", '"Soleimani')
    assert bad.returncode == 2 and "query.syntax" in bad.stderr

    first = cli(env, "run", "--once", "--timeout", "180")
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(receiver.received) == 1, receiver.received
    headers, body = receiver.received[0]
    assert body["alert"] == "soleimani" and body["article"]["url"].endswith(SEED_URL_END)
    assert headers[IDEMPOTENCY_HEADER] == f"soleimani {body['article']['id']}"
    assert any("Soleimani" in p or "Suleimani" in p for p in body["article"]["entities"]["persons"])

    shown = cli(env, "alerts", "show", "soleimani", "--json")
    assert shown.returncode == 0, shown.stderr
    recent = json.loads(shown.stdout)["recent"]
    assert [e["id"] for e in recent] == [body["article"]["id"]]

    settings = Settings(data_dir=data_dir, redis_url=redis_url, namespace=namespace)
    feed = TestClient(make_app(settings)).get("/feeds/soleimani.atom")
    parsed = feedparser.parse(feed.content)
    assert feed.status_code == 200 and not parsed.bozo
    assert len(parsed.entries) == 1
    # feedparser rewrites file:/// links (the offline corpus's) to file://, so the href is read as written.
    atom = "{http://www.w3.org/2005/Atom}"
    links = [e.find(f"{atom}link").get("href") for e in ElementTree.fromstring(feed.content).iter(f"{atom}entry")]
    assert links == [body["article"]["url"]]
    assert parsed.entries[0].title == body["article"]["title"]

    # Drop everything the pipeline remembers (seen items, feed state, clusters) but the saved searches, so
    # the second run fetches, extracts and indexes the same documents again.
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        kept = (f"{namespace}:alert", )
        stale = [k for k in client.scan_iter(match=f"{namespace}:*", count=1000) if not k.startswith(kept)]
        client.delete(*stale)
    finally:
        client.close()
    second = cli(env, "run", "--once", "--timeout", "180")
    assert second.returncode == 0, second.stdout + second.stderr
    reindexed = re.search(r"(\d+) articles indexed", second.stdout)
    assert reindexed and int(reindexed.group(1)) >= 20, second.stdout  # it did index the corpus again
    assert len(receiver.received) == 1  # and fired nothing more
    listed = cli(env, "alerts", "list", "--json")
    assert [(a["name"], a["matches"]) for a in json.loads(listed.stdout)] == [("soleimani", 1)]
    assert cli(env, "alerts", "remove", "soleimani").returncode == 0
    assert json.loads(cli(env, "alerts", "list", "--json").stdout) == []
