"""Distance and box filters: the sphere, the cell cover, and a real Tantivy index against a brute-force check."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.corpus import article, day
from workers.core.errors import QuerySyntaxError
from workers.core.models import Place
from workers.search.geofilter import CELL_SIZES, MAX_COVER_CELLS, BBox, Near, cell_terms, cover, distance_km
from workers.search.model import SearchQuery
from workers.search.request import parse_bbox, parse_near
from workers.search.tantivy.backend import TantivyBackend


def test_distances_on_the_sphere() -> None:
    assert distance_km(33.34058, 44.40088, 33.34058, 44.40088) == 0
    # Paris to London, and a quarter of the earth along the equator (2πR/4).
    assert distance_km(48.85341, 2.3488, 51.50853, -0.12574) == pytest.approx(343.9, abs=0.5)
    assert distance_km(0, 0, 0, 90) == pytest.approx(10_007.5, abs=0.5)
    assert distance_km(0, 179.9, 0, -179.9) == pytest.approx(22.24, abs=0.01)  # across the antimeridian


def test_a_point_lies_in_one_cell_per_size() -> None:
    terms = cell_terms(33.34, 44.40)
    assert len(terms) == len(CELL_SIZES) + 1 and terms[0] == "any"
    assert cell_terms(90, 180)[-1] == cell_terms(89.9, 179.9)[-1]  # the pole and antimeridian stay in the grid


def test_a_cover_uses_few_cells_and_only_edges_need_checking() -> None:
    near = Near(33.34, 44.40, 50)
    found = cover(near)
    assert found is not None
    assert 0 < len(found.inside) + len(found.edge) <= MAX_COVER_CELLS
    assert found.inside  # a 50 km circle holds whole 0.05° cells
    assert cover(Near(0, 0, 15_000)) is None  # half the earth: no cover, every point is checked
    assert cover(Near(89.9, 0, 50)) is None  # around a pole every longitude is near


@pytest.mark.parametrize(("text", "message"), [
    ("33.3,44.4", "--near takes LAT,LON,KM"),
    ("a,b,c", "--near takes LAT,LON,KM"),
    ("91,0,5", r"latitude 91\.0 is not between -90 and 90"),
    ("0,181,5", r"longitude 181\.0"),
    ("0,0,-5", "positive number of km"),
    ("0,0,nan", "positive number of km"),
])
def test_bad_near_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message):
        parse_near(text)


def test_bbox_parsing() -> None:
    assert parse_bbox("29, 38.8, 37.4, 48.6") == BBox(29, 38.8, 37.4, 48.6)
    assert parse_bbox("") is None and parse_near(None) is None
    with pytest.raises(QuerySyntaxError, match=r"south 40\.0 is north of north 30\.0"):
        parse_bbox("40,0,30,10", "bbox")


@pytest.fixture(scope="module")
def scattered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TantivyBackend, dict[str, list[Place]]]]:
    """600 articles with 0 to 3 random places each, clustered around a few cities and spread over the
    earth, poles and antimeridian included."""
    rng = random.Random(18)
    centres = [(33.34, 44.40), (48.85, 2.35), (0.0, 179.95), (-33.9, 151.2), (89.5, 10.0), (64.0, -21.9)]
    articles, truth = [], {}
    for n in range(600):
        places = []
        for k in range(rng.randrange(4)):
            if rng.random() < 0.7:
                lat0, lon0 = rng.choice(centres)
                lat = max(-90.0, min(90.0, lat0 + rng.gauss(0, 1.5)))
                lon = (lon0 + rng.gauss(0, 1.5) + 180) % 360 - 180
            else:
                lat, lon = rng.uniform(-90, 90), rng.uniform(-180, 180)
            places.append(Place(name=f"p{n}-{k}", geonames_id=n * 10 + k, country="XX", lat=lat, lon=lon))
        doc = article(f"g{n}", title=f"Story {n}", body="story", published_at=day(1 + n % 28), domain="geo.test",
                      places=places)
        articles.append(doc)
        truth[doc.id] = places
    backend = TantivyBackend(tmp_path_factory.mktemp("geo") / "index", writer=True)
    backend.upsert(articles)
    yield backend, truth
    backend.close()


AREAS = [
    Near(33.34, 44.40, 5), Near(33.34, 44.40, 50), Near(33.34, 44.40, 400), Near(48.85, 2.35, 120),
    Near(0.0, 179.95, 150), Near(0.0, -179.99, 300), Near(-33.9, 151.2, 2000), Near(89.5, 10.0, 100),
    Near(64.0, -21.9, 30), Near(10, 10, 8000), Near(-90, 0, 500), Near(20, 0, 19_000),
    BBox(30, 40, 36, 48), BBox(-10, 170, 10, -170), BBox(80, -180, 90, 180), BBox(-90, -180, 90, 180),
    BBox(48.8, 2.3, 48.9, 2.4), BBox(0, 0, 0.01, 0.01),
]


@pytest.mark.parametrize("area", AREAS, ids=[a.text() for a in AREAS])
def test_tantivy_finds_exactly_the_articles_with_a_point_in_the_area(
    scattered: tuple[TantivyBackend, dict[str, list[Place]]], area: Near | BBox
) -> None:
    backend, truth = scattered
    expected = {doc_id for doc_id, places in truth.items() if any(area.contains(p.lat, p.lon) for p in places)}
    kind = "near" if isinstance(area, Near) else "bbox"
    query = SearchQuery(limit=len(truth), **{kind: area})
    result = backend.search(query)
    assert {h.id for h in result.hits} == expected
    assert result.total == len(expected)
    assert set(backend.ids_where(query)) == expected


def test_an_index_without_places_matches_nothing(tmp_path: Path) -> None:
    backend = TantivyBackend(tmp_path / "index", writer=True)
    try:
        backend.upsert([article("x", title="No places", body="none", published_at=day(1), domain="a.test")])
        assert backend.search(SearchQuery(near=Near(0, 0, 20_000))).total == 0
        assert backend.search(SearchQuery()).total == 1
    finally:
        backend.close()


def test_a_distance_filter_leaves_relevance_alone(tmp_path: Path) -> None:
    here = Place(name="Here", geonames_id=1, country="XX", lat=10, lon=10)
    backend = TantivyBackend(tmp_path / "index", writer=True)
    try:
        backend.upsert([
            article("r1", title="Flood flood flood", body="flood waters", published_at=day(1), domain="a.test",
                    places=[here]),
            article("r2", title="Storm", body="a flood later", published_at=day(2), domain="a.test", places=[here]),
        ])
        plain = backend.search(SearchQuery(text="flood"))
        near = backend.search(SearchQuery(text="flood", near=Near(10, 10, 5)))
        assert [(h.id, h.score) for h in near.hits] == [(h.id, h.score) for h in plain.hits]
    finally:
        backend.close()
