"""Where an article names places: NER's location names counted in the text, "City, Region" pairs, and,
for languages without an NER model, a match of the text against the gazetteer's names.

The text match is guarded, since many town names are also words: a name must look like a proper noun
(capitalised, not glued to a neighbouring capitalised word that makes it part of a longer name), a town
that is also a word the text uses in lower case or after an article ("das Essen", "la Mission") is that
word, short names need a large town, and alternate spellings only count for large cities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workers.geo.gazetteer import Gazetteer, GeoEntry, Kind
from workers.geo.names import fold
from workers.geo.words import is_common_word, looks_like_a_name, more_word_than_place

__all__ = ["Mention", "find_mentions", "named_mentions", "qualified_pairs"]

_WORD = re.compile(r"[^\W\d_]+(?:['’.\-][^\W\d_]+)*\.?")
_SENTENCE_BREAK = re.compile(r"[.!?:;\n\"“”«»()\[\]|•—–]")
# Articles directly before a capitalised word make it a common noun in these languages; a country takes
# an article in several of them ("die Türkei", "la France"), a town does not.
_ARTICLE_WORDS = {
    "de": "der die das dem den des ein eine einem einen einer eines zum zur beim vom",
    "es": "el la los las un una unos unas del al",
    "fr": "le la les un une des du au aux",
    "it": "il lo la i gli le un uno una del della dello al alla",
    "pt": "o a os as um uma do da dos das no na",
    "nl": "de het een",
    "en": "the a an",
}
_ARTICLES = {language: frozenset(words.split()) for language, words in _ARTICLE_WORDS.items()}
# Languages that capitalise every noun, where a capitalised neighbour says nothing about a longer name.
_NOUNS_CAPITALISED = frozenset({"de", "lb"})
_SHORT_NAME_MIN_POPULATION = 100_000
# The abbreviations of US states that datelines use ("LA CROSSE, Wis."), written with their dots.
_ABBREVIATED_STATES = (
    "Ala.=AL Ariz.=AZ Ark.=AR Calif.=CA Colo.=CO Conn.=CT Del.=DE Fla.=FL Ga.=GA Ill.=IL Ind.=IN Kan.=KS "
    "Kans.=KS Ky.=KY La.=LA Md.=MD Mass.=MA Mich.=MI Minn.=MN Miss.=MS Mo.=MO Mont.=MT Neb.=NE Nebr.=NE "
    "Nev.=NV N.H.=NH N.J.=NJ N.M.=NM N.Y.=NY N.C.=NC N.D.=ND Okla.=OK Ore.=OR Pa.=PA R.I.=RI S.C.=SC S.D.=SD "
    "Tenn.=TN Tex.=TX Vt.=VT Va.=VA Wash.=WA W.Va.=WV Wis.=WI Wyo.=WY D.C.=DC")
_STATE_ABBREVIATIONS = dict(pair.split("=") for pair in _ABBREVIATED_STATES.split())
_MAX_PAIR_WORDS = 4


@dataclass
class Mention:
    """One name an article uses for a place (or a people), with the places it may mean."""

    text: str
    count: int
    first: int
    candidates: list[GeoEntry]
    within: list[GeoEntry] = field(default_factory=list)  # a "City, Region" qualifier's readings
    demonym: str | None = None  # the country a NORP group names
    unknown: bool = False  # a "Town, Region" whose town the gazetteer lacks: no place, whatever else it names


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int
    sentence_start: bool

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    last_end = 0
    for match in _WORD.finditer(text):
        between = text[last_end:match.start()]
        starts = not tokens or bool(_SENTENCE_BREAK.search(between)) or tokens[-1].text.endswith(".")
        tokens.append(_Token(match.group(), match.start(), match.end(), starts))
        last_end = match.end()
    return tokens


def _joined(text: str, tokens: list[_Token], i: int, n: int) -> str | None:
    """The words i..i+n as one name, when only spaces or hyphens lie between them."""
    for a, b in zip(tokens[i:i + n - 1], tokens[i + 1:i + n], strict=True):
        if text[a.end:b.start].strip(" -\u00a0") or a.text.endswith("."):
            return None
    return text[tokens[i].start:tokens[i + n - 1].end]


def find_mentions(text: str, language: str | None, gaz: Gazetteer, *, min_population: int) -> list[Mention]:
    """Places named in a text of a language without NER, by the gazetteer's names and the guards above."""
    tokens = _tokens(text)
    lowered = {fold(t.text) for t in tokens if t.text[:1].islower()}
    articles = _ARTICLES.get(language or "", frozenset())
    found: dict[str, Mention] = {}
    in_longer_names: set[str] = set()
    i = 0
    while i < len(tokens):
        if not tokens[i].capitalised:
            i += 1
            continue
        for n in range(min(gaz.max_words, _MAX_PAIR_WORDS, len(tokens) - i), 0, -1):
            name = _joined(text, tokens, i, n)
            if name is None or not tokens[i + n - 1].capitalised:
                continue
            candidates = _text_candidates(gaz, name, language, min_population)
            if not candidates:
                continue
            key = fold(name)
            if n == 1:
                refusal = _single_word_refusal(tokens, i, candidates, lowered, articles, language)
                if refusal == _LONGER_NAME:
                    in_longer_names.add(key)
                if refusal is not None:
                    continue
            mention = found.get(key)
            if mention is None:
                found[key] = Mention(name.rstrip("."), 1, tokens[i].start, candidates)
            else:
                mention.count += 1
            i += n - 1
            break
        i += 1
    # A name the text also uses inside a longer one ("Lewis Hamilton", "Marco Rubio") is that name everywhere.
    return [m for key, m in found.items() if key not in in_longer_names]


