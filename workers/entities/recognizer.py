"""Named entities with spaCy, sorted into the Article's lists by kind.

The stage splits in three so batching (``nlp.pipe``) can reuse the middle:
a language's pipeline tags the text (:mod:`workers.entities.models`);
:func:`entities_from_doc` turns one tagged ``Doc`` into normalized, merged
entity lists (pure: no I/O); and, in workers, :class:`EntityCanon` maps each
name to the spelling the whole corpus agreed on. Text in a language without
a pipeline gets no entities rather than wrong ones.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from redis import Redis

from workers.entities.canon import EntityCanon
from workers.entities.context import appositive_hints, list_hints, preposition_hints
from workers.entities.correction_store import CorrectionStore
from workers.entities.kinds import Judgement, judge_kind
from workers.entities.long_forms import LongForms
from workers.entities.match import DEFAULT_MATCH_RATIO
from workers.entities.merge import ArticleEntities, Mention, merge_mentions
from workers.entities.models import NerModels, language_models
from workers.entities.normalize import comparison_key, normalize_entity
from workers.entities.rules import ALL_RULES
from workers.entities.spans import Span, list_kinds, reshape_spans

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

    from workers.settings import Settings

__all__ = [
    "LABEL_KINDS",
    "ArticleEntities",
    "EntityRecognizer",
    "article_entities_from_doc",
    "canonicalize",
    "entities_from_doc",
    "normalize_entity",
    "recognizer_for",
]

# OntoNotes labels (the English pipelines) and WikiNER's (French and most other spaCy languages: PER, ORG, LOC,
# MISC). MISC mixes nationalities, events, works and products, so it maps to no kind.
LABEL_KINDS = {
    "PERSON": "persons",
    "PER": "persons",
    "ORG": "organizations",
    "GPE": "locations",
    "LOC": "locations",
    "FAC": "locations",
    "NORP": "groups",
    "EVENT": "events",
}

_HEADLINE_MIN_LETTERS = 8  # fewer capitals than this are an acronym or two, not a shouted line


def entities_from_doc(doc: Doc, ratio: float = DEFAULT_MATCH_RATIO, *, language: str = "en",
                      rules: frozenset[str] = ALL_RULES) -> dict[str, list[str]]:
    """A tagged Doc's entity lists by kind, normalized and merged within the article."""
    return article_entities_from_doc(doc, ratio, language=language, rules=rules).by_kind


def article_entities_from_doc(doc: Doc, ratio: float = DEFAULT_MATCH_RATIO, *, language: str = "en",
                              rules: frozenset[str] = ALL_RULES) -> ArticleEntities:
    """As :func:`entities_from_doc`, with the spellings merged away (for ``Article.entity_aliases``).

    ``rules`` names the rules of :data:`workers.entities.rules.RULES` that apply (all by default; the benchmark
    switches them on one by one to measure each).
    """
    text = doc.text
    shouted: dict[int, bool] = {}
    titled: dict[int, bool] = {}
    mentions: list[Mention] = []
    loud: list[Mention] = []
    headline: list[tuple[Mention, int]] = []  # with the start of their line
    spans = [Span(kind, ent.start_char, ent.end_char) for ent in doc.ents
             if (kind := LABEL_KINDS.get(ent.label_)) is not None]
    spans = reshape_spans(text, spans, language, rules)
    listed = list_kinds(text, spans) if "conjunctions" in rules else {}
    # Later cues are surer: a preposition, then a list of sure labels, then an appositive that calls it so.
    if "place_prepositions" in rules:
        listed |= preposition_hints(text, spans)
    if "sure_lists" in rules:
        listed |= list_hints(text, spans)
    if "appositives" in rules:
        listed |= appositive_hints(text, spans)
    for index, span in enumerate(spans):
        line_start = text.rfind("\n", 0, span.start) + 1
        if line_start not in shouted:
            line_end = text.find("\n", span.start)
            line = text[line_start: line_end if line_end >= 0 else len(text)]
            shouted[line_start] = _is_shouted(line)
            titled[line_start] = "title_lines" in rules and language == "en" and _is_title_cased(line)
        raw = text[span.start:span.end]
        name = normalize_entity(raw, person=span.kind == "persons", headline=shouted[line_start], language=language)
        if not name:
            continue
        judged = judge_kind(span.kind, name, language, rules)
        if index in listed and judged.kind is not None and judged.hint is None:
            judged = Judgement(judged.kind, listed[index])
        if "common_words" in rules and _written_lower(name, text):
            continue
        if judged.kind:
            mention = Mention(judged.kind, name, judged.hint)
            if shouted[line_start]:
                loud.append(mention)
            elif titled[line_start]:
                headline.append((mention, line_start))
            else:
                mentions.append(mention)
    # NER trained on mixed case guesses on an all-capitals line ("ROCKETS AS IRAQ" -> a person "Rockets As"), and
    # on a headline in Title Case ("Dallas Gas Station Dies"): such a mention counts only when the calmer text
    # names it too (a Title-Case line's name: when the other lines write it, a person's by the surname), or when
    # there is no calmer text.
    confirmed = {comparison_key(m.text) for m in mentions}
    mentions += [m for m in loud if not mentions or comparison_key(m.text) in confirmed]
    mentions += [m for m, line_start in headline if not mentions or _written_elsewhere(m, text, line_start)]
    return merge_mentions(mentions, ratio, text=text, rules=rules)


