"""Mentions of one article grouped into entities, each with one kind and one display name.

Rules, in order: spellings equal but for case, accents or punctuation are
one entity; the very common short forms of countries and organisations
("U.S.", "US") join their full names; a lone surname or first name joins
the one person's full name that has it ("Soleimani" -> "Qassem Soleimani",
also across transliterations); spellings that match by
:func:`workers.entities.match.same_entity` within a kind join; and an entity
tagged with several kinds takes the kind most of its mentions had.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from workers.core.models import ENTITY_KINDS, EntityNames
from workers.entities.match import DEFAULT_MATCH_RATIO, same_entity
from workers.entities.normalize import COMMON_ALIASES, comparison_key
from workers.entities.person_names import is_given_name
from workers.entities.rules import ALL_RULES

__all__ = ["ArticleEntities", "Mention", "merge_mentions"]

_SMALL_WORDS = frozenset({"of", "the", "and", "for", "de", "la", "du", "des", "&"})
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


@dataclass(frozen=True, slots=True)
class Mention:
    """One normalized entity mention: its kind from the NER label, its text, and the kind a rule is sure of."""

    kind: str
    text: str
    hint: str | None = None


@dataclass
class ArticleEntities:
    """An article's entity lists by kind, most mentioned first, and the spellings merged away (all of them, and
    by kind); ``extracted`` holds the names before analysts' corrections when corrections were applied."""

    by_kind: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in ENTITY_KINDS})
    aliases: list[str] = field(default_factory=list)
    aliases_by_kind: dict[str, list[str]] = field(default_factory=dict)
    extracted: EntityNames | None = None

    def names(self) -> EntityNames:
        return EntityNames(names={k: list(v) for k, v in self.by_kind.items()},
                           aliases={k: list(v) for k, v in self.aliases_by_kind.items() if v})

    def fields(self) -> dict[str, object]:
        """Keyword arguments for :class:`workers.core.models.Article`."""
        return {**self.by_kind, "entity_aliases": self.aliases,
                "aliases_by_kind": {k: v for k, v in self.aliases_by_kind.items() if v},
                "extracted_entities": self.extracted or self.names()}


@dataclass
class _Entity:
    spellings: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    hints: Counter[str] = field(default_factory=Counter)
    forced_name: str | None = None
    forced_kind: str | None = None

    @property
    def mentions(self) -> int:
        return sum(self.spellings.values())

    @property
    def kind(self) -> str:
        if self.forced_kind:
            return self.forced_kind
        if self.hints:  # a rule that is sure (a place in the gazetteer, a tournament) outvotes spaCy's labels
            return min(self.hints, key=lambda k: (-self.hints[k], ENTITY_KINDS.index(k)))
        return min(self.kinds, key=lambda k: (-self.kinds[k], ENTITY_KINDS.index(k)))

    @property
    def name(self) -> str:
        if self.forced_name:
            return self.forced_name
        # Mixed case beats a headline's capitals, a full name its parts, then the commoner and longer spelling.
        return min(self.spellings, key=lambda s: (_shouts(s), -len(s.split()), -self.spellings[s], -len(s), s))

    def absorb(self, other: _Entity) -> None:
        self.spellings.update(other.spellings)
        self.kinds.update(other.kinds)
        self.hints.update(other.hints)