def _text_candidates(gaz: Gazetteer, name: str, language: str | None, min_population: int) -> list[GeoEntry]:
    out = []
    short = len(fold(name)) < 4
    for use in gaz.lookup(name):
        entry = gaz.entries[use.entry]
        if short and not use.main and "*" not in use.languages:
            continue  # a short alternate ("The" for Teresina) is more often a word than the town
        if entry.kind is Kind.COUNTRY:
            if use.main or {"*", "en", language or ""} & use.languages:
                out.append(entry)
        elif entry.population >= min_population:
            out.append(entry)
    return out


_LONGER_NAME = "part of a longer name"


def _single_word_refusal(tokens: list[_Token], i: int, candidates: list[GeoEntry], lowered: set[str],
                         articles: frozenset[str], language: str | None) -> str | None:
    """Why a one-word match is not a place here, or None when it may be one."""
    token = tokens[i]
    if any(c.kind is Kind.COUNTRY for c in candidates):
        return None
    key = fold(token.text)
    if key in lowered:
        return "the text uses the word in lower case"
    if i > 0 and not token.sentence_start and tokens[i - 1].text.lower() in articles:
        return "after an article"
    largest = max(c.population for c in candidates)
    if len(key) < 4 and largest < _SHORT_NAME_MIN_POPULATION:
        return "short and small"
    if more_word_than_place(token.text, language, largest):
        return "a common word of the language"
    if token.sentence_start and is_common_word(token.text, language):
        return "a common word, capitalised as a sentence's first"
    if not token.text.isupper():
        before = tokens[i - 1] if i > 0 and not token.sentence_start else None
        after = tokens[i + 1] if i + 1 < len(tokens) and not tokens[i + 1].sentence_start else None
        for neighbour in (before, after):
            if neighbour is None or not neighbour.capitalised or neighbour.text.isupper():
                continue
            # Where every noun is capitalised, only a rare neighbour (a surname, a firm) makes a longer name.
            if language not in _NOUNS_CAPITALISED or looks_like_a_name(neighbour.text, language):
                return _LONGER_NAME
    return None


def named_mentions(text: str, names: list[str], gaz: Gazetteer) -> list[Mention]:
    """NER's location names as mentions: each counted where the text names it (at least once)."""
    out = []
    for name in names:
        candidates = gaz.candidates(name)
        if not candidates:
            continue
        # As written or shouted (a dateline), never in lower case: "US" is not "us".
        spellings = "|".join(re.escape(s) for s in dict.fromkeys((name, name.upper())))
        hits = [m.start() for m in re.finditer(rf"(?<!\w)(?:{spellings})(?!\w)", text)]
        out.append(Mention(name, max(1, len(hits)), hits[0] if hits else len(text), candidates))
    return out


