"""spaCy's entity spans reshaped before they become names: joined across particles, split at conjunctions,
a nationality glued in front of a person taken off.

A span is (kind, start, end) in the text, so the rules can look at what surrounds it: the words between two
spans, the other places a name appears. General rules only, about how names are written, never about
particular names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wordfreq import zipf_frequency

from workers.entities.lexicon import DEMONYMS, GENERIC_WORDS, ORG_HEADS
from workers.entities.normalize import comparison_key
from workers.entities.person_names import is_given_name
from workers.entities.places import is_known_place

__all__ = ["LIST_GAP", "Span", "list_kinds", "list_runs", "reshape_spans"]


@dataclass(frozen=True, slots=True)
class Span:
    kind: str
    start: int
    end: int


# Lower-case words inside names: "von der Leyen", "van Gogh", "da Silva", "bin Salman", "de la Cruz".
_PARTICLE = r"(?:von|van|der|den|de|del|della|di|da|dos|das|du|le|la|bin|ibn|al|el|ter|ten|zu|af|y)"
_PARTICLES_GAP = re.compile(rf"\s+(?:{_PARTICLE}\s+)+")
_PARTICLES_THEN_NAME = re.compile(rf"\s+(?:{_PARTICLE}\s+)+[A-Z][\w'’-]+")
_ENDS_IN_PARTICLE = re.compile(rf"\s{_PARTICLE}$")
_PARTICLES_BEFORE = re.compile(rf"(?:^|\s)((?:{_PARTICLE}\s+)+)$")
_CONJUNCTION = {"en": re.compile(r",\s+(?:and\s+)?|\s+(?:and|&)\s+"),
                "fr": re.compile(r",\s+(?:et\s+)?|\s+(?:et|&)\s+")}


def reshape_spans(text: str, spans: list[Span], language: str, rules: frozenset[str]) -> list[Span]:
    spans = sorted(spans, key=lambda s: (s.start, s.end))
    if "particles" in rules:
        spans = _join_particles(text, spans)
    if "conjunctions" in rules:
        spans = _split_conjunctions(text, spans, language)
    if "attached" in rules and language == "en":
        spans = _take_off_demonyms(text, spans)
    if "possessives" in rules and language == "en":
        spans = _split_possessives(text, spans)
    if "attached_places" in rules and language == "en":
        spans = _take_off_leading_words(text, spans)
    return spans


def _take_off_leading_words(text: str, spans: list[Span]) -> list[Span]:
    """"Ukraine Marie Yovanovitch" is the place Ukraine and the person; "DL Myles Garrett" (an abbreviation of a
    role) the person alone: a span of a person or an organization where a given name starts a full name after
    words that are each a place the gazetteer knows or a word in capitals."""
    out: list[Span] = []
    for span in spans:
        value = text[span.start:span.end]
        words = value.split()
        cut = next((i for i in range(1, len(words) - 1) if is_given_name(words[i])), None) \
            if span.kind in ("persons", "organizations") and not is_given_name(words[0]) else None
        if cut is None or not all(_capitalized(w) and w.isalpha() for w in words[cut:]) or \
                not all(is_known_place(w) or _abbreviation(w) for w in words[:cut]):
            out.append(span)
            continue
        offset = span.start
        for word in words[:cut]:
            offset = text.index(word, offset)
            if not _abbreviation(word):
                out.append(Span("locations", offset, offset + len(word)))
            offset += len(word)
        out.append(Span("persons", text.index(words[cut], offset), span.end))
    return out


def _abbreviation(word: str) -> bool:
    letters = word.replace(".", "")
    return letters.isalpha() and letters.isupper() and len(letters) <= 4


# "Jeff Bezos's Blue Origin", "NASA's Office of the Inspector General": an owner, then what it owns.
_COMMON_ZIPF = 5.4  # wordfreq Zipf scale: "year", "women", "people" are above; "China", "Bezos", "NASA" below
_POSSESSIVE_INSIDE = re.compile(r"['’]s\s+(?=[A-Z])")


def _split_possessives(text: str, spans: list[Span]) -> list[Span]:
    """A span holding "A's B" is two names, the owner and the owned, each with the span's label for the vote."""
    out: list[Span] = []
    for span in spans:
        match = _POSSESSIVE_INSIDE.search(text, span.start, span.end)
        # "New Year's Eve", "Women's World Cup": a common noun's possessive is a word of the name
        if match is None or match.start() == span.start or span.kind == "events" or \
                zipf_frequency(text[span.start:match.start()].split()[-1].lower(), "en") >= _COMMON_ZIPF:
            out.append(span)
            continue
        out.append(Span(span.kind, span.start, match.start()))
        out.append(Span(span.kind, match.end(), span.end))
    return out