def merge_mentions(mentions: list[Mention], ratio: float = DEFAULT_MATCH_RATIO, *, text: str = "",
                   rules: frozenset[str] = ALL_RULES) -> ArticleEntities:
    """``text`` is the article's, where an acronym may be defined ("Food and Agriculture Organization (FAO)")."""
    entities: dict[str, _Entity] = {}
    for mention in mentions:
        if mention.hint is not None and "vote" not in rules:
            mention = Mention(mention.hint, mention.text)  # without the vote a rule's kind is only this mention's
        key = comparison_key(mention.text)
        alias = COMMON_ALIASES.get(key) if mention.kind in ("locations", "organizations") else None
        if alias is not None:
            key = comparison_key(alias)
        entity = entities.setdefault(key, _Entity())
        if alias is not None:
            entity.forced_name = alias
        entity.spellings[mention.text] += 1
        entity.kinds[mention.kind] += 1
        if mention.hint is not None:
            entity.hints[mention.hint] += 1
    groups = list(entities.values())
    groups = _merge_partial_person_names(groups, ratio)
    if "surnames" in rules:
        groups = _merge_surnames(groups, text, ratio)
    groups = _merge_acronyms(groups, _defined_acronyms(text) if "acronyms" in rules else {})
    groups = _merge_qualified_names(groups)
    if "short_names" in rules:
        groups = _merge_short_names(groups)
    groups = _merge_variants(groups, ratio)
    if "person_shape" in rules and text:
        for entity in groups:
            if entity.kind == "persons" and not entity.forced_kind and not _reads_as_person(entity, text):
                entity.hints["organizations"] += entity.mentions + 1
    if "given_names" in rules:
        # "Max", "Oscar", "Donald" said once and left alone after every merge: a first name with no full name in
        # the article is a word of something else (a product, an award) or a person no reader could look up; one
        # named so again and again is a person known by one name ("Francis", "Rihanna").
        groups = [g for g in groups if not (g.kind == "persons" and not g.forced_name and g.mentions == 1
                                            and len(g.name.split()) == 1 and is_given_name(g.name))]
    by_kind: dict[str, list[_Entity]] = {kind: [] for kind in ENTITY_KINDS}
    for entity in groups:
        by_kind[entity.kind].append(entity)
    result = ArticleEntities()
    aliases: dict[str, None] = {}
    for kind, members in by_kind.items():
        members.sort(key=lambda e: (-e.mentions, e.name))
        result.by_kind[kind] = [e.name for e in members]
        kind_aliases: dict[str, None] = {}
        for entity in members:
            own = comparison_key(entity.name)
            for spelling in entity.spellings:
                if comparison_key(spelling) != own:
                    aliases.setdefault(spelling)
                    kind_aliases.setdefault(spelling)
        if kind_aliases:
            result.aliases_by_kind[kind] = list(kind_aliases)
    result.aliases = list(aliases)
    return result


def _merge_partial_person_names(groups: list[_Entity], ratio: float) -> list[_Entity]:
    """A one-word name tagged a person joins the single full person name with that surname or first name."""
    full = [g for g in groups if len(comparison_key(g.name).split()) > 1]
    kept: list[_Entity] = []
    for group in groups:
        words = comparison_key(group.name).split()
        if len(words) != 1 or not group.kinds["persons"]:
            kept.append(group)
            continue
        targets = [f for f in full if _names_part(words[0], f, ratio)]
        # Two full names share it ("Bush"): a reader cannot tell which, so neither gets it.
        distinct = {comparison_key(t.name) for t in targets}
        if len(distinct) == 1:
            target = targets[0]
            # "Novak Djokovic" tagged an organization is still the person "Djokovic"; "Deutsche Telekom" with a
            # "Telekom" tagged a person is not one: a full name with no person's label needs a given name.
            is_person = target.kinds["persons"] > 0 or is_given_name(target.name.split()[0])
            target.forced_name = target.forced_name or target.name
            target.absorb(group)
            if is_person:
                target.forced_kind = "persons"
        else:
            kept.append(group)
    return kept


def _merge_surnames(groups: list[_Entity], text: str, ratio: float) -> list[_Entity]:
    """A lone word of any kind joins the article's one person whose full name ends in it ("Sinwar" tagged an
    organization -> "Yahya Sinwar"); a lone surname with no full name among the spans takes the one the text
    writes ("Djokovic" where the text says "Novak Djokovic" and NER missed it)."""
    persons = [g for g in groups if g.kind == "persons" and len(comparison_key(g.name).split()) > 1]
    kept: list[_Entity] = []
    for group in groups:
        words = comparison_key(group.name).split()
        if group.forced_name or (group.kind != "persons" and (
                group.hints.get("locations") or group.kind == "locations")) or len(words) > 3:
            kept.append(group)
            continue
        # The name is the tail of one person's full name: "Sinwar" of "Yahya Sinwar", "Von der Leyen" of
        # "Ursula von der Leyen" (a longer tail only when it starts with a particle or the name is that person's).
        targets = {comparison_key(p.name): p for p in persons if p is not group and _tail_of(words, p, ratio)}
        if len(targets) == 1:
            target = next(iter(targets.values()))
            target.forced_name = target.forced_name or target.name
            target.absorb(group)
            target.forced_kind = "persons"
            continue
        full = _full_name_in(text, group.name) if group.kind == "persons" and not targets else None
        if full is not None:
            group.forced_name = full
        kept.append(group)
    return kept


