"""The index stage over a real Tantivy index: what is done, given back, or failed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from workers.core.errors import IndexingError
from workers.core.models import Article, DateSource, utcnow
from workers.pipeline.index.batch import index_batch
from workers.search.tantivy.backend import TantivyBackend


def payload(doc_id: str, title: str = "A title", attempts: int = 0) -> dict[str, Any]:
    article = Article(id=doc_id, id_version=1, url=f"https://paper.example/{doc_id}", domain="paper.example",
                      title=title, body="Some body text.", published_at=utcnow(), date_source=DateSource.PAGE,
                      fetched_at=utcnow())
    return {"article": article.model_dump(mode="json"), "done": [f"item-{doc_id}"], "attempts": attempts}


class RefusingBackend(TantivyBackend):
    """The real backend, refusing the documents named: a fault injected on demand."""

    def __init__(self, path: Path, refuse: set[str]) -> None:
        super().__init__(path, writer=True)
        self.refuse = refuse

    def upsert(self, articles: Sequence[Article]) -> None:
        if any(a.id in self.refuse for a in articles):
            raise IndexingError("document refused", reason="index.rejected")
        super().upsert(articles)


def test_a_batch_is_indexed_and_its_item_ids_are_done(tmp_path: Path) -> None:
    backend = TantivyBackend(tmp_path / "i", writer=True)
    outcome = index_batch([payload("a"), payload("b")], lambda: backend, max_attempts=3)
    assert (outcome.indexed, outcome.requeue, outcome.failed) == (2, [], [])
    assert sorted(outcome.done) == ["a", "b", "item-a", "item-b"]
    assert backend.count() == 2


def test_a_redelivered_batch_and_a_later_version_make_no_duplicate(tmp_path: Path) -> None:
    backend = TantivyBackend(tmp_path / "i", writer=True)
    index_batch([payload("a", "Old")], lambda: backend, max_attempts=3)
    outcome = index_batch([payload("a", "Old"), payload("a", "New")], lambda: backend, max_attempts=3)
    assert outcome.indexed == 1
    assert backend.count() == 1
    assert backend.get("a").title == "New"


def test_a_locked_index_gives_the_batch_back_and_never_gives_up(tmp_path: Path) -> None:
    holder = TantivyBackend(tmp_path / "i", writer=True)
    outcome = index_batch([payload("a", attempts=50)], lambda: TantivyBackend(tmp_path / "i", writer=True),
                          max_attempts=3)
    assert outcome.failed == [] and outcome.indexed == 0
    assert [p["attempts"] for p in outcome.requeue] == [51]
    assert outcome.retry_reason == "index.locked"
    holder.close()


def test_an_index_of_another_schema_is_given_back_not_failed(tmp_path: Path) -> None:
    TantivyBackend(tmp_path / "i", writer=True).close()
    (tmp_path / "i" / "newsworkers-schema-version").write_text("0")
    outcome = index_batch([payload("a")], lambda: TantivyBackend(tmp_path / "i", writer=True), max_attempts=3)
    assert outcome.failed == [] and len(outcome.requeue) == 1
    assert outcome.retry_reason == "index.schema_version"


def test_a_refused_document_fails_alone(tmp_path: Path) -> None:
    backend = RefusingBackend(tmp_path / "i", refuse={"bad"})
    outcome = index_batch([payload("a"), payload("bad"), payload("b")], lambda: backend, max_attempts=3)
    assert outcome.indexed == 2
    assert [p["article"]["id"] for p, _exc in outcome.failed] == ["bad"]
    assert outcome.requeue == []
    assert backend.count() == 2


def test_an_unexpected_error_is_retried_a_bounded_number_of_times(tmp_path: Path) -> None:
    def broken() -> TantivyBackend:
        raise RuntimeError("a bug")

    first = index_batch([payload("a")], broken, max_attempts=3)
    assert [p["attempts"] for p in first.requeue] == [1] and first.retry_reason == "index.crash"
    last = index_batch([payload("a", attempts=2)], broken, max_attempts=3)
    assert last.requeue == [] and len(last.failed) == 1


@pytest.mark.parametrize("bad", [{}, {"article": {"id": "x"}}, {"article": "nonsense"}])
def test_malformed_messages_are_failed_not_looped(tmp_path: Path, bad: dict[str, Any]) -> None:
    backend = TantivyBackend(tmp_path / "i", writer=True)
    outcome = index_batch([bad, payload("a")], lambda: backend, max_attempts=3)
    assert outcome.indexed == 1
    assert [exc.reason for _p, exc in outcome.failed] == ["index.bad_message"]
