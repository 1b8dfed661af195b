"""Analysts' corrections to the entity facets, and how they turn an article's found names into its fields.

A correction is one of:

- ``merge NAME INTO`` — NAME is the entity INTO: articles list INTO, and NAME stays searchable as its alias;
- ``rename NAME NEW`` — the same mapping, for an entity whose every spelling should read NEW;
- ``block NAME`` — NAME is not an entity of that kind (or of any kind): it leaves the facet.

Each names one kind or, without one, every kind. Corrections apply in the order they were made (their ids),
so ``merge A B`` then ``rename B C`` lists C for A's articles too. They are a pure function of the names the
recognizer found (:class:`workers.core.models.EntityNames`, stored with every article), which is what makes
them undoable: an article's fields are always computed again from what was found, with the corrections in
force, never patched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from workers.core.errors import ConfigError
from workers.core.models import ENTITY_KINDS, Article, EntityNames, utcnow
from workers.entities.merge import ArticleEntities
from workers.entities.normalize import comparison_key

__all__ = ["Correction", "CorrectionAction", "CorrectionSet", "apply_corrections", "article_names", "corrected_fields",
           "kinds_of", "same_name"]


class CorrectionAction(StrEnum):
    MERGE = "merge"
    RENAME = "rename"
    BLOCK = "block"


class Correction(BaseModel):
    id: int = Field(0, ge=0, description="Order of creation; 0 until the store gives it one.")
    action: CorrectionAction
    name: str = Field(description="The name merged away, renamed or blocked.")
    target: str | None = Field(None, description="The name kept (merge) or the new spelling (rename).")
    kind: str | None = Field(None, description="The one kind it applies to; None: every kind.")
    created_at: datetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _check(self) -> Correction:
        self.name = " ".join(self.name.split())
        self.target = " ".join(self.target.split()) if self.target is not None else None
        if not comparison_key(self.name):
            raise ConfigError(f"an entity name needs letters or digits, not {self.name!r}", reason="entities.bad_input")
        if self.kind is not None and self.kind not in ENTITY_KINDS:
            raise ConfigError(f"unknown entity kind {self.kind!r}; kinds are: {', '.join(ENTITY_KINDS)}",
                              reason="entities.bad_input")
        if self.action is CorrectionAction.BLOCK:
            if self.target is not None:
                raise ConfigError("block takes one name", reason="entities.bad_input")
            return self
        if not self.target or not comparison_key(self.target):
            raise ConfigError(f"{self.action} needs the name to keep", reason="entities.bad_input")
        if self.action is CorrectionAction.MERGE and same_name(self.name, self.target):
            raise ConfigError(f"{self.name!r} and {self.target!r} are one name already",
                              reason="entities.bad_input")
        if self.action is CorrectionAction.RENAME and self.name == self.target:
            raise ConfigError(f"{self.name!r} is spelled so already", reason="entities.bad_input")
        return self

    def describe(self) -> str:
        where = f" ({self.kind})" if self.kind else ""
        if self.action is CorrectionAction.BLOCK:
            return f"block {self.name!r}{where}"
        joiner = "into" if self.action is CorrectionAction.MERGE else "as"
        return f"{self.action} {self.name!r} {joiner} {self.target!r}{where}"


def kinds_of(correction: Correction) -> tuple[str, ...]:
    return (correction.kind,) if correction.kind else ENTITY_KINDS


def same_name(a: str, b: str) -> bool:
    """Names equal but for case, accents and punctuation (how the facet query matches them too)."""
    return comparison_key(a) == comparison_key(b)


def apply_corrections(found: EntityNames, corrections: Sequence[Correction]) -> ArticleEntities:
    """The entity fields of an article whose recognizer found ``found``, with ``corrections`` in force."""
    return CorrectionSet(corrections).apply(found)


class CorrectionSet:
    """Corrections indexed by kind and name, so applying a thousand costs an article a few dictionary lookups
    per name rather than a comparison per correction. Built once per version of the corrections.

    Applied in order, each correction rewrites the names as they stand then; followed name by name that is: a
    name takes the first later correction that names its current spelling, then the next one after that for
    its new spelling, until none is left (or a block drops it).
    """

    def __init__(self, corrections: Sequence[Correction]) -> None:
        self.corrections = sorted(corrections, key=lambda c: c.id)
        self._steps: dict[str, dict[str, list[tuple[int, Correction, str]]]] = {}
        self._blocks: dict[str, dict[str, list[int]]] = {}
        for c in self.corrections:
            key = comparison_key(c.name)
            target_key = comparison_key(c.target) if c.target else ""
            for kind in kinds_of(c):
                self._steps.setdefault(kind, {}).setdefault(key, []).append((c.id, c, target_key))
                if c.action is CorrectionAction.BLOCK:
                    self._blocks.setdefault(kind, {}).setdefault(key, []).append(c.id)

    def __bool__(self) -> bool:
        return bool(self.corrections)

    def apply(self, found: EntityNames) -> ArticleEntities:
        result = ArticleEntities(extracted=found)
        for kind in ENTITY_KINDS:
            names, aliases = self._kind(kind, found.names.get(kind, []), found.aliases.get(kind, []))
            result.by_kind[kind] = names
            if aliases:
                result.aliases_by_kind[kind] = aliases
        listed = {name for names in result.by_kind.values() for name in names}
        result.aliases = [a for a in dict.fromkeys(a for v in result.aliases_by_kind.values() for a in v)
                          if a not in listed]
        return result

    def _kind(self, kind: str, found: list[str], found_aliases: list[str]) -> tuple[list[str], list[str]]:
        steps = self._steps.get(kind)
        if not steps:
            names = list(dict.fromkeys(found))
            return names, [a for a in dict.fromkeys(found_aliases) if a not in names]
        names: list[str] = []
        aliases = [(a, -1) for a in found_aliases]  # (spelling, id of the correction that made it an alias)
        for name in found:
            current: str | None = name
            key, after = comparison_key(name), -1
            while current is not None:
                step = next(((i, c, t) for i, c, t in steps.get(key, ()) if i > after), None)
                if step is None:
                    names.append(current)
                    break
                after, correction, key = step
                if correction.action is CorrectionAction.BLOCK:
                    current = None
                else:
                    if correction.target != current:
                        aliases.append((current, after))
                    current = correction.target
        blocks = self._blocks.get(kind, {})
        names = list(dict.fromkeys(names))
        kept = [a for a, made in aliases
                if not (blocks and any(b > made for b in blocks.get(comparison_key(a), ())))]
        return names, [a for a in dict.fromkeys(kept) if a not in names]


def article_names(article: Article) -> EntityNames:
    """What the recognizer found for ``article``; an article indexed before corrections existed counts its
    fields as found."""
    if article.extracted_entities is not None:
        return article.extracted_entities
    return EntityNames(names={kind: list(getattr(article, kind)) for kind in ENTITY_KINDS},
                       aliases={k: list(v) for k, v in article.aliases_by_kind.items()})


def corrected_fields(article: Article, corrections: Sequence[Correction] | CorrectionSet) -> dict[str, object]:
    """The entity fields ``article`` gets with ``corrections`` in force (Article keyword arguments)."""
    compiled = corrections if isinstance(corrections, CorrectionSet) else CorrectionSet(corrections)
    fields = compiled.apply(article_names(article)).fields()
    if article.extracted_entities is None:
        # Spellings merged away before they were kept by kind stay searchable as free text.
        listed = {name for kind in ENTITY_KINDS for name in fields[kind]}  # type: ignore[attr-defined]
        kept = [*fields["entity_aliases"], *article.entity_aliases]  # type: ignore[misc]
        fields["entity_aliases"] = [a for a in dict.fromkeys(kept) if a not in listed]
    return fields