def qualified_pairs(text: str, gaz: Gazetteer) -> list[tuple[Mention, Mention]]:
    """"City, Region" pairs ("PARIS, Texas", "Tbilisi, Georgia", "Palm Beach in Florida"): a place, a comma or
    "in", then a country or region it lies in. The place keeps only its candidates inside a reading of the
    qualifier."""
    tokens = _tokens(text)
    pairs: list[tuple[Mention, Mention]] = []
    for i, token in enumerate(tokens[:-1]):
        following = tokens[i + 1]
        separator = text[token.end:following.start].strip()
        if separator not in (",", "in") and not (separator == "" and following.text == "in"):
            continue
        if following.text == "in":  # "Palm Beach in Florida": the region is the word after "in"
            if i + 2 >= len(tokens) or text[following.end:tokens[i + 2].start].strip():
                continue
            following = tokens[i + 2]
            region_at = i + 2
        else:
            region_at = i + 1
        if not following.capitalised:
            continue
        place = _longest(text, tokens, i, backwards=True, gaz=gaz)
        region = _state_abbreviation(following, gaz) or _longest(text, tokens, region_at, backwards=False, gaz=gaz)
        if place is None or region is None:
            continue
        (place_name, place_start, places), (region_name, region_start, readings) = place, region
        readings = [r for r in readings if r.kind is not Kind.CITY]
        named = list(readings)  # what the qualifier's own name means, before ISO subdivisions add countries
        known = {r.country for r in readings}
        for code in gaz.subdivisions.get(fold(region_name), ()):
            country = gaz.country(code)
            if country is not None and code not in known:
                readings.append(country)  # an ISO subdivision GeoNames lacks: only its country is known
        inside = [p for p in places if p.kind is Kind.CITY and any(p.inside(r) for r in readings)]
        if not inside:
            # After "in", only a small namesake yields: "Tehran in Oman" is Tehran, whatever happens in Oman.
            small = region_at == i + 1 or max(p.population for p in places) < _SHORT_NAME_MIN_POPULATION
            if readings and small and all(p.kind is Kind.CITY for p in places):
                # "Palm Beach, Fla.": a town too small for the gazetteer, which has a namesake elsewhere.
                pairs.append((Mention(place_name, 1, place_start, [], unknown=True),
                              Mention(region_name, 1, region_start, named)))
            continue
        kept = [r for r in readings if any(p.inside(r) for p in inside)]
        # The narrowest reading: "Atlanta, Georgia" names the state, not the United States around it.
        kept = [r for r in kept if not any(o is not r and o.inside(r) for o in kept)]
        pairs.append((Mention(place_name, 1, place_start, inside, within=kept),
                      Mention(region_name, 1, region_start, kept)))
    return pairs


def _state_abbreviation(token: _Token, gaz: Gazetteer) -> tuple[str, int, list[GeoEntry]] | None:
    code = _STATE_ABBREVIATIONS.get(token.text)
    state = gaz.region("US", code) if code else None
    return (token.text, token.start, [state]) if state is not None else None


def _longest(text: str, tokens: list[_Token], i: int, *, backwards: bool,
             gaz: Gazetteer) -> tuple[str, int, list[GeoEntry]] | None:
    """The longest capitalised name ending (or starting) at token i that the gazetteer or ISO regions know."""
    for n in range(_MAX_PAIR_WORDS, 0, -1):
        start = i - n + 1 if backwards else i
        if start < 0 or start + n > len(tokens):
            continue
        name = _joined(text, tokens, start, n)
        if name is None or not (tokens[start].capitalised and tokens[start + n - 1].capitalised):
            continue
        name = name.rstrip(".") if not backwards else name
        entries = gaz.candidates(name)
        if entries or (not backwards and fold(name) in gaz.subdivisions):
            return name, tokens[start].start, entries
    return None
