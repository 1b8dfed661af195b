"""Search in many languages, every backend: inflected forms find their article in its own language, words
inside running Japanese and Chinese text are found, ``language:`` narrows, phrases and snippets work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.corpus import article, day
from workers.core.models import Article
from workers.search.backend import SearchBackend
from workers.search.model import SearchQuery, SearchResult

ARTICLES: dict[str, Article] = {
    "de": article(
        "de", title="Koalition streitet über den Haushalt", domain="zeitung.de", published_at=day(2), language="de",
        body="Die Regierung in Berlin hat sich nach langen Verhandlungen auf einen Haushalt geeinigt. "
             "Mehrere Länder hatten höhere Zuschüsse für den Nahverkehr gefordert.",
    ),
    "fr": article(
        "fr", title="Les élus votent le budget", domain="journal.fr", published_at=day(3), language="fr",
        body="Le gouvernement a présenté son budget aux élus de l'Assemblée, qui l'ont adopté après un long débat.",
    ),
    "es": article(
        "es", title="Elecciones en Madrid", domain="diario.es", published_at=day(4), language="es",
        body="La elección municipal de Madrid dejó un empate entre los dos partidos principales.",
    ),
    "ru": article(
        "ru", title="Правительство обсудило бюджет", domain="gazeta.ru", published_at=day(5), language="ru",
        body="Правительство утвердило проект бюджета на следующий год после долгого обсуждения в Москве.",
    ),
    "ja": article(
        "ja", title="東京都が新しい予算案を発表", domain="shimbun.jp", published_at=day(6), language="ja",
        body="東京都は十日、来年度の予算案を発表した。都知事は記者会見で子育て支援を拡充すると述べた。",
    ),
    "zh": article(
        "zh", title="北京举行新闻发布会", domain="xinwen.cn", published_at=day(7), language="zh",
        body="北京市政府今天举行新闻发布会，介绍了城市交通建设的最新进展。",
    ),
    "pl": article(
        "pl", title="Posiedzenie rządu w Łodzi", domain="gazeta.pl", published_at=day(8), language="pl",
        body="Premier zwołał posiedzenie rządu w Łodzi, aby omówić budżet na przyszły rok.",
    ),
    "en": article(
        "en", title="Berlin budget agreed", domain="news.com", published_at=day(9), language="en",
        body="The governments of several German states welcomed the budget agreed in Berlin.",
    ),
}
KEY = {a.id: key for key, a in ARTICLES.items()}


@pytest.fixture(scope="module")
def backend(module_backend: SearchBackend) -> Iterator[SearchBackend]:
    module_backend.upsert(list(ARTICLES.values()))
    yield module_backend


def run(backend: SearchBackend, text: str, **kwargs: Any) -> SearchResult:
    return backend.search(SearchQuery(text=text, limit=100, **kwargs))


def keys(backend: SearchBackend, text: str, **kwargs: Any) -> set[str]:
    result = run(backend, text, **kwargs)
    found = {KEY[h.id] for h in result.hits}
    assert result.total == len(found)
    return found


@pytest.mark.parametrize(("text", "expected"), [
    ("Regierungen", {"de"}),  # German stemming: Regierung
    ("Land", {"de"}),  # Länder
    ("gouvernements", {"fr"}),
    ("adopter", {"fr"}),  # adopté
    ("ELUS", {"fr"}),  # élus: accents and case are folded
    ("elecciones", {"es"}),  # elección
    ("правительства", {"ru"}),
    ("Москва", {"ru"}),  # Москве
    ("rządu", {"pl"}),  # folded, not stemmed: only the same form...
    ("rzadu", {"pl"}),  # ...accent-blind
    ("rząd", set()),
    ("Lodzi", {"pl"}),
    ("governments", {"en"}),
    ("government", {"en"}),  # English stemming; the French "gouvernement" is not the same word
])  # fmt: skip
def test_each_language_is_stemmed_or_folded_as_its_own(backend: SearchBackend, text: str,
                                                      expected: set[str]) -> None:
    assert keys(backend, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("予算", {"ja"}),  # a word inside running Japanese text
    ("子育て", {"ja"}),
    ("記者会見", {"ja"}),
    ("東京", {"ja"}),
    ("大阪", set()),
    ("交通", {"zh"}),
    ("新闻发布会", {"zh"}),
    ("北京", {"zh"}),
])  # fmt: skip
def test_words_inside_cjk_text_are_found(backend: SearchBackend, text: str, expected: set[str]) -> None:
    assert keys(backend, text) == expected


def test_an_unqualified_query_finds_every_language_and_language_narrows_it(backend: SearchBackend) -> None:
    assert keys(backend, "Berlin") == {"de", "en"}
    assert keys(backend, "Berlin language:de") == {"de"}
    assert keys(backend, "Berlin", filters={"language": ["en"]}) == {"en"}
    assert keys(backend, "budget OR бюджет OR 予算") == {"fr", "en", "ru", "ja"}


def test_phrases_and_fields_work_in_every_group(backend: SearchBackend) -> None:
    assert keys(backend, '"Regierungen in Berlin"') == {"de"}
    assert keys(backend, '"Berlin in Regierungen"') == set()
    assert keys(backend, "title:Haushalte") == {"de"}
    assert keys(backend, "body:Koalition") == set()
    assert keys(backend, "title:予算") == {"ja"}
    assert keys(backend, "title:記者") == set()
    assert keys(backend, '"予算案を発表"') == {"ja"}
    assert keys(backend, '"予算 発表"') == set()


def test_snippets_mark_the_match_in_the_article_language(backend: SearchBackend) -> None:
    [de] = run(backend, "Regierungen").hits
    assert "<b>Regierung</b>" in de.snippet
    [ja] = run(backend, "記者会見").hits
    assert "<b>記者会見</b>" in ja.snippet


def test_a_search_skips_the_groups_the_index_has_no_document_in(backend: SearchBackend) -> None:
    from workers.search.tantivy.backend import TantivyBackend, present_groups

    if not isinstance(backend, TantivyBackend):
        pytest.skip("the group markers are the Tantivy backend's")
    backend.index.reload()
    assert present_groups(backend.index.searcher()) == ["de", "en", "es", "fr", "ru", "cjk", "folded"]