def _reads_as_person(entity: _Entity, text: str) -> bool:
    """How the article writes a person: the surname alone after the first mention ("Micheál Martin" ...
    "Martin said"), a title ("Mr Trump"), a given name. A "person" the text only ever writes whole, with no
    given name ("Sinn Féin" three times), or one word with neither a title nor a given name before it
    ("Xiaomi"), is a name NER mistook."""
    words = entity.name.split()
    if is_given_name(words[0]) or len(words) > 4:
        return True
    last = re.escape(words[-1])
    if len(words) == 1:
        return re.search(rf"{_TITLE_BEFORE}{last}\b", text) is not None
    whole = len(re.findall(rf"\b{re.escape(entity.name)}\b", text))
    alone = len(re.findall(rf"(?<!{re.escape(words[-2])} ){_NOT_INSIDE}\b{last}\b", text))
    return whole < 2 or alone > 0


_TITLE_BEFORE = r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame|Lord|Lady|President|Premier|Minister|Senator|Sen|Rep|Governor|" \
                r"Gov|Mayor|General|Gen|Judge|Justice|Chancellor|Secretary|King|Queen|Prince|Princess|Pope|Coach|" \
                r"M|Mme|Mlle)\.?\s+"
_NOT_INSIDE = r"(?<![\w’'-])"


def _tail_of(words: list[str], person: _Entity, ratio: float) -> bool:
    full = comparison_key(person.name).split()
    if len(words) == 1:
        return full[-1] == words[0] and _names_part(words[0], person, ratio)
    return len(words) < len(full) and full[len(full) - len(words):] == words


def _full_name_in(text: str, surname: str) -> str | None:
    """The one "Given Surname" the text writes, when its given name is in the name dictionary."""
    if not text or not surname[:1].isupper():
        return None
    found = {m.group(1) for m in re.finditer(rf"\b([A-Z][a-zà-ÿ'’-]+)\s+{re.escape(surname)}\b", text)
             if is_given_name(m.group(1))}
    return f"{found.pop()} {surname}" if len(found) == 1 else None


def _merge_acronyms(groups: list[_Entity], defined: dict[str, str]) -> list[_Entity]:
    """An organisation's acronym joins its spelled-out name in the same article ("PMF" -> "Popular
    Mobilization Forces") when exactly one name has those initials, or when the text defines it
    ("Food and Agriculture Organization (FAO)"); ``defined`` maps acronyms to the names the text gives them."""
    spelled = [g for g in groups if len(g.name.split()) > 1 and g.kind != "persons"]
    kept: list[_Entity] = []
    for group in groups:
        name = group.name.replace(".", "")
        if not (2 <= len(name) <= 6 and name.isalpha() and name.isupper()):
            kept.append(group)
            continue
        spelled_out = defined.get(name)
        targets = {comparison_key(t.name): t for t in spelled
                   if (spelled_out is not None and _ends_with(spelled_out, t.name))
                   or name in _initials_of(t.name, extended=bool(defined) or spelled_out is not None)}
        _join_the_one(group, targets, kept)
    return kept


def _join_the_one(group: _Entity, targets: dict[str, _Entity], kept: list[_Entity]) -> None:
    """``group`` joins its target when exactly one name could be meant (keeping the target's spelling); else
    it stays itself in ``kept``."""
    if len(targets) == 1:
        target = next(iter(targets.values()))
        target.forced_name = target.forced_name or target.name
        target.absorb(group)
    else:
        kept.append(group)


