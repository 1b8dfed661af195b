"""The alerts router: /api/alerts and /feeds/NAME.atom on the API's app over a real Tantivy index and real
Redis, through Starlette's test client (the client's address chosen, for the loopback rule) and through a real
uvicorn server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.test_alerts import CORPUS
from workers.api.app import create_app
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings
from workers.state.embedded_redis import free_port

LOOPBACK = ("127.0.0.1", 50000)
REMOTE = ("203.0.113.9", 50000)


def make_app(settings: Settings) -> FastAPI:
    return create_app(settings, backend=TantivyBackend(settings.index_dir))


@pytest.fixture
def indexed(settings: Settings) -> Settings:
    writer = TantivyBackend(settings.index_dir, writer=True)
    writer.upsert(CORPUS)
    writer.close()
    return settings


def client(settings: Settings, address: tuple[str, int] = LOOPBACK) -> TestClient:
    return TestClient(make_app(settings), client=address)


def assert_error(answer: httpx.Response, status: int, reason: str) -> None:
    """Every error the API answers itself has one shape: a sentence and a reason code."""
    assert answer.status_code == status, answer.text
    assert answer.json()["reason"] == reason and answer.json()["error"], answer.json()


def test_add_list_feed_and_remove(indexed: Settings) -> None:
    api = client(indexed)
    body = {"name": "baghdad", "query": "Baghdad", "filters": {"locations": ["Baghdad"]},
            "webhook": "https://hooks.example/x?token=s3cret"}
    created = api.post("/api/alerts", json=body)
    assert created.status_code == 201, created.text
    assert created.json() == {**body, "feed_url": "/feeds/baghdad.atom", "matches": 2,
                              "created_at": created.json()["created_at"]}
    listed = api.get("/api/alerts").json()
    assert [a["name"] for a in listed] == ["baghdad"] and listed[0]["matches"] == 2
    assert listed[0]["webhook"] == "https://hooks.example/x?***"  # a read shows no token
    feed = api.get("/feeds/baghdad.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo and [e.link for e in parsed.entries] == [CORPUS[1].url, CORPUS[0].url]
    assert_error(api.post("/api/alerts", json=body), 409, "alert.exists")
    assert api.delete("/api/alerts/baghdad").status_code == 204
    assert_error(api.delete("/api/alerts/baghdad"), 404, "alert.not_found")
    assert_error(api.get("/feeds/baghdad.atom"), 404, "alert.not_found")
    assert api.get("/api/alerts").json() == []


@pytest.mark.parametrize(("body", "reason"), [
    ({"name": "no spaces", "query": "x"}, "query.syntax"),
    ({"name": "ok", "query": '"unbalanced'}, "query.syntax"),
    ({"name": "ok", "query": "x", "filters": {"colour": ["red"]}}, "query.syntax"),
    ({"name": "ok", "query": "x", "webhook": "file:///etc/passwd"}, "query.syntax"),
])
def test_bad_alerts_get_a_400_with_the_reason(indexed: Settings, body: dict, reason: str) -> None:
    assert_error(client(indexed).post("/api/alerts", json=body), 400, reason)


def test_the_frameworks_own_refusals_get_the_same_error_shape(indexed: Settings) -> None:
    api = client(indexed)
    not_utf8 = api.post("/api/alerts", content=b"\x14\xff]\xf0i", headers={"content-type": "application/json"})
    assert_error(not_utf8, 400, "http.400")
    assert_error(api.get("/api/alerts/x"), 405, "http.405")
    assert_error(api.get("/api/no-such-path"), 404, "http.404")


def test_without_keys_only_loopback_may_write(indexed: Settings) -> None:
    remote = client(indexed, REMOTE)
    assert_error(remote.post("/api/alerts", json={"name": "a", "query": "x"}), 403, "api.write_forbidden")
    assert_error(remote.delete("/api/alerts/a"), 403, "api.write_forbidden")
    assert remote.get("/api/alerts").status_code == 200  # reading needs nothing


def test_with_keys_a_write_needs_one(indexed: Settings) -> None:
    keyed = indexed.model_copy(update={"api_keys": "k-one, k-two"})
    api = client(keyed)  # even from loopback
    body = {"name": "a", "query": "embassy"}
    missing = api.post("/api/alerts", json=body)
    assert_error(missing, 401, "api.key_required")
    assert missing.headers["www-authenticate"] == "Bearer"
    assert_error(api.post("/api/alerts", json=body, headers={"X-API-Key": "wrong"}), 401, "api.key_required")
    assert api.post("/api/alerts", json=body, headers={"X-API-Key": "k-two"}).status_code == 201
    remote = client(keyed, REMOTE)
    assert remote.delete("/api/alerts/a", headers={"Authorization": "Bearer k-one"}).status_code == 204


def test_the_openapi_document_describes_the_routes(indexed: Settings) -> None:
    paths = client(indexed).get("/openapi.json").json()["paths"]
    assert set(paths) >= {"/api/alerts", "/api/alerts/{name}", "/feeds/{name}.atom"}
    assert set(paths["/api/alerts"]["post"]["responses"]) >= {"201", "400", "401", "403", "409", "503"}


@pytest.fixture
def served(indexed: Settings) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(indexed), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_through_a_real_server(served: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        created = http.post("/api/alerts", json={"name": "embassy", "query": "embassy"})
        assert created.status_code == 201 and created.json()["matches"] == 2
        parsed = feedparser.parse(http.get("/feeds/embassy.atom").content)
        assert parsed.version == "atom10" and len(parsed.entries) == 2
        assert parsed.feed.links[0].href == f"{served}/feeds/embassy.atom"


def test_redis_down_is_a_503_not_a_500(indexed: Settings) -> None:
    down = indexed.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    api = client(down)
    for answer in (api.get("/api/alerts"), api.get("/feeds/x.atom"),
                   api.post("/api/alerts", json={"name": "a", "query": "x"}), api.delete("/api/alerts/a")):
        assert_error(answer, 503, "config.invalid")
        assert "cannot reach Redis" in answer.json()["error"]


def test_requests_without_an_owner_take_turns_instead_of_failing(indexed: Settings) -> None:
    # No Redis URL and nobody owning the data directory: each request starts the embedded Redis for itself.
    embedded = indexed.model_copy(update={"redis_url": None})
    statuses: list[int] = []
    with TestClient(make_app(embedded), client=LOOPBACK) as api:
        assert api.post("/api/alerts", json={"name": "baghdad", "query": "Baghdad"}).status_code == 201
        threads = [threading.Thread(target=lambda: statuses.append(api.get("/api/alerts").status_code))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert api.delete("/api/alerts/baghdad").status_code == 204
    assert statuses == [200] * 4
