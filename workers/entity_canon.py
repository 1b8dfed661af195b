"""One canonical spelling per entity across the whole corpus, agreed by every worker through Redis.

Each kind keeps, per block of possibly-matching names (see
:func:`workers.entity_match.block_of`), an append-only Redis list of every
spelling met. A spelling's canonical form is found from its own first entry:
the first earlier entry it matches, then that entry's, until an entry matches
nothing before it (so "Soleymani" -> "Soleimani" -> "Suleimani"). The list
order is decided by Redis (RPUSH is atomic) and an entry's answer depends only
on the entries before it, so every worker computes the same answer, whoever
raced whom; it is then pinned in a hash with HSETNX (the first write wins),
and later readers take the pinned value without comparing anything.
"""

from __future__ import annotations

from redis import Redis

from workers.entity_match import DEFAULT_MATCH_RATIO, block_of, same_entity
from workers.entity_normalize import comparison_key

__all__ = ["EntityCanon"]

_MAX_BLOCK = 5000  # entries compared per block; past that a name stays as written rather than stall the worker


class EntityCanon:
    """The corpus-wide canonical form of entity names, stored under ``{namespace}:entity:*``."""

    def __init__(self, redis: Redis, namespace: str, *, ratio: float = DEFAULT_MATCH_RATIO) -> None:
        self.redis = redis
        self.namespace = namespace
        self.ratio = ratio

    def canonical(self, kind: str, name: str) -> str:
        """The canonical spelling of ``name`` among ``kind`` (it is registered when new)."""
        return self.canonical_many(kind, [name])[name]

    def canonical_many(self, kind: str, names: list[str]) -> dict[str, str]:
        pinned_key = self._pinned(kind)
        keys = [comparison_key(n) for n in names]
        known = self.redis.hmget(pinned_key, keys) if keys else []
        result: dict[str, str] = {}
        for name, key, pinned in zip(names, keys, known, strict=True):
            result[name] = _text(pinned) if pinned is not None else self._resolve(kind, name, key)
        return result

    def _resolve(self, kind: str, name: str, key: str) -> str:
        block_key = self._block(kind, block_of(name))
        entries = [_text(e) for e in self.redis.lrange(block_key, 0, _MAX_BLOCK - 1)]
        own = next((i for i, entry in enumerate(entries) if comparison_key(entry) == key), None)
        if own is None:
            self.redis.rpush(block_key, name)
            entries = [_text(e) for e in self.redis.lrange(block_key, 0, _MAX_BLOCK - 1)]
            own = next((i for i, entry in enumerate(entries) if comparison_key(entry) == key), None)
        canonical = name if own is None else self._root(entries, own)
        self.redis.hsetnx(self._pinned(kind), key, canonical)
        return _text(self.redis.hget(self._pinned(kind), key)) or canonical

    def _root(self, entries: list[str], index: int) -> str:
        """Follow an entry to the first earlier entry it matches, until one matches nothing before it.
        (A full block leaves ``index`` None above: the name then stays as written.)"""
        while True:
            earlier = self._first_match(entries, entries[index], index)
            if earlier is None:
                return entries[index]
            index = earlier

    def _first_match(self, entries: list[str], name: str, before: int) -> int | None:
        for i in range(min(before, len(entries))):
            if same_entity(entries[i], name, self.ratio):
                return i
        return None

    def _pinned(self, kind: str) -> str:
        return f"{self.namespace}:entity:canonical:{kind}"

    def _block(self, kind: str, block: str) -> str:
        return f"{self.namespace}:entity:block:{kind}:{block}"


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value
