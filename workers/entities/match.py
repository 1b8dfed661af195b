"""When two spellings name one entity: the one similarity rule shared by the in-article and corpus merges.

Conservative on purpose: a wrong merge makes a facet lie about who was named,
a missed one only splits it. Spellings must have as many words, the same
initials, the same digits, and every word must be close on its own, so
"Suleimani"/"Soleimani" and "Qasem"/"Qassem" merge while "Mark Smith"/"Mary
Smith", "Iran"/"Iraq" and "Colombia"/"Columbia" do not.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from workers.entities.normalize import comparison_key

__all__ = ["DEFAULT_MATCH_RATIO", "block_of", "same_entity"]

DEFAULT_MATCH_RATIO = 88.0
"""Least rapidfuzz ratio (0-100) of the whole names and of each word pair."""

_SHORT_WORD = 4  # words this short must be equal: one letter changes them entirely ("Dan"/"Don")


def same_entity(a: str, b: str, ratio: float = DEFAULT_MATCH_RATIO) -> bool:
    ka, kb = comparison_key(a), comparison_key(b)
    if ka == kb:
        return True
    wa, wb = ka.split(), kb.split()
    if not wa or len(wa) != len(wb) or block_of(ka) != block_of(kb):
        return False
    if re.findall(r"\d+", ka) != re.findall(r"\d+", kb):
        return False
    if fuzz.ratio(ka, kb) < ratio:
        return False
    for x, y in zip(wa, wb, strict=True):
        if x != y and (min(len(x), len(y)) < _SHORT_WORD or fuzz.ratio(x, y) < ratio):
            return False
    return True


def block_of(name: str) -> str:
    """Names that may match share a block: word count and the initials of first and last word."""
    words = comparison_key(name).split()
    if not words:
        return "0"
    return f"{len(words)}{words[0][0]}{words[-1][0]}"
