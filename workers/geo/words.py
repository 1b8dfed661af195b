"""How common a word is in a language (``wordfreq``), to tell a town from a word that spells it alike.

A place name turns up in text about as often as the place is large: Berlin is a frequent German word,
Eisenhüttenstadt a rare one. A word far more frequent than its town's size explains ("Ende", "Auch",
"Sedan" in Swedish, "Cela" in French) is that word, not the town.
"""

from __future__ import annotations

import math
from functools import lru_cache

import wordfreq

__all__ = ["is_common_word", "looks_like_a_name", "more_word_than_place", "zipf"]

_CODES = {"no": "nb", "nn": "nb"}  # py3langid's codes where wordfreq names the language otherwise
_AVAILABLE = frozenset(wordfreq.available_languages())
# Zipf frequency (log10 per billion words) a place's name reaches for its population: about
# log10(population) - 0.9 in news text; a word this far above it is a common word first.
_PLACE_OFFSET = -0.9
_WORD_MARGIN = 1.0
_NAME_MAX_ZIPF = 3.0  # rarer than this, a capitalised word is a name (a surname, a firm), not a noun
_COMMON_MIN_ZIPF = 4.5  # about the 3,000 commonest words of a language


@lru_cache(maxsize=1 << 16)
def zipf(word: str, language: str | None) -> float | None:
    """The word's Zipf frequency in the language, or None when wordfreq has no list for it."""
    code = _CODES.get(language or "", language or "")
    if code not in _AVAILABLE:
        return None
    return float(wordfreq.zipf_frequency(word, code))


def more_word_than_place(word: str, language: str | None, population: int) -> bool:
    frequency = zipf(word.lower(), language)
    expected = math.log10(max(population, 1)) + _PLACE_OFFSET
    return frequency is not None and frequency > expected + _WORD_MARGIN


def looks_like_a_name(word: str, language: str | None) -> bool:
    """A rare word, capitalised: a surname or a brand more likely than a common noun."""
    frequency = zipf(word.lower(), language)
    return frequency is None or frequency < _NAME_MAX_ZIPF


def is_common_word(word: str, language: str | None) -> bool:
    """Among the language's few thousand commonest words ("Dabei", "Como"): capitalised only where a sentence
    starts, it says nothing about being a name."""
    frequency = zipf(word.lower(), language)
    return frequency is not None and frequency >= _COMMON_MIN_ZIPF
