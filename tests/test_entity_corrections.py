"""Analysts' entity corrections and alias search, on a real Redis and a real Tantivy index: what a correction
does to an article's fields, the Redis store and its version-checked cache, alias field queries in both
backends (the Elasticsearch bodies checked against its API specification), the update in place and its undo,
the recognizer applying corrections to new text at once, and the ``newsworkers entities`` commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from tests.es_spec import schema_errors
from workers.core.errors import ConfigError
from workers.core.ids import document_id
from workers.core.models import Article, DateSource, EntityNames
from workers.entities.correction_store import CorrectionStore
from workers.entities.corrections import Correction, CorrectionAction, apply_corrections, corrected_fields
from workers.entities.recognizer import recognizer_for
from workers.ops.entity_corrections import affected_ids, correct, undo
from workers.search.elasticsearch import requests as rq
from workers.search.model import SearchQuery, alias_field, found_field
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings

T0 = datetime(2020, 1, 27, 9, tzinfo=UTC)


def names(persons: list[str], aliases: list[str] | None = None, **others: list[str]) -> EntityNames:
    return EntityNames(names={"persons": persons, **others}, aliases={"persons": aliases or []})


def article(key: str, found: EntityNames, corrections: list[Correction] | None = None) -> Article:
    url = f"https://news.example/{key}"
    fields = apply_corrections(found, corrections or []).fields()
    return Article(id=document_id(url), id_version=2, url=url, domain="news.example", title=f"Story {key}",
                   body=f"The story {key}.", published_at=T0, date_source=DateSource.PAGE, fetched_at=T0,
                   **fields)  # type: ignore[arg-type]


def fix(action: str, name: str, target: str | None = None, kind: str | None = None, id_: int = 1) -> Correction:
    return Correction(id=id_, action=CorrectionAction(action), name=name, target=target, kind=kind)


# -- what a correction does to one article's fields (pure) -----------------------------------------------------------


def test_merge_rename_and_block_rewrite_the_fields_and_keep_spellings_searchable() -> None:
    found = names(["Qassem Suleimani", "Donald Trump"], ["Soleimani"], organizations=["Brexit", "Quds Force"])
    merged = apply_corrections(found, [fix("merge", "Donald Trump", "Donald J. Trump", "persons")])
    assert merged.by_kind["persons"] == ["Qassem Suleimani", "Donald J. Trump"]
    assert merged.aliases_by_kind["persons"] == ["Soleimani", "Donald Trump"]
    assert merged.extracted == found  # what was found stays, for the next recomputation
    renamed = apply_corrections(found, [fix("rename", "qassem  SULEIMANI", "Qasem Soleimani")])
    assert renamed.by_kind["persons"][0] == "Qasem Soleimani" and "Qassem Suleimani" in renamed.aliases
    blocked = apply_corrections(found, [fix("block", "brexit", kind="organizations")])
    assert blocked.by_kind["organizations"] == ["Quds Force"] and "Brexit" not in blocked.aliases
    # A kind the correction does not name is left alone.
    assert apply_corrections(found, [fix("block", "Brexit", kind="persons")]).by_kind["organizations"][0] == "Brexit"


def test_corrections_chain_in_order_and_an_undo_is_a_recomputation_without_it() -> None:
    found = names(["Qasem Soleimani"])
    chain = [fix("merge", "Qasem Soleimani", "Qassem Suleimani", id_=1), fix("rename", "Qassem Suleimani",
                                                                             "Qassem Soleimani", id_=2)]
    assert apply_corrections(found, chain).by_kind["persons"] == ["Qassem Soleimani"]
    assert apply_corrections(found, chain[1:]).by_kind["persons"] == ["Qasem Soleimani"]  # the merge undone
    assert apply_corrections(found, chain[:1]).by_kind["persons"] == ["Qassem Suleimani"]  # the rename undone


def test_an_article_indexed_before_corrections_existed_keeps_its_loose_aliases() -> None:
    old = article("old", names(["Qassem Suleimani"])).model_copy(
        update={"extracted_entities": None, "aliases_by_kind": {}, "entity_aliases": ["Soleimani"]})
    fields = corrected_fields(old, [fix("rename", "Qassem Suleimani", "Qasem Soleimani")])
    assert fields["persons"] == ["Qasem Soleimani"]
    assert set(fields["entity_aliases"]) == {"Qassem Suleimani", "Soleimani"}  # type: ignore[arg-type]


@pytest.mark.parametrize(("action", "name", "target", "kind"), [
    ("merge", "A", None, None), ("merge", "Kenin", "kenin", None), ("block", "X", "Y", None),
    ("block", "  ", None, None), ("block", "X", None, "things"), ("rename", "A", "A", None),
])
def test_bad_corrections_are_refused_with_the_reason(action: str, name: str, target: str | None,
                                                     kind: str | None) -> None:
    with pytest.raises(ConfigError) as caught:
        fix(action, name, target, kind)
    assert caught.value.reason == "entities.bad_input"


# -- the Redis store ------------------------------------------------------------------------------------------------


def test_store_adds_lists_undoes_and_refuses_duplicates(redis_url: str, namespace: str) -> None:
    store = CorrectionStore(redis.Redis.from_url(redis_url), namespace)
    first = store.add("merge", "Teams", "Microsoft Teams", "organizations")
    second = store.add("block", "Brexit", kind="persons")
    assert [c.id for c in store.all()] == [first.id, second.id] and second.id > first.id
    with pytest.raises(ConfigError) as caught:
        store.add("block", "Brexit", kind="persons")
    assert caught.value.reason == "entities.correction.exists"
    assert store.undo(first.id) == first
    with pytest.raises(ConfigError) as caught:
        store.undo(first.id)
    assert caught.value.reason == "entities.correction.not_found" and str(second.id) in str(caught.value)
    assert store.all() == [second]


def test_a_worker_sees_a_correction_made_elsewhere_on_its_next_article(redis_url: str, namespace: str) -> None:
    worker = CorrectionStore(redis.Redis.from_url(redis_url), namespace)
    analyst = CorrectionStore(redis.Redis.from_url(redis_url), namespace)
    assert worker.current().corrections == []
    cached = worker.current()
    assert worker.current() is cached  # unchanged version: the copy in hand, no rereading
    made = analyst.add("block", "Brexit")
    assert worker.current().corrections == [made]
    analyst.undo(made.id)
    assert worker.current().corrections == []


def test_the_recognizer_applies_corrections_to_new_text_at_once(redis_url: str, namespace: str) -> None:
    settings = Settings(redis_url=redis_url, namespace=namespace)
    ner = recognizer_for(settings, redis.Redis.from_url(redis_url))
    text = ("Iranian commander Qassem Suleimani was killed in Baghdad on Friday, officials in Washington said. "
            "Suleimani had led the Quds Force for two decades.")
    assert ner.article_entities(text, "en").by_kind["persons"] == ["Qassem Suleimani"]
    store = CorrectionStore(redis.Redis.from_url(redis_url), namespace)
    made = store.add("rename", "Qassem Suleimani", "Qasem Soleimani", "persons")
    found = ner.article_entities(text, "en")
    assert found.by_kind["persons"] == ["Qasem Soleimani"]
    assert "Qassem Suleimani" in found.aliases_by_kind["persons"]  # the spelling found stays searchable
    assert found.extracted is not None and found.extracted.names["persons"] == ["Qassem Suleimani"]
    store.undo(made.id)
    assert ner.article_entities(text, "en").by_kind["persons"] == ["Qassem Suleimani"]


# -- alias search -----------------------------------------------------------------------------------------------------


@pytest.fixture
def index(tmp_path: Path) -> Iterator[TantivyBackend]:
    backend = TantivyBackend(tmp_path / "index", writer=True)
    try:
        yield backend
    finally:
        backend.close()


def ids(backend: TantivyBackend, query: SearchQuery) -> set[str]:
    return {hit.id for hit in backend.search(query).hits}


def test_a_kind_field_query_matches_the_spellings_merged_away_and_filters_stay_exact(index: TantivyBackend) -> None:
    soleimani = article("a", names(["Qassem Suleimani"], ["Soleimani", "Qassem Soleimani"]))
    other = article("b", names(["Ali Larijani"]), ).model_copy(update={"locations": ["Soleimani"]})
    index.upsert([soleimani, other])
    assert ids(index, SearchQuery(text="persons:Soleimani")) == {soleimani.id}
    assert ids(index, SearchQuery(text='persons:"qassem soleimani"')) == {soleimani.id}
    assert ids(index, SearchQuery(text='persons:"Qassem Suleimani"')) == {soleimani.id}
    assert ids(index, SearchQuery(text="organizations:Soleimani")) == set()
    assert ids(index, SearchQuery(text="locations:Soleimani")) == {other.id}
    # A facet filter (a click on a facet value) means the value as listed: the counts and the hits agree.
    assert ids(index, SearchQuery(filters={"persons": ["Soleimani"]})) == set()
    facets = index.search(SearchQuery(text="persons:Soleimani", facets=["persons"])).facets["persons"]
    assert [(c.value, c.count) for c in facets] == [("Qassem Suleimani", 1)]
    assert ids(index, SearchQuery(filters={found_field("persons"): ["QASSEM SULEIMANI"]})) == {soleimani.id}
    assert ids(index, SearchQuery(filters={alias_field("persons"): ["soleimani"]})) == {soleimani.id}


def test_elasticsearch_alias_and_lookup_bodies_follow_the_spec() -> None:
    query = SearchQuery(text="persons:Soleimani OR groups:Kurds",
                        filters={found_field("persons"): ["Qassem Suleimani"], alias_field("events"): ["x"]})
    body = rq.search_body(query, size=10)
    assert schema_errors(body, "/{index}/_search") == []
    text = json.dumps(body)
    assert '"aliases_by_kind.persons"' in text and '"extracted_entities.names.persons"' in text
    assert '"aliases_by_kind.events"' in text and '"aliases_by_kind.groups"' in text


# -- update in place ----------------------------------------------------------------------------------------------


def indexed(settings: Settings, articles: list[Article]) -> None:
    writer = TantivyBackend(settings.index_dir, writer=True)
    try:
        writer.upsert(articles)
    finally:
        writer.close()


def stored(settings: Settings, key: str) -> Article:
    reader = TantivyBackend(settings.index_dir)
    try:
        found = reader.get(document_id(f"https://news.example/{key}"))
    finally:
        reader.close()
    assert found is not None
    return found


def test_update_in_place_rewrites_only_the_articles_carrying_the_name_and_undo_restores_them(
        settings: Settings) -> None:
    corpus = [article("a", names(["Novak Djokovic"], ["Djokovic"])),
              article("b", names(["Djokovic"], organizations=["Novak Djokovic"])),
              article("c", names(["Sofia Kenin"]))]
    indexed(settings, corpus)
    before = {key: stored(settings, key) for key in "abc"}
    report = correct(settings, "merge", "Djokovic", "Novak Djokovic", "persons")
    assert (report.found, report.updated, report.where) == (2, 1, "here")
    b = stored(settings, "b")
    assert b.persons == ["Novak Djokovic"] and b.organizations == ["Novak Djokovic"]
    assert b.aliases_by_kind["persons"] == ["Djokovic"]
    assert stored(settings, "a") == before["a"] and stored(settings, "c") == before["c"]
    blocked = correct(settings, "block", "Novak Djokovic", kind="organizations")
    assert blocked.updated == 1 and stored(settings, "b").organizations == []
    # Undo the first: b lists what was found, with the block (made later) still in force.
    undone = undo(settings, report.correction.id)
    assert undone.undone and undone.updated == 1
    b = stored(settings, "b")
    assert b.persons == ["Djokovic"] and b.organizations == [] and b.aliases_by_kind == {}
    undo(settings, blocked.correction.id)
    assert stored(settings, "b").model_dump(exclude={"indexed_at"}) == before["b"].model_dump(exclude={"indexed_at"})


def test_the_documents_touched_are_found_through_the_backend(settings: Settings, index: TantivyBackend) -> None:
    corpus = [article("a", names(["Qassem Suleimani"], ["Soleimani"])), article("b", names(["Soleimani"])),
              article("c", names(["Larijani"]))]
    index.upsert(corpus)
    touched = affected_ids(index, ["Soleimani", "Qassem Suleimani"], ["persons"])
    assert set(touched) == {corpus[0].id, corpus[1].id}
    assert affected_ids(index, ["Soleimani"], ["locations"]) == []


# -- the commands ---------------------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    return {"REDIS_URL": settings.redis_url or "", "NEWSWORKERS_NAMESPACE": settings.namespace,
            "NEWSWORKERS_DATA_DIR": str(settings.data_dir), "ELASTICSEARCH_URL": ""}


def invoke(env: dict[str, str], *args: str) -> dict:  # type: ignore[type-arg]
    from workers.cli.main import app

    result = CliRunner().invoke(app, ["entities", *args, "--json"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_every_command_and_its_undo(settings: Settings, cli_env: dict[str, str]) -> None:
    indexed(settings, [article("a", names(["Qassem Suleimani", "Brexit"], ["Soleimani"])),
                       article("b", names(["Qasem Soleimani"])), article("c", names(["Donald Trump"]))])
    listed = invoke(cli_env, "list", "--kind", "persons")
    assert {e["name"]: e["articles"] for e in listed["entities"]["persons"]} == {
        "Qassem Suleimani": 1, "Brexit": 1, "Qasem Soleimani": 1, "Donald Trump": 1}
    merged = invoke(cli_env, "merge", "Qasem Soleimani", "Qassem Suleimani", "--kind", "persons")
    assert merged["updated"] == 1
    renamed = invoke(cli_env, "rename", "Donald Trump", "Donald J. Trump")
    blocked = invoke(cli_env, "block", "Brexit", "--kind", "persons")
    persons = {e["name"]: e["articles"] for e in invoke(cli_env, "list", "--kind", "persons")["entities"]["persons"]}
    assert persons == {"Qassem Suleimani": 2, "Donald J. Trump": 1}
    corrections = invoke(cli_env, "corrections")
    assert [c["action"] for c in corrections] == ["merge", "rename", "block"]
    for made, gone in ((blocked, "Brexit"), (renamed, "Donald Trump"), (merged, "Qasem Soleimani")):
        assert invoke(cli_env, "undo", str(made["correction"]["id"]))["undone"] is True
        now = {e["name"] for e in invoke(cli_env, "list", "--kind", "persons")["entities"]["persons"]}
        assert gone in now
    assert invoke(cli_env, "corrections") == []
    refreshed = invoke(cli_env, "refresh", "Qasem Soleimani", "--kind", "persons")
    assert (refreshed["correction"], refreshed["found"], refreshed["updated"]) == (None, 1, 0)


def test_commands_refuse_bad_input_and_change_nothing(settings: Settings, cli_env: dict[str, str]) -> None:
    from workers.cli.main import app

    indexed(settings, [article("a", names(["Brexit"]))])
    for args in (["block", "Brexit", "--kind", "things"], ["merge", "Brexit", "brexit"], ["undo", "41"]):
        result = CliRunner().invoke(app, ["entities", *args], env=cli_env)
        assert result.exit_code != 0 and isinstance(result.exception, ConfigError), args
    assert invoke(cli_env, "corrections") == []
    assert stored(settings, "a").persons == ["Brexit"]


# -- backup and restore ---------------------------------------------------------------------------------------------


@pytest.fixture
def other_namespace(redis_url: str) -> Iterator[str]:
    from tests.conftest import scratch_namespace

    yield from scratch_namespace(redis_url)


def test_backup_and_restore_carry_the_corrections(tmp_path: Path, settings: Settings, other_namespace: str) -> None:
    from workers.ops.backup import backup, restore

    indexed(settings, [article("a", names(["Djokovic"], organizations=["Novak Djokovic"]))])
    merged = correct(settings, "merge", "Djokovic", "Novak Djokovic", "persons").correction
    blocked = correct(settings, "block", "Novak Djokovic", kind="organizations").correction
    backup(settings, tmp_path / "backup")
    fresh = settings.model_copy(update={"data_dir": tmp_path / "fresh", "namespace": other_namespace})
    restore(fresh, tmp_path / "backup")
    store = CorrectionStore(redis.Redis.from_url(fresh.redis_url or ""), other_namespace)
    assert store.all() == [merged, blocked]
    assert stored(fresh, "a").persons == ["Novak Djokovic"] and stored(fresh, "a").organizations == []
    # The restored directory goes on: an undo there restores the article, a new correction gets a new id.
    undo(fresh, merged.id)
    assert stored(fresh, "a").persons == ["Djokovic"]
    assert store.add("block", "Djokovic").id > blocked.id


def test_an_article_between_extract_and_index_gets_a_correction_made_meanwhile(redis_url: str, namespace: str,
                                                                               index: TantivyBackend) -> None:
    from workers.pipeline.index.batch import index_batch

    store = CorrectionStore(redis.Redis.from_url(redis_url), namespace)
    extracted = article("a", names(["Djokovic"]))  # extracted before the correction below
    untagged = article("b", names([])).model_copy(update={"extracted_entities": None, "persons": ["Kenin"]})
    store.add("merge", "Djokovic", "Novak Djokovic")
    store.add("block", "Kenin")
    payloads = [{"article": a.model_dump(mode="json"), "done": []} for a in (extracted, untagged)]
    outcome = index_batch(payloads, lambda: index, max_attempts=2, correct=store.correct_article)
    assert outcome.indexed == 2
    corrected = index.get(extracted.id)
    assert corrected is not None and corrected.persons == ["Novak Djokovic"]
    assert corrected.aliases_by_kind == {"persons": ["Djokovic"]}
    # An article whose entities were never found (no NER) is left as it came.
    assert (index.get(untagged.id) or untagged).persons == ["Kenin"]


def test_refresh_finishes_an_update_in_place_that_did_not_happen(settings: Settings) -> None:
    from workers.ops.entity_corrections import refresh

    indexed(settings, [article("a", names(["Djokovic"])), article("b", names(["Kenin"]))])
    # Recorded, its update in place never run (an outage cut it short, or the index was restored from before it).
    CorrectionStore(redis.Redis.from_url(settings.redis_url or ""), settings.namespace).add(
        "merge", "Djokovic", "Novak Djokovic")
    assert stored(settings, "a").persons == ["Djokovic"]
    report = refresh(settings, "djokovic", "persons")
    assert (report.correction, report.found, report.updated) == (None, 1, 1)
    assert stored(settings, "a").persons == ["Novak Djokovic"] and stored(settings, "b").persons == ["Kenin"]
    assert refresh(settings, "Djokovic").updated == 0  # up to date: nothing rewritten
    with pytest.raises(ConfigError):
        refresh(settings, "Djokovic", "things")


def _one_by_one(found: EntityNames, corrections: list[Correction]) -> dict[str, tuple[list[str], set[str]]]:
    """The plain reading of the rule, for comparison: each correction in turn rewrites the names as they stand."""
    from workers.entities.corrections import kinds_of, same_name

    out = {}
    for kind in ("persons", "organizations"):
        names, aliases = list(found.names.get(kind, [])), list(found.aliases.get(kind, []))
        for c in sorted(corrections, key=lambda c: c.id):
            if kind not in kinds_of(c):
                continue
            hit = [n for n in names if same_name(n, c.name)]
            if c.action is CorrectionAction.BLOCK:
                names = [n for n in names if n not in hit]
                aliases = [a for a in aliases if not same_name(a, c.name)]
            else:
                names = [c.target if n in hit else n for n in names]  # type: ignore[misc]
                aliases += [n for n in hit if n != c.target]
        names = list(dict.fromkeys(names))
        out[kind] = (names, {a for a in aliases if a not in names})
    return out


def test_the_indexed_corrections_apply_exactly_as_one_after_the_other() -> None:
    import random

    pool = ["Ann Lee", "ann lee", "Bo Chen", "Cy Diaz", "Di Evans", "Ed Fox"]
    rng = random.Random(22)
    for _ in range(300):
        found = EntityNames(names={"persons": rng.sample(pool, 3), "organizations": rng.sample(pool, 2)},
                            aliases={"persons": rng.sample(pool, 1)})
        corrections = []
        for i in range(1, rng.randint(1, 6) + 1):
            action = rng.choice(["merge", "rename", "block"])
            name, target = rng.sample(pool[1:], 2)
            kind = rng.choice([None, "persons", "organizations"])
            try:
                corrections.append(fix(action, name, None if action == "block" else target, kind, id_=i))
            except ConfigError:
                continue
        fast = apply_corrections(found, corrections)
        assert {k: (fast.by_kind[k], set(fast.aliases_by_kind.get(k, []))) for k in ("persons", "organizations")} \
            == _one_by_one(found, corrections), (found, corrections)