def _merge_qualified_names(groups: list[_Entity]) -> list[_Entity]:
    """A name qualified by a leading acronym joins the plain name in the same article: "UN Food and Agriculture
    Organization" -> "Food and Agriculture Organization", "US Department of Justice" -> "Department of Justice".

    (An organisation's first word alone is not merged into a longer name: "Microsoft" is not "Microsoft Teams".)
    """
    by_key = {comparison_key(g.name): g for g in groups}
    merged: set[int] = set()
    for group in groups:
        words = group.name.split()
        target: _Entity | None = None
        if len(words) >= 3 and words[0].replace(".", "").isupper() and len(words[0].replace(".", "")) <= 4:
            target = by_key.get(comparison_key(" ".join(words[1:])))
        if target is not None and target is not group and id(target) not in merged:
            target.forced_name = target.forced_name or target.name
            target.absorb(group)
            merged.add(id(group))
    return [g for g in groups if id(g) not in merged]


def _initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w.casefold() not in _SMALL_WORDS]
    return "".join(w[0] for w in words).upper()


def _initials_of(name: str, *, extended: bool) -> set[str]:
    """The acronyms a name may go by: its initials, and (``extended``) without a leading acronym that qualifies
    it ("UN Food and Agriculture Organization" -> FAO) or counting every word."""
    found = {_initials(name)}
    if extended:
        words = name.split()
        if len(words) > 2 and words[0].replace(".", "").isupper():
            found.add(_initials(" ".join(words[1:])))
        found.add("".join(w[0] for w in name.replace("-", " ").split() if w[:1].isalpha()).upper())
    return found


# "Long Name (ACR)": the article says which name an acronym stands for.
_NAME_WORD = r"[A-Z][\w'’.&-]*"
_DEFINED = re.compile(rf"({_NAME_WORD}(?:\s+(?:(?:of|the|and|for|on|in|de|du|des|la|le|et|&)\s+)*{_NAME_WORD})+)"
                      r"\s*\(\s*([A-Z][A-Za-z]{1,7})\s*\)")


def _defined_acronyms(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _DEFINED.finditer(text):
        long_form, acronym = match.group(1), match.group(2)
        if acronym.isupper():
            found.setdefault(acronym, long_form)
    return found


def _ends_with(text: str, name: str) -> bool:
    """``name`` is ``text`` or its tail, word by word ("the UN Relief and Works Agency" ends with its name)."""
    a, b = comparison_key(text).split(), comparison_key(name).split()
    return len(b) <= len(a) and a[len(a) - len(b):] == b


def _merge_short_names(groups: list[_Entity]) -> list[_Entity]:
    """A short name joins the one longer name of the article it ends ("Teams" -> "Microsoft Teams",
    "Reserve" -> "Federal Reserve"), never a person's or a place's (those have their own rules)."""
    kept: list[_Entity] = []
    for group in groups:
        words = comparison_key(group.name).split()
        if group.kind in ("persons", "locations") or len(words) > 2 or group.forced_name:
            kept.append(group)
            continue
        targets = {comparison_key(t.name): t for t in groups
                   if t is not group and t.kind == group.kind and len(comparison_key(t.name).split()) > len(words)
                   and _ends_with(t.name, group.name)}
        _join_the_one(group, targets, kept)
    return kept


def _names_part(word: str, full: _Entity, ratio: float) -> bool:
    words = [w for w in comparison_key(full.name).split() if w not in _NAME_SUFFIXES]
    if len(words) < 2:
        return False
    # NER often tags a full name an organisation and its surname a person ("Novak Djokovic" / "Djokovic");
    # the surname still names that person. A first name alone only joins a full name tagged a person.
    return (word == words[0] and full.kinds["persons"] > 0) or same_entity(word, words[-1], ratio)


def _merge_variants(groups: list[_Entity], ratio: float) -> list[_Entity]:
    """Transliteration variants of one kind in the same article ("Qasem"/"Qassem Suleimani") become one."""
    groups = sorted(groups, key=lambda g: (-g.mentions, g.name))
    kept: list[_Entity] = []
    for group in groups:
        match = next((k for k in kept if k.kind == group.kind and same_entity(k.name, group.name, ratio)), None)
        if match is None:
            kept.append(group)
        else:
            match.absorb(group)
    return kept


def _shouts(spelling: str) -> bool:
    letters = [ch for ch in spelling if ch.isalpha()]
    return len(letters) > 4 and all(ch.isupper() for ch in letters)
