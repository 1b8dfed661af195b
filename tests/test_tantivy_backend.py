"""The Tantivy backend against a real index on disk: writing, reading, query syntax, filters, facets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conformance.corpus import FETCHED, article, day
from workers.core.errors import IndexingError, QuerySyntaxError, RetryableIndexingError
from workers.core.models import Article, BodySource, DateSource
from workers.search.model import SearchQuery, SearchResult, Sort
from workers.search.tantivy.backend import TantivyBackend

# The builders are the conformance corpus's; the documents are this file's own, as its counts expect.
ARTICLES: dict[str, Article] = {
    "a1": article(
        "a1", title="Rocket attack on Baghdad base", domain="example.com", published_at=day(10),
        body="Militants fired rockets at the base near Baghdad. The attack caused heavy damage.",
        persons=["Qassem Soleimani"], organizations=["Kataib Hezbollah"], locations=["Baghdad", "Iraq"],
        source_name="Example News", authors=["Jane Roe"], tags=["conflict"],
        summary="Rockets hit a base.", canonical_url="https://example.com/canonical/a1",
    ),
    "a2": article(
        "a2", title="Ceasefire talks in Cairo", domain="news.org", published_at=day(12),
        body="Negotiators met in Cairo to discuss a ceasefire. The talks continued late into the night.",
        organizations=["Hamas"], locations=["Cairo", "Egypt"], source_name="News Org",
    ),
    "a3": article(
        "a3", title="Football season opens", domain="sport.co.uk", published_at=day(5),
        body="The sports league opened its season with a football match in London.",
        locations=["London"], tags=["sports"],
    ),
    "a4": article(
        "a4", title="Drone strike reported", domain="news.org", published_at=day(15),
        body="A drone strike was reported near Baghdad airport. Officials said the airport was attacked twice.",
        locations=["Baghdad"], source_name="News Org", events=["Airport Strike"],
    ),
    "a5": article(
        "a5", title="Attaque à Paris", domain="lemonde.fr", published_at=day(8), language="fr",
        body="Une attaque a eu lieu à Paris hier soir.", locations=["Paris"], body_source=BodySource.FEED,
    ),
    "a6": article(
        "a6", title="Market report", domain="example.com", published_at=day(20),
        body="Stocks rose sharply as investors bought shares.", organizations=["Federal Reserve"],
    ),
    "a7": article(
        "a7", title="Earthquake hits Turkey", domain="quake.net", published_at=day(3),
        body="The earthquake destroyed buildings across the region.", locations=["Turkey"],
    ),
    "a8": article(
        "a8", title="Weekly roundup", domain="example.com", published_at=day(25),
        body="News of the week, from the markets to the elections, with a short note on an earthquake "
             "that was felt far away, and the usual letters from our readers about the weather and trains.",
    ),
}
ID = {key: a.id for key, a in ARTICLES.items()}
KEY = {a.id: key for key, a in ARTICLES.items()}
BY_DATE_DESC = ["a8", "a6", "a4", "a2", "a1", "a5", "a3", "a7"]


@pytest.fixture
def index_path(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def writer(index_path: Path) -> Iterator[TantivyBackend]:
    backend = TantivyBackend(index_path, writer=True)
    backend.upsert(list(ARTICLES.values()))
    try:
        yield backend
    finally:
        backend.close()


def run(backend: TantivyBackend, text: str = "", **kwargs: object) -> SearchResult:
    kwargs.setdefault("limit", 100)
    return backend.search(SearchQuery(text=text, **kwargs))  # type: ignore[arg-type]


def keys(backend: TantivyBackend, text: str = "", **kwargs: object) -> set[str]:
    result = run(backend, text, **kwargs)
    found = {KEY[h.id] for h in result.hits}
    assert result.total == len(found)
    return found


# -- writing and reading back -------------------------------------------------------------------------


def test_upsert_then_count_and_health(writer: TantivyBackend, index_path: Path) -> None:
    assert writer.count() == 8
    health = writer.health()
    assert health["backend"] == "tantivy"
    assert health["documents"] == 8
    assert health["writer"] is True
    assert health["path"] == str(index_path)
    assert health["segments"] >= 1


def test_reader_sees_commits_of_the_writer(index_path: Path) -> None:
    writer = TantivyBackend(index_path, writer=True)
    reader = TantivyBackend(index_path)
    try:
        assert reader.count() == 0
        writer.upsert([ARTICLES["a1"], ARTICLES["a2"]])
        assert reader.count() == 2
        assert keys(reader, "cairo") == {"a2"}
        writer.upsert([ARTICLES["a4"]])
        assert keys(reader, "baghdad") == {"a1", "a4"}
        writer.delete([ID["a1"]])
        assert reader.count() == 2
        assert reader.get(ID["a1"]) is None
        assert reader.health()["writer"] is False
    finally:
        writer.close()


def test_read_only_backend_refuses_to_write(writer: TantivyBackend, index_path: Path) -> None:
    reader = TantivyBackend(index_path)
    with pytest.raises(IndexingError) as caught:
        reader.upsert([ARTICLES["a1"]])
    assert caught.value.reason == "index.read_only"
    with pytest.raises(IndexingError) as caught:
        reader.delete([ID["a1"]])
    assert caught.value.reason == "index.read_only"


def test_get_round_trips_the_full_article(writer: TantivyBackend) -> None:
    for original in ARTICLES.values():
        assert writer.get(original.id) == original
    a1 = writer.get(ID["a1"])
    assert a1 is not None
    assert a1.persons == ["Qassem Soleimani"]
    assert a1.organizations == ["Kataib Hezbollah"]
    assert a1.locations == ["Baghdad", "Iraq"]
    assert a1.published_at == datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
    assert a1.fetched_at == FETCHED
    assert a1.date_source is DateSource.PAGE
    assert a1.canonical_url == "https://example.com/canonical/a1"
    a5 = writer.get(ID["a5"])
    assert a5 is not None
    assert a5.body_source is BodySource.FEED
    assert a5.language == "fr"
    assert writer.get("0" * 32) is None


def test_non_utc_date_is_kept_and_filtered_by_its_instant(index_path: Path) -> None:
    plus_two = timezone(timedelta(hours=2))
    # 2024-01-11 01:00 at +02:00 is 2024-01-10 23:00 UTC.
    doc = article("tz", title="Timezone test", body="Clock words.", domain="tz.example",
                  published_at=datetime(2024, 1, 11, 1, 0, tzinfo=plus_two))
    backend = TantivyBackend(index_path, writer=True)
    try:
        backend.upsert([doc])
        back = backend.get(doc.id)
        assert back is not None
        assert back.published_at == datetime(2024, 1, 10, 23, 0, tzinfo=UTC)
        found = run(backend, since=datetime(2024, 1, 10, 22, 59, tzinfo=UTC),
                    until=datetime(2024, 1, 10, 23, 0, tzinfo=UTC))
        assert [h.id for h in found.hits] == [doc.id]
        assert run(backend, since=datetime(2024, 1, 10, 23, 1, tzinfo=UTC)).total == 0
    finally:
        backend.close()


def test_upsert_of_an_existing_id_replaces_it(writer: TantivyBackend) -> None:
    changed = ARTICLES["a6"].model_copy(update={"title": "Currency update", "body": "The currency fell today."})
    writer.upsert([changed])
    assert writer.count() == 8
    assert keys(writer, "currency") == {"a6"}
    assert keys(writer, "stocks") == set()
    assert keys(writer, "title:market") == set()
    back = writer.get(ID["a6"])
    assert back is not None
    assert back.title == "Currency update"


def test_upsert_twice_in_one_batch_keeps_one_document(index_path: Path) -> None:
    backend = TantivyBackend(index_path, writer=True)
    try:
        first = ARTICLES["a7"]
        second = first.model_copy(update={"title": "Aftershock hits Turkey"})
        backend.upsert([first, second])
        assert backend.count() == 1
        back = backend.get(first.id)
        assert back is not None
        assert back.title == "Aftershock hits Turkey"
    finally:
        backend.close()


def test_delete_removes_and_ignores_unknown_ids(writer: TantivyBackend) -> None:
    writer.delete([ID["a3"], "f" * 32])
    assert writer.count() == 7
    assert writer.get(ID["a3"]) is None
    assert keys(writer, "football") == set()
    assert keys(writer, "") == set(ARTICLES) - {"a3"}


def test_second_writer_on_the_same_path_is_locked(writer: TantivyBackend, index_path: Path) -> None:
    with pytest.raises(RetryableIndexingError) as caught:
        TantivyBackend(index_path, writer=True)
    assert caught.value.reason == "index.locked"


def test_writer_can_be_reopened_after_close(index_path: Path) -> None:
    first = TantivyBackend(index_path, writer=True)
    first.upsert([ARTICLES["a1"]])
    first.close()
    second = TantivyBackend(index_path, writer=True)
    try:
        second.upsert([ARTICLES["a2"]])
        assert second.count() == 2
    finally:
        second.close()


# -- query text ------------------------------------------------------------------------------------


def test_empty_query_matches_everything(writer: TantivyBackend) -> None:
    assert keys(writer, "") == set(ARTICLES)
    assert keys(writer, "   ") == set(ARTICLES)


def test_word_search_is_stemmed(writer: TantivyBackend) -> None:
    # "attacks" → attack: a1 has "attack", a4 only "attacked"; French "attaque" is not an English match.
    assert keys(writer, "attacks") == {"a1", "a4"}
    assert keys(writer, "attacked") == {"a1", "a4"}
    assert keys(writer, "rocket") == {"a1"}
    assert keys(writer, "BAGHDAD") == {"a1", "a4"}


def test_word_search_reaches_the_summary(writer: TantivyBackend) -> None:
    # "hit" appears only in a1's summary ("Rockets hit a base.") and a7's title ("hits").
    assert keys(writer, "hit") == {"a1", "a7"}


def test_phrase_respects_word_order(writer: TantivyBackend) -> None:
    assert keys(writer, '"rocket attack"') == {"a1"}
    assert keys(writer, '"attack rocket"') == set()
    assert keys(writer, '"drone strike"') == {"a4"}
    assert keys(writer, '"strike drone"') == set()


def test_boolean_operators(writer: TantivyBackend) -> None:
    assert keys(writer, "baghdad drone") == {"a4"}
    assert keys(writer, "baghdad AND drone") == {"a4"}
    assert keys(writer, "cairo OR football") == {"a2", "a3"}
    assert keys(writer, "baghdad NOT drone") == {"a1"}
    assert keys(writer, "baghdad -drone") == {"a1"}
    assert keys(writer, "-sports") == set(ARTICLES) - {"a3"}
    assert keys(writer, "NOT sports") == set(ARTICLES) - {"a3"}
    assert keys(writer, "(cairo OR london) -football") == {"a2"}
    assert keys(writer, '-"rocket attack" baghdad') == {"a4"}


def test_field_on_title(writer: TantivyBackend) -> None:
    # a4 names Baghdad in its body only.
    assert keys(writer, "title:baghdad") == {"a1"}
    assert keys(writer, "Title:attacks") == {"a1"}
    assert keys(writer, 'title:"drone strike"') == {"a4"}
    assert keys(writer, "title:(cairo OR football)") == {"a2", "a3"}
    assert keys(writer, "body:rocket") == {"a1"}
    assert keys(writer, "title:militants") == set()


def test_field_on_facets_is_case_insensitive(writer: TantivyBackend) -> None:
    assert keys(writer, "locations:baghdad") == {"a1", "a4"}
    assert keys(writer, "locations:BAGHDAD") == {"a1", "a4"}
    assert keys(writer, "LOCATIONS:Baghdad") == {"a1", "a4"}
    assert keys(writer, 'persons:"qassem soleimani"') == {"a1"}
    assert keys(writer, 'organizations:"Federal Reserve"') == {"a6"}
    assert keys(writer, "language:fr") == {"a5"}
    assert keys(writer, "domain:news.org") == {"a2", "a4"}
    assert keys(writer, "tags:sports") == {"a3"}
    assert keys(writer, 'events:"airport strike"') == {"a4"}
    # A facet value matches whole, not word by word.
    assert keys(writer, "persons:qassem") == set()
    assert keys(writer, "locations:baghdad -title:drone") == {"a1"}


def test_url_field_matches_the_exact_url(writer: TantivyBackend) -> None:
    assert keys(writer, f'url:"{ARTICLES["a2"].url}"') == {"a2"}


# -- filters and dates ---------------------------------------------------------------------------------


def test_filters_or_within_a_facet_and_across_facets(writer: TantivyBackend) -> None:
    assert keys(writer, filters={"locations": ["Cairo", "Paris"]}) == {"a2", "a5"}
    assert keys(writer, filters={"locations": ["baghdad"]}) == {"a1", "a4"}
    assert keys(writer, filters={"locations": ["Baghdad"], "domain": ["news.org"]}) == {"a4"}
    assert keys(writer, filters={"locations": ["Baghdad", "Cairo"], "domain": ["news.org"]}) == {"a2", "a4"}
    assert keys(writer, filters={"locations": ["Baghdad"], "domain": ["lemonde.fr"]}) == set()
    assert keys(writer, "attack", filters={"domain": ["example.com"]}) == {"a1"}
    assert keys(writer, filters={"persons": ["  Qassem   Soleimani "]}) == {"a1"}


def test_since_until_is_inclusive(writer: TantivyBackend) -> None:
    assert keys(writer, since=day(10), until=day(15)) == {"a1", "a2", "a4"}
    assert keys(writer, since=day(10) + timedelta(seconds=1), until=day(15) - timedelta(seconds=1)) == {"a2"}
    assert keys(writer, since=day(20)) == {"a6", "a8"}
    assert keys(writer, until=day(5)) == {"a3", "a7"}
    # A naive datetime is read as UTC.
    assert keys(writer, since=datetime(2024, 1, 20, 12, 0), until=datetime(2024, 1, 20, 12, 0)) == {"a6"}
    assert keys(writer, "baghdad", since=day(11)) == {"a4"}


def test_since_after_until_is_a_syntax_error() -> None:
    with pytest.raises(QuerySyntaxError):
        SearchQuery(since=day(12), until=day(10))


# -- ordering, paging -------------------------------------------------------------------------------------


def test_sort_by_date_descending(writer: TantivyBackend) -> None:
    result = run(writer, sort=Sort.DATE)
    assert [KEY[h.id] for h in result.hits] == BY_DATE_DESC
    assert all(h.score is None for h in result.hits)
    assert result.hits[0].published_at == day(25)
    filtered = run(writer, "baghdad OR cairo", sort=Sort.DATE)
    assert [KEY[h.id] for h in filtered.hits] == ["a4", "a2", "a1"]


def test_relevance_prefers_title_and_body_over_one_body_mention(writer: TantivyBackend) -> None:
    result = run(writer, "earthquake")
    assert [KEY[h.id] for h in result.hits] == ["a7", "a8"]
    scores = [h.score for h in result.hits]
    assert scores[0] is not None and scores[1] is not None
    assert scores[0] > scores[1] > 0


def test_offset_limit_pages_do_not_overlap(writer: TantivyBackend) -> None:
    pages = [run(writer, sort=Sort.DATE, limit=3, offset=offset) for offset in (0, 3, 6)]
    assert [p.total for p in pages] == [8, 8, 8]
    assert [len(p.hits) for p in pages] == [3, 3, 2]
    ids = [KEY[h.id] for p in pages for h in p.hits]
    assert ids == BY_DATE_DESC
    beyond = run(writer, sort=Sort.DATE, limit=3, offset=8)
    assert beyond.total == 8
    assert beyond.hits == []


def test_relevance_pages_do_not_overlap(writer: TantivyBackend) -> None:
    full = [h.id for h in run(writer, "baghdad OR cairo OR earthquake").hits]
    assert len(full) == 5
    paged = [h.id for offset in (0, 2, 4) for h in run(writer, "baghdad OR cairo OR earthquake",
                                                        limit=2, offset=offset).hits]
    assert paged == full


def test_limit_zero_still_counts(writer: TantivyBackend) -> None:
    # SearchQuery and `newsworkers search --limit 0` accept 0 (count only); Tantivy's top-docs collector panics on it.
    try:
        result = run(writer, "baghdad", limit=0)
    except BaseException as exc:  # pyo3's PanicException is a BaseException
        pytest.fail(f"search with limit=0 crashed instead of returning the count: {exc!r}")
    assert result.total == 2
    assert result.hits == []


# -- facets, snippets, hits -----------------------------------------------------------------------------------


def test_facet_counts_are_exact(writer: TantivyBackend) -> None:
    result = run(writer, facets=["locations", "domain", "language"])
    counts = {name: {c.value: c.count for c in values} for name, values in result.facets.items()}
    assert counts == {
        "locations": {"Baghdad": 2, "Iraq": 1, "Cairo": 1, "Egypt": 1, "London": 1, "Paris": 1, "Turkey": 1},
        "domain": {"example.com": 3, "news.org": 2, "sport.co.uk": 1, "lemonde.fr": 1, "quake.net": 1},
        "language": {"en": 7, "fr": 1},
    }
    assert result.facets["locations"][0].value == "Baghdad"
    assert result.facets["domain"][0].value == "example.com"


def test_facet_counts_follow_the_query_and_filters(writer: TantivyBackend) -> None:
    result = run(writer, "baghdad", facets=["locations", "persons"])
    assert {c.value: c.count for c in result.facets["locations"]} == {"Baghdad": 2, "Iraq": 1}
    assert {c.value: c.count for c in result.facets["persons"]} == {"Qassem Soleimani": 1}
    filtered = run(writer, filters={"domain": ["news.org"]}, facets=["source_name"])
    assert {c.value: c.count for c in filtered.facets["source_name"]} == {"News Org": 2}
    assert run(writer, "baghdad").facets == {}


def test_facet_size_limits_buckets(writer: TantivyBackend) -> None:
    result = run(writer, facets=["locations"], facet_size=1)
    assert [(c.value, c.count) for c in result.facets["locations"]] == [("Baghdad", 2)]


def test_snippet_highlights_the_matched_term(writer: TantivyBackend) -> None:
    (hit,) = run(writer, "drone").hits
    assert "<b>drone</b>" in hit.snippet
    stemmed = {KEY[h.id]: h.snippet for h in run(writer, "attacks").hits}
    assert "<b>attacked</b>" in stemmed["a4"]
    assert "<b>attack</b>" in stemmed["a1"]


def test_snippet_without_a_match_is_the_escaped_body_start(index_path: Path) -> None:
    doc = article("esc", title="Escaping", body="Tom & Jerry <script> fight again.", domain="esc.example",
                  published_at=day(1))
    backend = TantivyBackend(index_path, writer=True)
    try:
        backend.upsert([doc])
        (hit,) = run(backend, "").hits
        assert hit.snippet == "Tom &amp; Jerry &lt;script&gt; fight again."
        (titled,) = run(backend, "title:escaping").hits
        assert "<script>" not in titled.snippet
    finally:
        backend.close()


def test_hit_carries_the_article_fields(writer: TantivyBackend) -> None:
    (hit,) = run(writer, "rocket").hits
    a1 = ARTICLES["a1"]
    assert (hit.id, hit.url, hit.title) == (a1.id, a1.url, a1.title)
    assert hit.published_at == a1.published_at
    assert (hit.source_name, hit.domain, hit.language) == ("Example News", "example.com", "en")
    assert hit.authors == ["Jane Roe"]
    assert hit.persons == ["Qassem Soleimani"]
    assert hit.locations == ["Baghdad", "Iraq"]
    data = run(writer, "rocket").to_json()
    assert data["total"] == 1
    assert data["hits"][0]["published_at"] == "2024-01-10T12:00:00+00:00"


# -- errors --------------------------------------------------------------------------------------------------------


def test_unknown_facet_is_a_syntax_error() -> None:
    with pytest.raises(QuerySyntaxError):
        SearchQuery(filters={"colour": ["red"]})
    with pytest.raises(QuerySyntaxError):
        SearchQuery(facets=["colour"])


@pytest.mark.parametrize("text", ['"unclosed', "(baghdad", "baghdad)", "title:", "colour:red", "baghdad OR", "AND x"])
def test_malformed_query_text_is_a_syntax_error(writer: TantivyBackend, text: str) -> None:
    with pytest.raises(QuerySyntaxError):
        writer.search(SearchQuery(text=text))


def test_negative_paging_is_a_syntax_error() -> None:
    with pytest.raises(QuerySyntaxError):
        SearchQuery(limit=-1)
    with pytest.raises(QuerySyntaxError):
        SearchQuery(offset=-1)


def test_an_index_of_another_schema_version_is_refused_with_the_fix(tmp_path: Path) -> None:
    TantivyBackend(tmp_path / "idx", writer=True).close()
    (tmp_path / "idx" / "newsworkers-schema-version").write_text("0")
    with pytest.raises(IndexingError, match="newsworkers index migrate") as info:
        TantivyBackend(tmp_path / "idx")
    assert info.value.reason == "index.schema_version"


def test_existing_answers_which_ids_are_indexed(tmp_path: Path) -> None:
    backend = TantivyBackend(tmp_path / "index", writer=True)
    try:
        one, two = (article(k, title=k, body="text", published_at=day(1), domain="x.example") for k in ("a", "b"))
        backend.upsert([one, two])
        assert backend.existing([one.id, "c" * 32, two.id, one.id]) == {one.id, two.id}
        assert backend.existing([]) == set()
    finally:
        backend.close()
