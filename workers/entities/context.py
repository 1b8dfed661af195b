"""What the words around a span say of its kind: an appositive ("Fine Gael, the party of ..."), a preposition of
place ("in Senkata, ..."), and how sure spaCy's label is when names are listed together ("Huawei, Xiaomi and
Oppo", "Netflix and YouTube").

These look at the text around spans, never at particular names: a hint from here is weighed like the category
and gazetteer hints in the article-wide vote (:mod:`workers.entities.merge`).
"""

from __future__ import annotations

import re

from workers.entities.lexicon import OFFICES, ORG_HEADS, PLACE_HEADS
from workers.entities.person_names import is_given_name
from workers.entities.places import is_known_place
from workers.entities.spans import Span, list_runs

__all__ = ["appositive_hints", "list_hints", "preposition_hints"]

# ", the party of ...", ", the state oil company", ", the city's mayor": lower-case words after a determiner.
_APPOSITIVE = re.compile(r",\s+(?:the|a|an)\s+((?:[a-z][\w'’-]*\s*){1,4})")
# "after his arrest in the UK, a lawyer for ...": after a preposition the comma may close a clause instead.
_PREPOSITION_BEFORE = re.compile(r"(?:^|\s)(?:in|at|on|from|to|by|with|for|of|after|into|over)\s+(?:the\s+)?$",
                                 re.IGNORECASE)
_APPOSITIVE_STOP = frozenset({"of", "in", "at", "for", "from", "on", "with", "that", "which", "who", "and", "or"})
# Nouns an appositive calls a place or a person by, besides PLACE_HEADS and the titles of office.
_PLACE_NOUNS = frozenset({"city", "town", "village", "country", "capital", "state", "province", "region",
                          "suburb", "neighbourhood", "neighborhood", "district", "island", "county", "municipality"})
_PERSON_NOUNS = frozenset({"leader", "spokesman", "spokeswoman", "spokesperson", "founder", "director", "head",
                           "chief", "author", "actor", "actress", "singer", "player", "coach", "manager", "lawyer",
                           "daughter", "son", "wife", "husband", "widow", "mother", "father", "brother", "sister",
                           "professor", "economist", "analyst", "scientist", "researcher", "writer", "journalist"})
# Organizations' common nouns that ORG_HEADS leaves out because names do not end in them.
_ORG_NOUNS = frozenset({"firm", "company", "party", "group", "startup", "start-up", "maker", "manufacturer",
                        "retailer", "lender", "carrier", "airline", "broadcaster", "newspaper", "insurer",
                        "regulator", "charity", "nonprofit", "non-profit", "club", "team", "band", "brand"})
# "in X," / "near X and": a one-word name after a preposition of place and before a break.
_PLACE_PREPOSITION = re.compile(r"(?:^|\s)(?:in|near|outside)\s+$")
_BREAK_AFTER = re.compile(r"\s*(?:[,.;:)]|\s(?:and|or)\s|$)")


def _appositive_kind(noun: str) -> str | None:
    if noun.endswith(("'s", "’s")):
        return None  # "the city's mayor": the owner is no head
    if noun in _ORG_NOUNS or noun in ORG_HEADS:
        return "organizations"
    if noun in _PLACE_NOUNS or noun in PLACE_HEADS:
        return "locations"
    if noun in _PERSON_NOUNS or noun in OFFICES:
        return "persons"
    return None


def appositive_hints(text: str, spans: list[Span]) -> dict[int, str]:
    """"Fine Gael, the party of the Taoiseach": the noun an appositive right after a name calls it gives its kind.

    Returns span index -> kind, for the spans whose appositive says a kind other than their label."""
    hints: dict[int, str] = {}
    for i, span in enumerate(spans):
        match = _APPOSITIVE.match(text, span.end)
        if match is None or _PREPOSITION_BEFORE.search(text, max(0, span.start - 12), span.start):
            continue
        if i + 1 < len(spans) and spans[i + 1].start < match.end():
            continue  # another name inside the appositive: "X, the Y of Z" describes Z's relation, not X
        head = ""
        for word in match[1].split():  # the last word before a preposition, a clause or a participle is the head
            if word in _APPOSITIVE_STOP or (head and word.endswith(("ed", "ing"))):
                break
            head = word
        kind = _appositive_kind(head)
        if kind is not None and kind != span.kind:
            hints[i] = kind
    return hints


def preposition_hints(text: str, spans: list[Span]) -> dict[int, str]:
    """"in Senkata, ...": a one-word organization or person, not an acronym, after "in", "near" or "outside" and
    before a comma, a full stop or "and" is a place (people and companies are "at" or "with", not "in")."""
    hints: dict[int, str] = {}
    for i, span in enumerate(spans):
        value = text[span.start:span.end]
        if span.kind not in ("organizations", "persons") or " " in value or value.isupper() or \
                not value[:1].isupper():
            continue
        if _PLACE_PREPOSITION.search(text, max(0, span.start - 10), span.start) and \
                _BREAK_AFTER.match(text, span.end):
            hints[i] = "locations"
    return hints


def list_hints(text: str, spans: list[Span]) -> dict[int, str]:
    """Names listed together ("Huawei, Xiaomi and Oppo", "Netflix and YouTube") are of one kind, and a label
    spaCy is unsure of takes the kind of the ones it is sure of.

    Unsure: a person in one word that is no given name and no surname of a person the article names in full,
    and a place the gazetteer does not know. Returns span index -> kind for the unsure spans outvoted."""
    surnames = {text[s.start:s.end].split()[-1] for s in spans
                if s.kind == "persons" and len(text[s.start:s.end].split()) >= 2}
    hints: dict[int, str] = {}
    for run in list_runs(text, spans):
        if len(run) < 2:
            continue
        sure = [spans[i].kind for i in run if not _unsure(text[spans[i].start:spans[i].end], spans[i].kind, surnames)]
        kinds = set(sure)
        if len(kinds) != 1:
            continue
        (kind,) = kinds
        if kind == "persons":
            continue  # a person's name has a shape of its own (given names, the vote): a list adds little
        if any(spans[i].kind != kind for i in run):  # the whole run, so a plain majority vote cannot undo it
            hints.update({i: kind for i in run})
    return hints


def _unsure(value: str, kind: str, surnames: set[str]) -> bool:
    if kind == "persons":
        return " " not in value and not is_given_name(value) and value not in surnames
    if kind == "locations":
        return not is_known_place(re.sub(r"^the\s+", "", value, flags=re.IGNORECASE))
    return False
