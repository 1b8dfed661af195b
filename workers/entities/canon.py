"""One canonical spelling per entity across the whole corpus, agreed by every worker through Redis.

Each kind keeps, per block of possibly-matching names (see
:func:`workers.entities.match.block_of`), an append-only Redis list of every
spelling met. A spelling's canonical form is found from its own first entry:
the first earlier entry it matches, then that entry's, until an entry matches
nothing before it (so "Soleymani" -> "Soleimani" -> "Suleimani"). The list
order is decided by Redis (RPUSH is atomic) and an entry's answer depends only
on the entries before it, so every worker computes the same answer, whoever
raced whom; it is then pinned in a hash with HSETNX (the first write wins),
and later readers take the pinned value without comparing anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.client import Pipeline

from workers.entities.match import DEFAULT_MATCH_RATIO, block_of, same_entity
from workers.entities.normalize import comparison_key
from workers.state.keys import Keys

__all__ = ["EntityCanon"]

_MAX_BLOCK = 5000  # entries compared per block; past that a name stays as written rather than stall the worker


class EntityCanon:
    """The corpus-wide canonical form of entity names, stored under ``{namespace}:entity:*``."""

    def __init__(self, redis: Redis, namespace: str, *, ratio: float = DEFAULT_MATCH_RATIO) -> None:
        self.redis = redis
        self.namespace = namespace
        self.keys = Keys(namespace)
        self.ratio = ratio

    def canonical(self, kind: str, name: str) -> str:
        """The canonical spelling of ``name`` among ``kind`` (it is registered when new)."""
        return self.canonical_many(kind, [name])[name]

    def canonical_many(self, kind: str, names: list[str]) -> dict[str, str]:
        return self.canonical_by_kind({kind: names})[kind]

    def canonical_by_kind(self, names: dict[str, list[str]]) -> dict[str, dict[str, str]]:
        """Every name's canonical spelling, kind by kind, in at most five round trips to Redis for the lot
        (one when every name is known already)."""
        wanted = [(kind, name, comparison_key(name)) for kind, kind_names in names.items() for name in kind_names]
        result: dict[str, dict[str, str]] = {kind: {} for kind in names}
        pinned = self._pipelined(lambda p: [p.hget(self._pinned(k), key) for k, _, key in wanted])
        new = [(k, name, key) for (k, name, key), value in zip(wanted, pinned, strict=True) if value is None]
        for (kind, name, _), value in zip(wanted, pinned, strict=True):
            if value is not None:
                result[kind][name] = _text(value)
        if not new:
            return result
        blocks = [self._block(kind, block_of(name)) for kind, name, _ in new]
        entries = self._blocks(blocks)
        unlisted = [(block, name) for block, (_, name, key) in zip(blocks, new, strict=True)
                    if _position(entries[block], key) is None]
        if unlisted:
            self._pipelined(lambda p: [p.rpush(block, name) for block, name in unlisted])
            entries = self._blocks(blocks)
        answers = []
        for block, (kind, name, key) in zip(blocks, new, strict=True):
            own = _position(entries[block], key)
            answers.append((kind, name, key, name if own is None else self._root(entries[block], own)))
        # HSETNX: the first answer pinned stays; every worker's answer is the same anyway, this only saves
        # later readers the comparisons.
        agreed = self._pipelined(lambda p: [p.hsetnx(self._pinned(k), key, c) for k, _, key, c in answers]
                                 + [p.hget(self._pinned(k), key) for k, _, key, _ in answers])
        for (kind, name, _, canonical), value in zip(answers, agreed[len(answers):], strict=True):
            result[kind][name] = _text(value) or canonical
        return result

    def _blocks(self, blocks: list[str]) -> dict[str, list[str]]:
        unique = list(dict.fromkeys(blocks))
        lists = self._pipelined(lambda p: [p.lrange(block, 0, _MAX_BLOCK - 1) for block in unique])
        return {block: [_text(e) for e in entries] for block, entries in zip(unique, lists, strict=True)}

    def _pipelined(self, queue: Callable[[Pipeline], list[object]]) -> list[Any]:
        pipe = self.redis.pipeline(transaction=False)
        queue(pipe)
        return pipe.execute()

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
        return self.keys.entity_canonical(kind)

    def _block(self, kind: str, block: str) -> str:
        return self.keys.entity_block(kind, block)


def _position(entries: list[str], key: str) -> int | None:
    return next((i for i, entry in enumerate(entries) if comparison_key(entry) == key), None)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value
