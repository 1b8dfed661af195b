"""Entity names and corrections over HTTP, on a real Redis and a real Tantivy index: list, create (which
updates the indexed articles before answering), undo, the errors, and the API key rules of every write."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.test_entity_corrections import article, indexed, names, stored
from workers.api.app import create_app
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings

LOOPBACK = ("127.0.0.1", 50000)
REMOTE = ("203.0.113.9", 50000)


@pytest.fixture
def corpus(settings: Settings) -> Settings:
    indexed(settings, [article("a", names(["Qassem Suleimani", "Brexit"], ["Soleimani"])),
                       article("b", names(["Qasem Soleimani"]))])
    return settings


def client(settings: Settings, address: tuple[str, int] = LOOPBACK) -> TestClient:
    return TestClient(create_app(settings, backend=TantivyBackend(settings.index_dir)), client=address)


def assert_error(answer: httpx.Response, status: int, reason: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["reason"] == reason and answer.json()["error"], answer.json()


def test_list_create_and_undo(corpus: Settings) -> None:
    api = client(corpus)
    listed = api.get("/api/entities", params={"kind": "persons"}).json()
    assert {e["name"]: e["articles"] for e in listed["persons"]} == {
        "Qassem Suleimani": 1, "Brexit": 1, "Qasem Soleimani": 1}
    made = api.post("/api/entities/corrections", json={"action": "merge", "name": "Qasem Soleimani",
                                                       "target": "Qassem Suleimani", "kind": "persons"})
    assert made.status_code == 201, made.text
    assert made.json()["updated"] == 1 and made.json()["where"] == "here"
    # The search the page runs sees the merged name at once, and the old spelling still finds the article.
    facets = api.get("/api/search", params={"q": "", "facets": "persons"}).json()["facets"]["persons"]
    assert {f["value"]: f["count"] for f in facets} == {"Qassem Suleimani": 2, "Brexit": 1}
    assert api.get("/api/search", params={"q": 'persons:"Qasem Soleimani"'}).json()["total"] == 1
    assert api.get("/api/search", params={"q": "persons:Soleimani"}).json()["total"] == 1
    corrections = api.get("/api/entities/corrections").json()
    assert [(c["id"], c["action"], c["name"]) for c in corrections] == [
        (made.json()["correction"]["id"], "merge", "Qasem Soleimani")]
    undone = api.delete(f"/api/entities/corrections/{corrections[0]['id']}")
    assert undone.status_code == 200 and undone.json()["undone"] and undone.json()["updated"] == 1
    assert stored(corpus, "b").persons == ["Qasem Soleimani"]
    assert api.get("/api/entities/corrections").json() == []


def test_bad_requests_are_clear(corpus: Settings) -> None:
    api = client(corpus)
    assert_error(api.get("/api/entities", params={"kind": "things"}), 400, "entities.bad_input")
    assert_error(api.post("/api/entities/corrections", json={"action": "merge", "name": "Brexit"}), 400,
                 "entities.bad_input")
    assert api.post("/api/entities/corrections", json={"action": "explode", "name": "x"}).status_code == 422
    assert api.post("/api/entities/corrections", json={"action": "block", "name": "Brexit"}).status_code == 201
    assert_error(api.post("/api/entities/corrections", json={"action": "block", "name": "brexit"}), 409,
                 "entities.correction.exists")
    assert_error(api.delete("/api/entities/corrections/99"), 404, "entities.correction.not_found")


def test_writes_follow_the_api_key_rules(corpus: Settings) -> None:
    body = {"action": "block", "name": "Brexit", "kind": "persons"}
    remote = client(corpus, REMOTE)
    assert_error(remote.post("/api/entities/corrections", json=body), 403, "api.write_forbidden")
    assert_error(remote.delete("/api/entities/corrections/1"), 403, "api.write_forbidden")
    assert remote.get("/api/entities/corrections").status_code == 200  # reading needs nothing
    keyed = corpus.model_copy(update={"api_keys": "k-one"})
    assert_error(client(keyed).post("/api/entities/corrections", json=body), 401, "api.key_required")
    made = client(keyed, REMOTE).post("/api/entities/corrections", json=body, headers={"X-API-Key": "k-one"})
    assert made.status_code == 201
    assert stored(corpus, "a").persons == ["Qassem Suleimani"]
