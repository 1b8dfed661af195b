"""Whether a word is a given name, from the first-name dictionary of ``gender-guesser`` (about 40,000 names
of many countries, with their spelling variants).

Used as evidence, never as a gate: a name missing from the dictionary ("Hoshyar") may still be a person's.
"""

from __future__ import annotations

import functools
import unicodedata

__all__ = ["is_given_name"]


@functools.cache
def _detector():  # type: ignore[no-untyped-def]
    import gender_guesser.detector as gender

    return gender.Detector(case_sensitive=False)


@functools.lru_cache(maxsize=65536)
def is_given_name(word: str) -> bool:
    word = word.strip(".,'’\"")
    if len(word) < 2 or not word[:1].isupper() or not word.isalpha():
        return False
    if _detector().get_gender(word) != "unknown":
        return True
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))
    return plain != word and _detector().get_gender(plain) != "unknown"
