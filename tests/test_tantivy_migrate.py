"""`newsworkers index migrate` on the embedded index: an index of the previous schema (one English analyzer)
is rebuilt from the articles it stores, in this schema, and then finds German and Japanese words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tantivy
from typer.testing import CliRunner

from tests.conformance.corpus import article, day
from workers.cli.main import app
from workers.core.errors import IndexingError
from workers.core.models import Article
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend
from workers.search.tantivy.migrate import migrate_index
from workers.search.tantivy.schema import SCHEMA_VERSION

ARTICLES = [
    article("de", title="Haushalt beschlossen", domain="zeitung.de", published_at=day(2), language="de",
            body="Die Regierung hat den Haushalt beschlossen."),
    article("ja", title="予算案を発表", domain="shimbun.jp", published_at=day(3), language="ja",
            body="東京都は来年度の予算案を発表した。"),
    article("en", title="Budget agreed", domain="news.com", published_at=day(4), body="The governments agreed."),
]


def write_version_3_index(path: Path, articles: list[Article]) -> None:
    """An index as schema version 3 wrote it: title/body/summary through one English analyzer, the Article in
    `source` (the layout of workers/search/tantivy/schema.py before the analysis groups)."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in ("title", "body", "summary", "entity_aliases"):
        builder.add_text_field(name, stored=name == "title", tokenizer_name="en_news")
    builder.add_bytes_field("source", stored=True, indexed=False)
    path.mkdir(parents=True)
    index = tantivy.Index(builder.build(), path=str(path))
    index.register_tokenizer("en_news", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                             .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.stemmer("english")).build())
    writer = index.writer(15 * 2**20, 1)
    for a in articles:
        doc = tantivy.Document(id=a.id, title=a.title, body=a.body, summary="", entity_aliases="")
        doc.add_bytes("source", a.model_dump_json().encode())
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    (path / "newsworkers-schema-version").write_text("3")


def test_an_old_index_is_rebuilt_and_found_by_language(tmp_path: Path) -> None:
    path = tmp_path / "index"
    write_version_3_index(path, ARTICLES)
    with pytest.raises(IndexingError, match="newsworkers index migrate"):
        TantivyBackend(path)
    result = migrate_index(path)
    assert result == {"path": str(path), "from_version": 3, "to_version": SCHEMA_VERSION, "copied": 3,
                      "kept": str(tmp_path / "index.v3"), "current": False}
    assert (tmp_path / "index.v3" / "meta.json").exists()
    backend = TantivyBackend(path)
    assert backend.count() == 3
    assert backend.get(ARTICLES[0].id) == ARTICLES[0]
    assert [h.id for h in backend.search(SearchQuery(text="Regierungen")).hits] == [ARTICLES[0].id]
    assert [h.id for h in backend.search(SearchQuery(text="予算")).hits] == [ARTICLES[1].id]
    assert migrate_index(path)["copied"] == 0  # already current: nothing to do


def test_migrate_refuses_while_a_worker_holds_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "index"
    write_version_3_index(path, ARTICLES[:1])
    holder = tantivy.Index.open(str(path)).writer(15 * 2**20, 1)
    with pytest.raises(IndexingError, match="stop the workers") as info:
        migrate_index(path)
    assert info.value.reason == "index.locked"
    del holder
    assert not (tmp_path / "index.v3").exists()


def test_the_cli_migrates_the_data_directory_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ELASTICSEARCH_URL", raising=False)
    write_version_3_index(tmp_path / "data" / "index", ARTICLES)
    outcome = CliRunner().invoke(app, ["index", "migrate", "--json", "--data-dir", str(tmp_path / "data")])
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout)["copied"] == 3
    text = CliRunner().invoke(app, ["index", "migrate", "--data-dir", str(tmp_path / "data")]).stdout
    assert "already has schema version" in " ".join(text.split())
