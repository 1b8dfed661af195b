"""Country adjectives and demonyms in languages without an NER model, by how each language forms them.

German builds them on the country's name with ``-isch`` ("spanische", "ukrainischen": Spanien, Ukraine) and
names people with ``-er`` ("Österreicher", "Ghanaer"); Turkish adds ``-lı/-li/-lu/-lü`` ("Arjantinli",
"Belçikalı"); French ``-ais``, ``-ien``, ``-ain``, ``-ois``, ``-ol`` ("espagnol", "vénézuélien"); Spanish and
Italian ``-ano``, ``-ino``, ``-és``/``-ese``, ``-eño``, ``-í`` ("mexicano", "francés", "iraní"). A word of that
shape names a country when its stem is, or starts, the name of exactly one country in that language (or that
name starts the stem), and the stem is long enough to say so.
"""

from __future__ import annotations

import re

from workers.geo.gazetteer import Gazetteer
from workers.geo.mentions import Mention
from workers.geo.names import fold

__all__ = ["adjective_mentions"]

_SHAPES: dict[str, re.Pattern[str]] = {
    "de": re.compile(r"^(?P<stem>\w{4,}?)(?:isch(?:e|en|er|es|em)?|er(?:in|innen|n|s)?)$"),
    "tr": re.compile(r"^(?P<stem>\w{4,}?)(?:lı|li|lu|lü)(?:lar|ler)?$"),
    "fr": re.compile(r"^(?P<stem>\w{4,}?)(?:ais|ien|ain|ois|ol)(?:e|s|es|ne|nes)?$"),
    "es": re.compile(r"^(?P<stem>\w{4,}?)(?:an|in|es|en|ol)(?:o|a|os|as|es)?$|^(?P<short>\w{4,}?)i(?:es)?$"),
    "it": re.compile(r"^(?P<stem>\w{4,}?)(?:an|in|es)(?:o|a|i|e)$"),
}
_WORD = re.compile(r"[^\W\d_]+")
_MIN_STEM = 4


def adjective_mentions(text: str, language: str | None, gaz: Gazetteer) -> list[Mention]:
    """Demonym mentions (``Mention.demonym`` set) of the countries a text's adjectives and demonyms name."""
    shape = _SHAPES.get(language or "")
    if shape is None:
        return []
    names = gaz.country_names_in(language or "")
    found: dict[str, Mention] = {}
    for match in _WORD.finditer(text):
        word = match.group()
        if language == "de" and word[:1].isupper() and "isch" not in word:
            pass  # a capitalised -er word is a people ("Österreicher"); a lower-case one is not
        elif language == "de" and "isch" not in word:
            continue
        shaped = shape.match(fold(word))
        if shaped is None:
            continue
        code = _country_of(shaped.group("stem") or shaped.groupdict().get("short") or "", names)
        if code is None:
            continue
        mention = found.get(code)
        if mention is None:
            found[code] = Mention(word, 1, match.start(), [], demonym=code)
        else:
            mention.count += 1
    return list(found.values())


def _country_of(stem: str, names: list[tuple[str, str]]) -> str | None:
    """The one country whose name is the stem, else starts with it, else starts it ("Nijerya" before "Nijer")."""
    if len(stem) < _MIN_STEM:
        return None
    single = [(name, code) for name, code in names if " " not in name]
    for matches in (lambda name: name == stem, lambda name: name.startswith(stem),
                    lambda name: stem.startswith(name) and len(name) >= _MIN_STEM):
        codes = {code for name, code in single if matches(name)}
        if codes:
            return codes.pop() if len(codes) == 1 else None
    return None
