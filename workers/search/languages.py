"""Which analysis an article's text gets, chosen by the language detected at extraction.

Both backends index each article's title, body and summary into the fields of one *analysis group*:

- a stemmed group per language that Tantivy's and Elasticsearch's Snowball stemmers both have (the same
  Snowball algorithms on both sides, so a word stems alike in either backend);
- ``cjk`` for Chinese, Japanese and Korean, written without spaces between words: Elasticsearch's ``cjk``
  analyzer (overlapping character bigrams); Tantivy indexes each CJK character as a token and matches a
  run of them as a phrase, which finds the same runs (see :mod:`workers.search.tantivy.analysis`);
- ``folded`` for every other language, and for an article whose language is unknown: case and accent
  folding, no stemming (a stemmer of the wrong language does more harm than none).

A query is analysed once per group and looks in every group's fields, so an unqualified query finds its
words in any language; ``language:de`` narrows it like any facet.
"""

from __future__ import annotations

__all__ = ["CJK", "FOLDED", "GROUPS", "STEMMED", "group_of", "primary_language"]

STEMMED: dict[str, str] = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "hu": "hungarian", "it": "italian", "nl": "dutch", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}  # fmt: skip
"""Language code (ISO 639-1) → its Snowball stemmer's name, lower case (Tantivy's spelling)."""

CJK = "cjk"
FOLDED = "folded"
_CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})
# Norwegian Bokmål and Nynorsk have their own codes in some detectors; the Snowball stemmer covers both.
_ALIASES = {"nb": "no", "nn": "no"}

GROUPS: tuple[str, ...] = (*STEMMED, CJK, FOLDED)
"""Every analysis group, in a fixed order: field names are built from these (``body_de``, ``title_cjk``)."""


def primary_language(code: str | None) -> str | None:
    """``"de-AT"`` → ``"de"``, ``"nb"`` → ``"no"``; None for nothing usable."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-")[0].casefold()
    return _ALIASES.get(primary, primary) or None


def group_of(language: str | None) -> str:
    """The analysis group of an article in ``language`` (a detected code, possibly None)."""
    code = primary_language(language)
    if code in STEMMED:
        return code
    if code in _CJK_LANGUAGES:
        return CJK
    return FOLDED
