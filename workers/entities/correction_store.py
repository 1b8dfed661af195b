"""Analysts' entity corrections kept in Redis, read by every extract worker at the cost of one GET.

The corrections are a hash (id -> JSON) beside a version counter bumped on every change. A worker keeps the
list it read with the version it read it at, and per article asks Redis only for the version: the hash is
read again only when it changed, so a correction made now applies to the next article extracted anywhere.
"""

from __future__ import annotations

import threading

from redis import Redis

from workers.core.errors import ConfigError
from workers.core.models import Article, EntityNames
from workers.entities.corrections import Correction, CorrectionAction, CorrectionSet, same_name
from workers.entities.merge import ArticleEntities
from workers.state.keys import Keys

__all__ = ["CorrectionStore"]


class CorrectionStore:
    """The corrections under ``{namespace}:entity:corrections``."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.keys = Keys(namespace)
        self._cached: tuple[bytes | None, CorrectionSet] | None = None
        self._lock = threading.Lock()

    def add(self, action: CorrectionAction | str, name: str, target: str | None = None,
            kind: str | None = None) -> Correction:
        """Record one correction (checked first: a bad one is refused with the reason, and nothing is stored)."""
        draft = Correction(action=CorrectionAction(action), name=name, target=target, kind=kind)
        for other in self.all():
            if _same(other, draft):
                raise ConfigError(f"correction {other.id} already does that: {other.describe()}",
                                  reason="entities.correction.exists")
        correction = draft.model_copy(update={"id": int(self.redis.incr(self.keys.entity_corrections_seq))})
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.keys.entity_corrections, str(correction.id), correction.model_dump_json())
        pipe.incr(self.keys.entity_corrections_version)
        pipe.execute()
        return correction

    def get(self, correction_id: int) -> Correction | None:
        raw = self.redis.hget(self.keys.entity_corrections, str(correction_id))
        return Correction.model_validate_json(raw) if raw is not None else None

    def require(self, correction_id: int) -> Correction:
        """The correction of that id; an unknown id is an error naming the ids there are."""
        correction = self.get(correction_id)
        if correction is None:
            raise self._unknown(correction_id)
        return correction

    def undo(self, correction_id: int) -> Correction:
        """Remove one correction; an unknown id is an error naming the ids there are."""
        correction = self.require(correction_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(self.keys.entity_corrections, str(correction_id))
        pipe.incr(self.keys.entity_corrections_version)
        removed, _ = pipe.execute()
        if not removed:  # undone by someone else meanwhile
            raise self._unknown(correction_id)
        return correction

    def _unknown(self, correction_id: int) -> ConfigError:
        known = ", ".join(str(c.id) for c in self.all()) or "none"
        return ConfigError(f"no entity correction {correction_id} (corrections: {known})",
                           reason="entities.correction.not_found")

    def all(self) -> list[Correction]:
        """Every correction in force, oldest first."""
        raw = self.redis.hgetall(self.keys.entity_corrections)
        return sorted((Correction.model_validate_json(v) for v in raw.values()), key=lambda c: c.id)

    def current(self) -> CorrectionSet:
        """The corrections in force, from this process's copy while Redis' version is the one it was read at."""
        version = self.redis.get(self.keys.entity_corrections_version)
        cached = self._cached
        if cached is not None and cached[0] == version:
            return cached[1]
        with self._lock:
            # Version first, then the hash: a change between the two is read again on the next call.
            corrections = CorrectionSet(self.all())
            self._cached = (version, corrections)
        return corrections

    def correct_article(self, article: Article) -> Article:
        """``article`` with the corrections in force now (the index stage's last look: a correction made while
        the article was between extract and index reaches it too). Unchanged without any correction, or when
        its entities were never found (no NER)."""
        corrections = self.current()
        if not corrections or article.extracted_entities is None:
            return article
        return article.model_copy(update=corrections.apply(article.extracted_entities).fields())

    def correct(self, found: ArticleEntities) -> ArticleEntities:
        """An article's entities as found (canonical spellings, by kind) with the corrections in force."""
        corrections = self.current()
        names = EntityNames(names={k: list(v) for k, v in found.by_kind.items()},
                            aliases={k: list(v) for k, v in found.aliases_by_kind.items() if v})
        if not corrections:
            return ArticleEntities(by_kind=found.by_kind, aliases=found.aliases,
                                   aliases_by_kind=found.aliases_by_kind, extracted=names)
        return corrections.apply(names)


def _same(a: Correction, b: Correction) -> bool:
    """One correction twice: the same action on the same name (whatever its case) in the same kind, to the same
    name (a rename's new spelling exactly: changing only its case is what a rename is for)."""
    if (a.action, a.kind) != (b.action, b.kind) or not same_name(a.name, b.name):
        return False
    if a.action is CorrectionAction.RENAME:
        return a.target == b.target
    return (a.target is None and b.target is None) or (a.target is not None and b.target is not None
                                                    and same_name(a.target, b.target))
