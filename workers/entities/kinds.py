"""An entity's kind checked beyond spaCy's label: category lists, the gazetteer, the shape of a person's name.

:func:`judge_kind` looks at one normalized mention and answers with a :class:`Judgement`: drop it (it names
no person, organization or place of ours: a product, a star, an office), or keep it with spaCy's kind, or
with a *hint* of the kind it surely has (a place the gazetteer knows, a tournament). Hints are weighed in the
article-wide vote (:mod:`workers.entities.merge`), after a lone surname has joined its full name, so "Moore"
in an article about Tim Moore stays his, whatever the gazetteer says of Moore, Oklahoma.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workers.entities.lexicon import (
    CELESTIAL,
    DEMONYMS,
    EVENT_HEADS,
    GATHERING_HEADS,
    GENERIC_WORDS,
    MALWARE,
    OFFICES,
    ORG_HEADS,
    PLACE_HEADS,
    PRODUCT_FAMILIES,
    PRODUCT_HEADS,
    SOLAR_SYSTEM,
    SPACECRAFT,
    SPACECRAFT_HEADS,
    SPORTS_EVENTS,
    WEATHER,
)
from workers.entities.normalize import COMMON_ALIASES, comparison_key
from workers.entities.person_names import is_given_name
from workers.entities.places import is_country_code, is_known_place

__all__ = ["Judgement", "judge_kind"]

_VERSION = re.compile(r"^(?P<family>.+?)\s+(?:\d+(?:\.\d+)*|[ivx]+|xp|vista|pro|max|plus|mini|ultra|lite|se)$")
_CAMEL = re.compile(r"[a-z][A-Z]")  # "SpaceX", "BlackRock", "WannaCry": a brand, not a person's name
_NAME_PREFIXES = ("Mc", "Mac", "O'", "O’", "De", "Di", "Da", "La", "Le", "Van", "Von", "Du", "Fitz", "St")
_EXIT = re.compile(r"^[A-Z][a-z]*exit$")  # Brexit, Grexit, Frexit: a political event


@dataclass(frozen=True, slots=True)
class Judgement:
    kind: str | None  # None: no entity of ours
    hint: str | None = None  # a kind the rules are sure of, outvoting spaCy's labels


def judge_kind(kind: str, name: str, language: str, rules: frozenset[str]) -> Judgement:
    key = comparison_key(name)
    words = key.split()
    if "categories" in rules:
        judged = _category(kind, name, key, words)
        if judged is not None:
            return judged
    if "name_words" in rules and language == "en" and _not_a_name(name, key, words):
        return Judgement(None)
    if "gazetteer" in rules and kind not in ("locations", "events") and is_known_place(name) and (
            kind != "persons" or not any(is_given_name(w) for w in name.split())):
        return Judgement(kind, "locations")
    if "person_shape" in rules and kind == "persons":
        judged = _person_shape(name, words)
        if judged is not None:
            return judged
    if "person_shape" in rules and kind == "locations" and _looks_like_brand(name):
        return Judgement(kind, "organizations")
    if "person_shape" in rules and kind == "organizations" and _looks_like_person(name, words):
        return Judgement(kind, "persons")  # "Klaus Schwab", "Nicola Sturgeon" tagged an organization
    return Judgement(kind)


def _category(kind: str, name: str, key: str, words: list[str]) -> Judgement | None:
    if key in SOLAR_SYSTEM:
        return Judgement(kind, "locations")
    if key in CELESTIAL or key in WEATHER or key in SPACECRAFT or key in PRODUCT_FAMILIES:
        return Judgement(None)
    version = _VERSION.match(key)
    family = version["family"] if version else ""
    if version and (family in PRODUCT_FAMILIES or family in SPACECRAFT or family.split()[0] in PRODUCT_FAMILIES):
        return Judgement(None)  # "Windows 10", "Falcon 9", "iPhone 11 Pro"
    if len(words) >= 2 and (words[-1] in SPACECRAFT_HEADS or " ".join(words[-2:]) in SPACECRAFT_HEADS
                            or words[-1] in PRODUCT_HEADS):
        return Judgement(None)  # "Hubble Space Telescope", "Mars rover", "Defender Antivirus"
    if key in MALWARE or key in SPORTS_EVENTS or _EXIT.match(name):
        return Judgement("events", "events")
    if kind != "groups" and len(words) >= 2 and (words[-1] in EVENT_HEADS or " ".join(words[-2:]) in EVENT_HEADS):
        return Judgement("events", "events")  # "Qatar Open", "Ryder Cup", "Monaco Grand Prix"
    if kind != "groups" and len(words) >= 3 and words[-1] in GATHERING_HEADS:
        return Judgement("events", "events")  # "Game Developers Conference", "Dubai Air Show"
    if key in OFFICES and (kind == "persons" or len(words) == 1):
        return Judgement(None)  # "Taoiseach" alone is an office, not its holder
    if len(words) == 1 and key in GENERIC_WORDS:
        return Judgement(None)  # "Party", "South", "Cape": a word of a longer name, cut off
    if kind == "persons" and (words[0] in PLACE_HEADS or words[-1] in PLACE_HEADS) and len(words) >= 2:
        return Judgement(kind, "locations")  # "Palazzo Chigi", "Khilani Square"
    if kind in ("persons", "locations", "groups") and len(words) >= 2 and (words[-1] in ORG_HEADS
                                                                             or words[0] in ORG_HEADS):
        return Judgement(kind, "organizations")  # "Dye & Durham Ltd.", "Bank of Canada"
    if kind == "organizations" and len(words) >= 2 and words[-1] in PLACE_HEADS and words[-1] not in ORG_HEADS:
        return Judgement(kind, "locations")  # "Cape Canaveral Air Force Station", "Parliament Square"
    if kind == "locations" and name in DEMONYMS:
        return Judgement("groups", "groups")  # "Ukrainian" tagged a place
    parts = name.split()
    if kind == "groups" and len(parts) >= 2 and parts[0] in DEMONYMS and parts[-1] not in DEMONYMS \
            and not parts[-1].endswith("s"):
        return Judgement(kind, "organizations")  # "Saudi Aramco", "British Airways": a company named for a nation
    return None


# Lower-case words English names hold: "Bank of England", "Trinidad and Tobago", "Ursula von der Leyen".
_NAME_SMALL_WORDS = frozenset({"of", "the", "and", "for", "on", "in", "at", "upon", "to", "a", "an", "de", "la", "le",
                               "du", "des", "del", "della", "di", "da", "dos", "das", "von", "van", "der", "den",
                               "ter", "ten", "zu", "bin", "ibn", "al", "el", "y", "e", "et", "und", "sur", "am"})
_ORG_SUFFIXES = frozenset({"inc", "corp", "co", "ltd", "llc", "plc", "pvt", "gmbh", "ag", "sa", "nv"})


def _not_a_name(name: str, key: str, words: list[str]) -> bool:
    """No name at all: a clause ("Garrett hit Rudolph"), a company suffix alone ("Inc."), a list cut short
    ("Pvt &"), a product family in the plural ("iPhones")."""
    parts = name.split()
    if any(p[:1].islower() and p.isalpha() and p not in _NAME_SMALL_WORDS for p in parts[1:]):
        return True
    if name.rstrip().endswith(("&", " and")) or (len(words) == 1 and words[0] in _ORG_SUFFIXES):
        return True
    return key.endswith("s") and (key[:-1] in PRODUCT_FAMILIES or key[:-2] in PRODUCT_FAMILIES)


def _person_shape(name: str, words: list[str]) -> Judgement | None:
    if any(ch.isdigit() for ch in name):
        return Judgement(None)
    if _looks_like_brand(name):
        return Judgement("persons", "organizations")
    if len(words) > 5:
        return Judgement(None)  # a clause, not a name
    return None


def _looks_like_person(name: str, words: list[str]) -> bool:
    """A given name and one or two capitalized words after it, none an organization's or place's word."""
    parts = name.split()
    return (2 <= len(parts) <= 3 and len(parts[0]) > 2 and is_given_name(parts[0])
            and all(p[:1].isupper() and p.isalpha() for p in parts)
            and not any(w in ORG_HEADS or w in PLACE_HEADS or w in GENERIC_WORDS for w in words)
            and not is_known_place(name))


def _looks_like_brand(name: str) -> bool:
    for word in name.split():
        stem = next((word[len(p):] for p in _NAME_PREFIXES if word.startswith(p) and len(word) > len(p)), word)
        if _CAMEL.search(stem):
            return True
    letters = name.replace(".", "").replace("&", "")
    return (2 <= len(letters) <= 4 and letters.isalpha() and letters.isupper() and not is_known_place(name)
            and comparison_key(name) not in COMMON_ALIASES and not is_country_code(letters))