def _join_particles(text: str, spans: list[Span]) -> list[Span]:
    """"Ursula" + "von der" + "Leyen" is one person; a person span stopping before its particles is extended."""
    out: list[Span] = []
    for span in spans:
        if out:
            prev = out[-1]
            gap = text[prev.end:span.start]
            # "Ursula" + "von der" + "Leyen", or NER's own "Ursula von der" + "Leyen"
            joined = _PARTICLES_GAP.fullmatch(gap) or (gap.isspace() and "\n" not in gap
                                                       and _ENDS_IN_PARTICLE.search(text[prev.start:prev.end]))
            # ... but "Nike de Nicolás Maduro" is two names: a following span that is a full name stays its own.
            if joined and _capitalized(text[span.start:span.end]) and len(text[span.start:span.end].split()) == 1 and (
                    "persons" in (prev.kind, span.kind) or is_given_name(text[prev.start:prev.end].split()[0])):
                out[-1] = Span("persons", prev.start, span.end)
                continue
        if span.kind == "persons":
            after = _PARTICLES_THEN_NAME.match(text, span.end)
            if after:
                span = Span(span.kind, span.start, after.end())
            before = _PARTICLES_BEFORE.search(text, max(0, span.start - 30), span.start)
            if before and not (out and out[-1].end > before.start(1)):
                span = Span(span.kind, before.start(1), span.end)
        if out and span.start < out[-1].end:  # an extension ran into the next span: keep the first
            continue
        out.append(span)
    return out


def _split_conjunctions(text: str, spans: list[Span], language: str) -> list[Span]:
    """A span naming two things joined by "and" is split when a part is named on its own elsewhere."""
    conjunction = _CONJUNCTION.get(language, _CONJUNCTION["en"])
    out: list[Span] = []
    for span in spans:
        value = text[span.start:span.end]
        parts = list(_parts(value, conjunction))
        if len(parts) < 2 or not all(_capitalized(value[a:b]) for a, b in parts):
            out.append(span)
            continue
        # "Food and Agriculture Organization", "Procter & Gamble": a part never seen alone is no name of its own,
        # unless the first part is a whole name and the last no word of a longer one ("Occidental Petroleum and
        # Apache", but "Airbus Defence and Space", "Department of Health and Human Services" stay whole).
        elsewhere = text.replace(value, " ")
        commas = "," in value and all(len(value[a:b].split()) <= 3 for a, b in parts)
        if commas or any(_named(value[a:b], elsewhere) for a, b in parts) or _two_names(value, parts):
            out.extend(Span(span.kind, span.start + a, span.start + b) for a, b in parts)
        else:
            out.append(span)
    return out


def list_runs(text: str, spans: list[Span]) -> list[list[int]]:
    """Indexes of the spans in each run joined only by commas and "and"/"or" (a lone span is a run of one)."""
    runs: list[list[int]] = []
    for i, span in enumerate(spans):
        if runs and LIST_GAP.fullmatch(text[spans[runs[-1][-1]].end:span.start]):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def list_kinds(text: str, spans: list[Span]) -> dict[int, str]:
    """Names listed together are of one kind: in a run of three or more spans joined only by commas and "and"
    ("Nokia, Cisco, BT and Netflix"), the span of a kind fewer than half of them have gets the run's kind.
    Returns span index -> kind for those outvoted."""
    hints: dict[int, str] = {}
    for run in list_runs(text, spans):
        if len(run) < 3:
            continue
        counts: dict[str, int] = {}
        for i in run:
            counts[spans[i].kind] = counts.get(spans[i].kind, 0) + 1
        kind, count = max(counts.items(), key=lambda kv: kv[1])
        if count * 2 > len(run):
            hints.update({i: kind for i in run if spans[i].kind != kind})
    return hints


LIST_GAP = re.compile(r",\s*|,?\s+(?:and|or|et|ou|&)\s+")


def _two_names(value: str, parts: list[tuple[int, int]]) -> bool:
    first, last = value[parts[0][0]:parts[0][1]].split(), comparison_key(value[parts[-1][0]:parts[-1][1]]).split()
    return (len(first) >= 2 and bool(last) and last[-1] not in ORG_HEADS and last[-1] not in GENERIC_WORDS
            and not is_known_place(value))


def _parts(value: str, conjunction: re.Pattern[str]) -> list[tuple[int, int]]:
    parts, start = [], 0
    for match in conjunction.finditer(value):
        parts.append((start, match.start()))
        start = match.end()
    parts.append((start, len(value)))
    return [(a, b) for a, b in parts if b > a]


def _take_off_demonyms(text: str, spans: list[Span]) -> list[Span]:
    """"American Sofia Kenin" is the group American and the person Sofia Kenin."""
    out: list[Span] = []
    for span in spans:
        words = text[span.start:span.end].split()
        if words and words[0].casefold() == "the":
            words = words[1:]
        rest = words[1:]
        if len(rest) >= 2 and words[0] in DEMONYMS and _capitalized(" ".join(rest)) and (
                span.kind == "persons" or is_given_name(rest[0])):
            span = Span(span.kind, text.index(words[0], span.start), span.end)
            cut = span.start + len(words[0])
            rest_start = cut + (len(text[cut:span.end]) - len(text[cut:span.end].lstrip()))
            out.append(Span("groups", span.start, cut))
            out.append(Span("persons", rest_start, span.end))  # an organization's "Sofia Kenin" was a person
        else:
            out.append(span)
    return out


def _capitalized(value: str) -> bool:
    words = value.split()
    return bool(words) and words[0][:1].isupper() and words[-1][:1].isupper()


def _named(part: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(part)}(?![\w-])", text) is not None