def canonicalize(found: ArticleEntities, canon: EntityCanon) -> ArticleEntities:
    """Each name as the corpus spells it; the article's own spellings join the aliases."""
    result = ArticleEntities(aliases=list(found.aliases),
                             aliases_by_kind={k: list(v) for k, v in found.aliases_by_kind.items()})
    mappings = canon.canonical_by_kind(found.by_kind)
    for kind, names in found.by_kind.items():
        mapping = mappings[kind]
        result.by_kind[kind] = list(dict.fromkeys(mapping[name] for name in names))
        renamed = [name for name in names if mapping[name] != name]
        result.aliases.extend(renamed)
        if renamed:
            result.aliases_by_kind.setdefault(kind, []).extend(renamed)
    result.aliases = [a for a in dict.fromkeys(result.aliases) if not _listed(a, result)]
    for kind, spellings in list(result.aliases_by_kind.items()):
        result.aliases_by_kind[kind] = [a for a in dict.fromkeys(spellings) if a not in result.by_kind[kind]]
    return result


class EntityRecognizer:
    """Tags text with its language's pipeline (loaded on first use), optionally against a corpus-wide canon."""

    def __init__(self, model: str | None = None, *, max_chars: int, models: dict[str, str] | None = None,
                 canon: EntityCanon | None = None, ratio: float = DEFAULT_MATCH_RATIO,
                 corrections: CorrectionStore | None = None, long_forms: LongForms | None = None) -> None:
        """``model`` is the English pipeline (the old single-model form); ``models`` maps languages to pipelines."""
        mapping = dict(models or {})
        if model is not None:
            mapping.setdefault("en", model)
        self.models = NerModels(mapping)
        self.max_chars = max_chars
        self.canon = canon
        self.ratio = ratio
        self.corrections = corrections  # analysts' corrections, applied after the canon
        self.long_forms = long_forms  # short names joined to a long form another article wrote

    @property
    def nlp(self) -> Language:
        """The English pipeline."""
        return self.models.get("en")

    def supports(self, language: str | None) -> bool:
        return self.models.supports(language)

    def entities(self, text: str, language: str | None) -> dict[str, list[str]]:
        """Entity lists by kind, most mentioned first, one entry per entity."""
        return self.article_entities(text, language).by_kind

    def article_entities(self, text: str, language: str | None) -> ArticleEntities:
        if not text or language is None or not self.supports(language):
            return ArticleEntities()
        return self.from_doc(self.models.get(language)(text[: self.max_chars]), language)

    def from_doc(self, doc: Doc, language: str = "en") -> ArticleEntities:
        """The entities of a Doc tagged elsewhere (a batch out of ``nlp.pipe``), canonical when there is a canon."""
        found = article_entities_from_doc(doc, self.ratio, language=language)
        found = canonicalize(found, self.canon) if self.canon is not None else found
        found = self.long_forms.apply(found) if self.long_forms is not None else found
        return self.corrections.correct(found) if self.corrections is not None else found


def recognizer_for(settings: Settings, redis: Redis | None = None) -> EntityRecognizer:
    """The recognizer the settings describe; with Redis, names are canonical across the corpus."""
    canon = EntityCanon(redis, settings.namespace, ratio=settings.entity_match_ratio) if redis is not None else None
    corrections = CorrectionStore(redis, settings.namespace) if redis is not None else None
    long_forms = LongForms(redis, settings.namespace) if redis is not None else None
    return EntityRecognizer(max_chars=settings.ner_max_chars, models=language_models(settings), canon=canon,
                            ratio=settings.entity_match_ratio, corrections=corrections, long_forms=long_forms)


def _is_shouted(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    return len(letters) >= _HEADLINE_MIN_LETTERS and sum(ch.isupper() for ch in letters) >= 0.9 * len(letters)


_TITLE_MIN_WORDS = 4  # a line of fewer long words is a name or a label, not a headline
_SMALL = frozenset({"a", "an", "the", "of", "and", "or", "for", "to", "in", "on", "at", "by", "with", "as", "vs"})


def _is_title_cased(line: str) -> bool:
    """A headline in Title Case: nearly every word but the small ones capitalized."""
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", line) if w.lower() not in _SMALL]
    return len(words) >= _TITLE_MIN_WORDS and sum(w[0].isupper() for w in words) >= 0.85 * len(words)


def _written_elsewhere(mention: Mention, text: str, line_start: int) -> bool:
    """A headline's name the other lines write too ("Swift" for "Taylor Swift")."""
    line_end = text.find("\n", line_start)
    rest = text[:line_start] + " " + (text[line_end:] if line_end >= 0 else "")
    word = mention.text.split()[-1] if mention.kind == "persons" or mention.hint == "persons" else mention.text
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", rest) is not None


def _written_lower(name: str, text: str) -> bool:
    """A one-word name that the text also writes in lower case ("Cinemas ..." at a sentence start, "cinemas")."""
    if " " in name or not name[:1].isupper() or name.isupper() or len(name) < 3:
        return False
    return re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", text) is not None


def _listed(alias: str, found: ArticleEntities) -> bool:
    return any(alias in names for names in found.by_kind.values())

