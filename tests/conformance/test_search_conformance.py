"""Same documents in, same ids, totals and facet counts out: every backend, one set of expectations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conformance.corpus import ARTICLES, BY_DATE_DESC, ID, KEY, article, day
from workers.search.backend import SearchBackend
from workers.search.geofilter import BBox, Near
from workers.search.model import FACETS, SearchQuery, SearchResult, Sort
from workers.search.tantivy.analysis import analyzer


@pytest.fixture(scope="module")
def backend(module_backend: SearchBackend) -> Iterator[SearchBackend]:
    module_backend.upsert(list(ARTICLES.values()))
    yield module_backend


def run(backend: SearchBackend, text: str = "", **kwargs: Any) -> SearchResult:
    kwargs.setdefault("limit", 100)
    return backend.search(SearchQuery(text=text, **kwargs))


def keys(backend: SearchBackend, text: str = "", **kwargs: Any) -> set[str]:
    result = run(backend, text, **kwargs)
    found = {KEY[h.id] for h in result.hits}
    assert result.total == len(found), "total and hits disagree"
    return found


ALL = set(ARTICLES)


@pytest.mark.parametrize(("text", "expected"), [
    ("", ALL),
    ("attacks", {"a1", "a4"}),  # stemming: attack, attacked; the French "attaque" is no English match
    ("attacked", {"a1", "a4"}),
    ("rocket", {"a1", "a9"}),
    ("BAGHDAD", {"a1", "a4", "a9"}),
    ("hit", {"a1", "a7", "a9"}),  # a1 only in its summary
    ("baghdad drone", {"a4"}),
    ("baghdad AND drone", {"a4"}),
    ("cairo OR football", {"a2", "a3"}),
    ("baghdad NOT drone", {"a1", "a9"}),
    ("baghdad -drone", {"a1", "a9"}),
    ("-sports", ALL - {"a3"}),
    ("(cairo OR london) -football", {"a2"}),
    ("title:baghdad", {"a1", "a9"}),
    ("Title:attacks", {"a1"}),
    ("title:(cairo OR football)", {"a2", "a3"}),
    ("body:rocket", {"a1", "a9"}),
    ("title:militants", set()),
    ("locations:BAGHDAD -title:drone", {"a1", "a9"}),
    ('persons:"qassem soleimani"', {"a1"}),
    ("persons:qassem", set()),  # a facet value matches whole
    ("language:fr", {"a5"}),
    ("domain:news.org", {"a2", "a4"}),
    ("nonexistentword", set()),
])
def test_query_syntax(backend: SearchBackend, text: str, expected: set[str]) -> None:
    assert keys(backend, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ('"rocket attack"', {"a1"}),
    ('"attack rocket"', set()),
    ('"drone strike"', {"a4"}),
    ('"strike drone"', set()),
    ('title:"drone strike"', {"a4"}),
    ('-"rocket attack" baghdad', {"a4", "a9"}),
    ('"fired rockets"', {"a1"}),
])
def test_phrases(backend: SearchBackend, text: str, expected: set[str]) -> None:
    assert keys(backend, text) == expected


def test_url_matches_the_exact_url(backend: SearchBackend) -> None:
    assert keys(backend, f'url:"{ARTICLES["a2"].url}"') == {"a2"}


FACET_CASES = {
    "persons": ("qassem soleimani", {"a1"}),
    "organizations": ("HAMAS", {"a2"}),
    "locations": ("baghdad", {"a1", "a4", "a9"}),
    "groups": ("egyptians", {"a2"}),
    "events": ("airport strike", {"a4"}),
    "source_name": ("news org", {"a2", "a4"}),
    "domain": ("news.org", {"a2", "a4"}),
    "language": ("FR", {"a5"}),
    "authors": ("jane  roe", {"a1"}),
    "tags": ("Sports", {"a3"}),
    "collections": ("middle east", {"a2"}),
    "countries": ("iq", {"a1", "a4"}),
}


def test_every_facet_has_a_case() -> None:
    assert set(FACET_CASES) == set(FACETS)


@pytest.mark.parametrize("facet", FACETS)
def test_filter_on_every_facet(backend: SearchBackend, facet: str) -> None:
    value, expected = FACET_CASES[facet]
    assert keys(backend, filters={facet: [value]}) == expected


def test_filters_or_within_a_facet_and_across_facets(backend: SearchBackend) -> None:
    assert keys(backend, filters={"locations": ["Cairo", "Paris"]}) == {"a2", "a5"}
    assert keys(backend, filters={"locations": ["Baghdad"], "domain": ["news.org"]}) == {"a4"}
    assert keys(backend, filters={"locations": ["Baghdad", "Cairo"], "domain": ["news.org"]}) == {"a2", "a4"}
    assert keys(backend, filters={"locations": ["Baghdad"], "domain": ["lemonde.fr"]}) == set()
    assert keys(backend, "attack", filters={"domain": ["example.com"]}) == {"a1"}


def test_date_ranges_are_inclusive(backend: SearchBackend) -> None:
    assert keys(backend, since=day(10), until=day(15)) == {"a1", "a2", "a4", "a9"}
    assert keys(backend, since=day(10) + timedelta(seconds=1), until=day(15) - timedelta(seconds=1)) == {"a2", "a9"}
    assert keys(backend, since=day(20)) == {"a6", "a8"}
    assert keys(backend, until=day(5)) == {"a3", "a7"}
    assert keys(backend, "baghdad", since=day(11)) == {"a4", "a9"}


def test_sort_by_date_and_offset_paging(backend: SearchBackend) -> None:
    result = run(backend, sort=Sort.DATE)
    assert [KEY[h.id] for h in result.hits] == BY_DATE_DESC
    assert all(h.score is None for h in result.hits)
    pages = [run(backend, sort=Sort.DATE, limit=4, offset=offset) for offset in (0, 4, 8)]
    assert [p.total for p in pages] == [9, 9, 9]
    assert [KEY[h.id] for p in pages for h in p.hits] == BY_DATE_DESC
    beyond = run(backend, sort=Sort.DATE, limit=3, offset=9)
    assert (beyond.total, beyond.hits) == (9, [])
    counted = run(backend, "baghdad", limit=0)
    assert (counted.total, counted.hits) == (3, [])


def test_relevance_on_a_clear_cut_case(backend: SearchBackend) -> None:
    # a7 has the word in its title and its short body; a8 once in a long body.
    result = run(backend, "earthquake")
    assert [KEY[h.id] for h in result.hits] == ["a7", "a8"]
    assert result.hits[0].score is not None and result.hits[1].score is not None
    assert result.hits[0].score > result.hits[1].score > 0


def test_facet_counts_are_exact_and_follow_the_query(backend: SearchBackend) -> None:
    result = run(backend, facets=["locations", "domain", "language"])
    counts = {name: {c.value: c.count for c in values} for name, values in result.facets.items()}
    assert counts == {
        "locations": {"Baghdad": 3, "Iraq": 1, "Cairo": 1, "Egypt": 1, "London": 1, "Paris": 1, "Turkey": 1},
        "domain": {"example.com": 3, "news.org": 2, "sport.co.uk": 1, "lemonde.fr": 1, "quake.net": 1, "wire.com": 1},
        "language": {"en": 8, "fr": 1},
    }
    assert result.facets["locations"][0].value == "Baghdad"
    narrowed = run(backend, "baghdad", facets=["locations", "persons"], filters={"domain": ["example.com"]})
    assert {c.value: c.count for c in narrowed.facets["locations"]} == {"Baghdad": 1, "Iraq": 1}
    assert {c.value: c.count for c in narrowed.facets["persons"]} == {"Qassem Soleimani": 1}
    top = run(backend, facets=["locations"], facet_size=1)
    assert [(c.value, c.count) for c in top.facets["locations"]] == [("Baghdad", 3)]


_MARKED = re.compile(r"<b>(.*?)</b>")


def _stems(text: str) -> set[str]:
    return set(analyzer("en").analyze(text))


@pytest.mark.parametrize("text", ["drone", "attacks", "baghdad", "earthquake OR rockets"])
def test_snippets_mark_only_the_matched_terms(backend: SearchBackend, text: str) -> None:
    wanted = _stems(text.replace(" OR ", " "))
    result = run(backend, text)
    assert result.hits
    for hit in result.hits:
        marked = _MARKED.findall(hit.snippet)
        assert all(_stems(word) <= wanted for word in marked), (hit.snippet, wanted)
    body_matches = [h for h in result.hits if _stems(ARTICLES[KEY[h.id]].body) & wanted]
    assert body_matches and all(_MARKED.search(h.snippet) for h in body_matches)


def test_collapse_keeps_one_hit_per_cluster(backend: SearchBackend) -> None:
    collapsed = run(backend, "baghdad", sort=Sort.DATE, collapse=True)
    # The a1/a9 cluster keeps the place its newest copy a9 earns, and shows a1: the story as first reported.
    assert [KEY[h.id] for h in collapsed.hits] == ["a4", "a1"]
    assert collapsed.total == 3  # total counts documents, as Elasticsearch's collapse does
    assert {h.cluster_id or h.id for h in collapsed.hits} == {ID["a4"], ID["a1"]}
    once_each = [("a1" if k == "a9" else k) for k in BY_DATE_DESC if k != "a1"]
    every = run(backend, sort=Sort.DATE, collapse=True)
    assert [KEY[h.id] for h in every.hits] == once_each
    paged = [KEY[h.id] for off in (0, 3, 6) for h in run(backend, sort=Sort.DATE, collapse=True, limit=3,
                                                         offset=off).hits]
    assert paged == once_each


def test_collapse_shows_the_earliest_copy_that_matches(backend: SearchBackend) -> None:
    # A word only a9 has: its cluster is shown by the earliest copy that matches the query (a9), not by the
    # cluster's first story (a1), which does not match.
    words = set(ARTICLES["a9"].body.lower().split()) - set(ARTICLES["a1"].body.lower().split())
    assert words, "a9 must have a word of its own for this test"
    word = sorted(words, key=len)[-1].strip(".,;:\"'")
    hits = run(backend, f'"{word}"', collapse=True).hits
    assert "a9" in [KEY[h.id] for h in hits] and "a1" not in [KEY[h.id] for h in hits]


def test_date_histogram_counts_the_matches_per_bucket(backend: SearchBackend) -> None:
    days = run(backend, histogram="day", limit=0).histogram
    assert days is not None
    assert [(b.start, b.count) for b in days] == [
        (day(d).replace(hour=0), 1) for d in sorted(ARTICLES[k].published_at.day for k in ALL)
    ]
    baghdad = keys(backend, "baghdad")
    weeks = run(backend, "baghdad", histogram="week", limit=0).histogram
    assert weeks is not None and sum(b.count for b in weeks) == run(backend, "baghdad").total
    assert all(b.start.weekday() == 0 and b.start.hour == 0 for b in weeks), "ISO weeks start on Monday 00:00 UTC"
    expected: dict[datetime, int] = {}
    for k in baghdad:
        monday = ARTICLES[k].published_at.replace(hour=0) - timedelta(days=ARTICLES[k].published_at.weekday())
        expected[monday] = expected.get(monday, 0) + 1
    assert [(b.start, b.count) for b in weeks] == sorted(expected.items())
    months = run(backend, histogram="month", limit=0).histogram
    assert months is not None
    assert [(b.start, b.count) for b in months] == [(datetime(2024, 1, 1, tzinfo=UTC), len(ALL))]
    assert run(backend, "baghdad").histogram is None, "no histogram unless asked"


def test_cluster_filter_finds_the_members(backend: SearchBackend) -> None:
    assert keys(backend, cluster_id=ID["a1"]) == {"a1", "a9"}
    assert keys(backend, cluster_id=ID["a3"]) == {"a3"}


def test_count_get_and_hit_fields(backend: SearchBackend) -> None:
    assert backend.count() == len(ARTICLES)
    for original in ARTICLES.values():
        assert backend.get(original.id) == original
    assert backend.get("0" * 32) is None
    (hit,) = run(backend, 'title:"rocket attack"').hits
    data = hit.to_json()
    assert data["id"] == ID["a1"] and data["published_at"] == "2024-01-10T12:00:00+00:00"
    assert data["locations"] == ["Baghdad", "Iraq"] and data["cluster_id"] == ID["a1"]


# -- writing ----------------------------------------------------------------------------------------------------------


def test_upsert_of_an_existing_id_replaces_it(empty_backend: SearchBackend) -> None:
    empty_backend.upsert(list(ARTICLES.values()))
    changed = ARTICLES["a6"].model_copy(update={"title": "Currency update", "body": "The currency fell today."})
    empty_backend.upsert([changed])
    assert empty_backend.count() == len(ARTICLES)
    assert keys(empty_backend, "currency") == {"a6"}
    assert keys(empty_backend, "stocks") == set()
    back = empty_backend.get(ID["a6"])
    assert back is not None and back.title == "Currency update"


def test_delete_removes_and_ignores_unknown_ids(empty_backend: SearchBackend) -> None:
    empty_backend.upsert(list(ARTICLES.values()))
    empty_backend.delete([ID["a3"], "f" * 32])
    assert empty_backend.count() == len(ARTICLES) - 1
    assert empty_backend.get(ID["a3"]) is None
    assert keys(empty_backend, "football") == set()


def test_a_snippet_without_a_match_is_the_escaped_body_start(empty_backend: SearchBackend) -> None:
    doc = article("esc", title="Escaping", body="Tom & Jerry <script> fight again.", domain="esc.example",
                  published_at=day(1))
    empty_backend.upsert([doc])
    (titled,) = run(empty_backend, "title:escaping").hits
    assert "<script>" not in titled.snippet
    assert titled.snippet.startswith("Tom &amp; Jerry &lt;script&gt;")


# -- where: countries and places -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("countries:IQ", {"a1", "a4"}),
    ("countries:iq", {"a1", "a4"}),
    ("countries:Iraq", {"a1", "a4"}),  # a country's name stands for its code
    ('countries:"United Kingdom"', {"a3"}),
    ("countries:IRQ", {"a1", "a4"}),
    ("countries:(FR OR GB)", {"a3", "a5"}),
    ("baghdad -countries:US", {"a4", "a9"}),  # a9 names Baghdad but was not geoparsed: no countries
    ("countries:Atlantis", set()),
])
def test_countries_query_field(backend: SearchBackend, text: str, expected: set[str]) -> None:
    assert keys(backend, text) == expected


def test_countries_filter_and_facet_by_name(backend: SearchBackend) -> None:
    assert keys(backend, filters={"countries": ["Iran", "egypt"]}) == {"a1", "a2"}
    result = run(backend, "baghdad", facets=["countries"])
    assert {(c.value, c.count) for c in result.facets["countries"]} == {("IQ", 2), ("IR", 1), ("US", 1)}
    named = {c["value"]: c["name"] for c in result.to_json()["facets"]["countries"]}
    assert named == {"IQ": "Iraq", "IR": "Iran", "US": "United States"}


@pytest.mark.parametrize(("area", "expected"), [
    (Near(33.34, 44.40, 50), {"a1", "a4"}),  # Baghdad
    (Near(33.34, 44.40, 1), {"a1", "a4"}),
    (Near(33.5, 44.40, 10), set()),  # 17.4 km north of Baghdad's point
    (Near(33.5, 44.40, 18), {"a1", "a4"}),
    (Near(49.6, 2.0, 300), {"a3", "a5"}),  # Paris 87 km away, London 260 km
    (Near(49.6, 2.0, 255), {"a5"}),
    (Near(49.6, 2.0, 87), {"a5"}),
    (Near(49.6, 2.0, 86), set()),
    (Near(0, 0, 20_000), {"a1", "a2", "a3", "a4", "a5", "a7"}),  # the whole earth: every article with a place
    (BBox(29, 38.8, 37.4, 48.6), {"a1", "a4"}),  # about Iraq
    (BBox(25, 25, 45, 60), {"a1", "a2", "a4", "a7"}),
    (BBox(35, -10, 60, 5), {"a3", "a5"}),
    (BBox(10, 170, 60, -60), {"a1"}),  # across the antimeridian: Washington only
])
def test_distance_and_box_filters(backend: SearchBackend, area: Near | BBox, expected: set[str]) -> None:
    kind = "near" if isinstance(area, Near) else "bbox"
    assert keys(backend, **{kind: area}) == expected


def test_geo_filters_combine_with_text_facets_and_each_other(backend: SearchBackend) -> None:
    baghdad = Near(33.34, 44.40, 50)
    assert keys(backend, "drone", near=baghdad) == {"a4"}
    assert keys(backend, near=baghdad, filters={"countries": ["US"]}) == {"a1"}
    assert keys(backend, near=Near(49.6, 2.0, 300), bbox=BBox(40, 0, 50, 10)) == {"a5"}
    counted = run(backend, near=baghdad, limit=0, facets=["domain"])
    assert counted.total == 2
    assert {c.value for c in counted.facets["domain"]} == {"example.com", "news.org"}


def test_hits_carry_countries_and_places(backend: SearchBackend) -> None:
    hit = next(h for h in run(backend, "rocket attack").hits if h.id == ID["a1"])
    assert hit.countries == ["IQ", "IR", "US"]
    assert hit.places == ARTICLES["a1"].places
    assert hit.to_json()["places"][0] == ARTICLES["a1"].places[0].model_dump()
