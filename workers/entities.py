"""Named entities with spaCy, sorted into the Article's lists by kind.

Only the components NER needs are loaded (the rest of the pipeline costs
time and memory for nothing). Text in a language without a model gets no
entities rather than wrong ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING

from workers.errors import ConfigError
from workers.models import ENTITY_KINDS

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["LABEL_KINDS", "EntityRecognizer", "entities_from_doc", "normalize_entity"]

LABEL_KINDS = {
    "PERSON": "persons",
    "ORG": "organizations",
    "GPE": "locations",
    "LOC": "locations",
    "FAC": "locations",
    "NORP": "groups",
    "EVENT": "events",
}

_NEEDED = {"tok2vec", "ner"}
_LEADING_THE = re.compile(r"^(the)\s+", re.IGNORECASE)
# Names whose "The" is part of the name itself, not an article spaCy swept into the span.
_NAMES_WITH_THE = frozenset({
    "the hague", "the gambia", "the bahamas", "the economist", "the guardian", "the times", "the new york times",
    "the washington post", "the wall street journal", "the telegraph", "the independent", "the atlantic",
    "the observer", "the verge", "the hill", "the beatles", "the rolling stones",
})
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_EDGE_JUNK = "\"'“”‘’«»()[]{}<>.,;:!?#*@|-–— \t\n"


def normalize_entity(text: str) -> str | None:
    """A surface form as a reader would write it, or None for junk."""
    value = unicodedata.normalize("NFC", " ".join(text.split()))
    value = value.strip(_EDGE_JUNK.replace(".", ""))  # keep the dot of "U.S." but not other edges
    if value.casefold() not in _NAMES_WITH_THE:
        value = _LEADING_THE.sub("", value)
    value = _POSSESSIVE.sub("", value).strip(_EDGE_JUNK.replace(".", ""))
    value = value.rstrip(",;:")
    if len(value) < 2 or not any(ch.isalpha() for ch in value):
        return None
    if value.islower():
        value = value.title()
    return value


class EntityRecognizer:
    """Loads the spaCy model for English on first use and tags text with it."""

    def __init__(self, model: str, *, max_chars: int) -> None:
        self.model_name = model
        self.max_chars = max_chars
        self._nlp: Language | None = None

    @property
    def nlp(self) -> Language:
        if self._nlp is None:
            self._nlp = load_ner_model(self.model_name)
        return self._nlp

    def supports(self, language: str | None) -> bool:
        return language == "en"

    def entities(self, text: str, language: str | None) -> dict[str, list[str]]:
        """Entity lists by kind, most mentioned first, one entry per entity."""
        if not text or not self.supports(language):
            return {kind: [] for kind in ENTITY_KINDS}
        return entities_from_doc(self.nlp(text[: self.max_chars]))


def entities_from_doc(doc: Doc) -> dict[str, list[str]]:
    """Entity lists by kind from one tagged Doc, most mentioned first (pure, so nlp.pipe can feed it)."""
    found: dict[str, Counter[str]] = {kind: Counter() for kind in ENTITY_KINDS}
    for ent in doc.ents:
        kind = LABEL_KINDS.get(ent.label_)
        name = normalize_entity(ent.text) if kind else None
        if kind and name:
            found[kind][name] += 1
    return {kind: _merge_case(counter) for kind, counter in found.items()}


def _merge_case(counter: Counter[str]) -> list[str]:
    """One entry per entity ignoring case; the most frequent spelling wins."""
    groups: dict[str, Counter[str]] = {}
    for name, count in counter.items():
        groups.setdefault(name.casefold(), Counter())[name] += count
    ranked = sorted(groups.values(), key=lambda c: (-sum(c.values()), c.most_common(1)[0][0]))
    return [c.most_common(1)[0][0] for c in ranked]


def load_ner_model(name: str) -> Language:
    try:
        import spacy

        nlp = spacy.load(name)
    except OSError as exc:
        raise ConfigError(
            f"spaCy model {name!r} is not installed: pip install {name.replace('_', '-')} "
            f"or set NEWSWORKERS_SPACY_MODEL to an installed model"
        ) from exc
    if "ner" not in nlp.pipe_names:
        raise ConfigError(f"spaCy model {name!r} has no 'ner' component; name a pipeline with NER")
    # The small English pipeline's NER has its own embedding layer, so the shared
    # tok2vec, tagger, parser and lemmatizer can go; larger models may listen to tok2vec.
    listeners = _ner_listens_to(nlp)
    for pipe in list(nlp.pipe_names):
        if pipe not in _NEEDED and pipe not in listeners:
            nlp.remove_pipe(pipe)
    if "tok2vec" in nlp.pipe_names and "tok2vec" not in listeners:
        nlp.remove_pipe("tok2vec")
    return nlp


def _ner_listens_to(nlp: Language) -> set[str]:
    ner = nlp.get_pipe("ner")
    upstream = set()
    for node in ner.model.walk():
        name = node.attrs.get("upstream_name") if hasattr(node, "attrs") else None
        if name and name != "*":
            upstream.add(name)
        elif name == "*":
            upstream.add("tok2vec")
    return upstream
