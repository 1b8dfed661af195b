"""The analysis groups and Tantivy's analyzer of each: which language gets which analysis, and what it makes
of words. What a search finds with them, in both backends, is tests/conformance/test_languages.py."""

from __future__ import annotations

import pytest

from workers.search.languages import CJK, FOLDED, GROUPS, STEMMED, group_of, primary_language
from workers.search.tantivy.analysis import PATTERN_GROUPS, analyzer


@pytest.mark.parametrize(("code", "group"), [
    ("de", "de"), ("DE", "de"), ("de-AT", "de"), ("pt_BR", "pt"), ("nb", "no"), ("nn", "no"), ("no", "no"),
    ("ja", CJK), ("zh", CJK), ("zh-TW", CJK), ("ko", CJK),
    ("pl", FOLDED), ("cs", FOLDED), ("zu", FOLDED), (None, FOLDED), ("", FOLDED),
])  # fmt: skip
def test_language_chooses_its_group(code: str | None, group: str) -> None:
    assert group_of(code) == group


def test_the_eighteen_stemmed_languages_and_two_more_groups() -> None:
    assert sorted(STEMMED) == sorted(["ar", "da", "nl", "en", "fi", "fr", "de", "el", "hu", "it", "no", "pt", "ro",
                                      "ru", "es", "sv", "ta", "tr"])
    assert len(GROUPS) == len(set(GROUPS)) == 20
    assert primary_language("  ") is None


# Two forms of one word, which the group's stemmer brings together (and folding makes accent-blind).
@pytest.mark.parametrize(("group", "one", "other"), [
    ("de", "Regierungen", "Regierung"), ("de", "Länder", "Land"), ("fr", "gouvernements", "gouvernement"),
    ("es", "elecciones", "elección"), ("es", "sequias", "sequía"), ("fr", "greves", "grève"),
    ("it", "governi", "governo"), ("pt", "governos", "governo"),
    ("nl", "regeringen", "regering"), ("da", "regeringen", "regering"), ("sv", "regeringar", "regering"),
    ("no", "regjeringen", "regjering"), ("fi", "taloissa", "talot"), ("hu", "kormányt", "kormány"),
    ("ro", "guvernul", "guvern"), ("ru", "правительства", "правительство"), ("el", "κυβέρνησης", "κυβέρνηση"),
    ("ar", "الحكومة", "حكومة"), ("tr", "hükümeti", "hükümet"), ("en", "attacks", "attacked"),
])  # fmt: skip
def test_stemmed_groups_bring_inflected_forms_together(group: str, one: str, other: str) -> None:
    assert analyzer(group).analyze(one) == analyzer(group).analyze(other)


def test_a_stemmer_is_only_its_own_language() -> None:
    # German stems "Regierungen"; the folded group keeps it whole, lower-cased.
    assert analyzer("de").analyze("Regierungen") == ["regier"]
    assert analyzer(FOLDED).analyze("Regierungen") == ["regierungen"]


def test_folded_group_folds_case_and_accents_without_stemming() -> None:
    folded = analyzer(FOLDED)
    assert folded.analyze("Łódź ZÜRICH rządu") == ["lodz", "zurich", "rzadu"]
    assert folded.analyze("rządu") != folded.analyze("rząd")


def test_words_keep_their_combining_marks() -> None:
    # Tamil vowel signs and the virama are marks, not separators: a word stays one token.
    assert analyzer("ta").analyze("தமிழ்நாடு அரசு") == ["தமிழ்நாடு", "அரசு"]
    assert analyzer(FOLDED).analyze("नई दिल्ली") == ["नई", "दिल्ली"]


def test_cjk_characters_are_tokens_of_their_own_with_positions() -> None:
    tokens = analyzer(CJK).analyze("政府は東京都のＡＢＣ予算を発表 한국어")
    assert tokens == ["政", "府", "は", "東", "京", "都", "の", "abc", "予", "算", "を", "発", "表", "한", "국", "어"]


def test_pattern_groups_split_cjk_and_the_others_keep_a_run_whole() -> None:
    for group in GROUPS:
        tokens = analyzer(group).analyze("Tokyo (東京) mayor")
        if group in PATTERN_GROUPS:
            assert tokens[1:3] == ["東", "京"], group
        else:  # still found by the whole run, analysed alike at query time
            assert tokens[1] == "東京", group
    assert {CJK, FOLDED, "ta"} == PATTERN_GROUPS


def test_words_split_on_punctuation_and_long_tokens_drop() -> None:
    assert analyzer("en").analyze("COVID-19 U.S. al-Sadr") == ["covid", "19", "u", "s", "al", "sadr"]
    assert analyzer(FOLDED).analyze("x" * 40 + " ok") == ["ok"]


def test_unknown_group_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown analysis group"):
        analyzer("xx")
