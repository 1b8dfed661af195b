"""Tantivy's analyzers, one per analysis group of :mod:`workers.search.languages`.

Two tokenizers. ``cjk``, ``ta`` and ``folded`` (every other language, Hindi and Thai among them) use a
pattern: a word is a run of letters, combining marks and digits (marks, so that Tamil or Hindi words are
not cut at each virama or vowel sign), except that each Chinese, Japanese or Korean character is a token
of its own, with consecutive positions. Tantivy's n-gram tokenizer puts every gram at position 0, so
phrases over it cannot work; single characters with positions can: a query's run of CJK characters
becomes a phrase of them, which matches exactly the pages that contain that run, as Elasticsearch's bigram
phrase does. The other stemmed groups (Latin, Cyrillic, Greek and Arabic scripts) split on anything not
alphanumeric, Tantivy's simple tokenizer: ten times faster than the pattern (measured in
bench/languages.py), and the same words for those scripts.

Then tokens of 40 or more characters are dropped, text is lower-cased, folded to ASCII and stemmed (stemmed
groups only). Folding comes first so that a word typed without its accents stems like the word with them
("sequias" and "sequías" → "sequi"); scripts without an ASCII form (Cyrillic, Greek, Arabic) are left as
they are for their stemmers.
"""

from __future__ import annotations

import tantivy

from workers.search.languages import CJK, FOLDED, GROUPS, STEMMED

__all__ = [
    "MAX_TOKEN_CHARS", "PATTERN_GROUPS", "TOKEN_PATTERN", "all_analyzers", "analyzer", "analyzer_name",
    "register_analyzers",
]  # fmt: skip

MAX_TOKEN_CHARS = 40
_CJK_CHARS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
TOKEN_PATTERN = rf"[{_CJK_CHARS}]|[[\p{{L}}\p{{M}}\p{{N}}]--[{_CJK_CHARS}]]+"
PATTERN_GROUPS = frozenset({CJK, FOLDED, "ta"})
"""The groups that need the pattern tokenizer: scripts with combining marks inside words, and CJK."""


def analyzer_name(group: str) -> str:
    return f"news_{group}"


def analyzer(group: str) -> tantivy.TextAnalyzer:
    """The analyzer of ``group`` (a key of GROUPS)."""
    if group not in GROUPS:
        raise ValueError(f"unknown analysis group {group!r}")
    builder = (
        tantivy.TextAnalyzerBuilder(
            tantivy.Tokenizer.regex(TOKEN_PATTERN) if group in PATTERN_GROUPS else tantivy.Tokenizer.simple()
        )
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if group not in (CJK, FOLDED):
        builder = builder.filter(tantivy.Filter.stemmer(STEMMED[group]))
    return builder.build()


def all_analyzers() -> dict[str, tantivy.TextAnalyzer]:
    """Every group's analyzer, by group: built once per process, registered on each index opened."""
    return {group: analyzer(group) for group in GROUPS}


def register_analyzers(index: tantivy.Index, analyzers: dict[str, tantivy.TextAnalyzer]) -> None:
    for group, built in analyzers.items():
        index.register_tokenizer(analyzer_name(group), built)
