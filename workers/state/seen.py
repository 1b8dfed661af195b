"""The seen window: which documents were finished (indexed or dead-lettered) lately, in bounded memory.

One set that kept every id ever finished grew by about 88 bytes an article, for good: a gigabyte per ten
million articles that nothing ever read again once their feeds stopped listing them. The ids now go into
buckets of ``bucket_s`` seconds each, ``SEEN_BUCKETS`` of them covering the window; a bucket expires as a
whole once it has left the window, so memory follows the live window (what feeds still list, what is
recent) and not the archive, and no trimming runs anywhere.

A bucket holds 64-bit digests of the ids, not the ids, split over ``SEEN_SHARDS`` sets by the digest's
low bits: a set of integers of up to ``set-max-intset-entries`` members (512 by default) is an *intset*,
a sorted array of 8 bytes a member, where a set of 32-character ids costs about 84 bytes a member
(hash table entry, string, bucket pointer). So one bucket holds up to half a million ids at about 8
bytes each (plus some 100 bytes a shard); past that its shards become hash tables and cost about 60
bytes a member, still less than before. Two different ids share a digest with probability 2⁻⁶⁴: with
ten million ids in the window, one lookup in 10¹² answers "seen" for an id that was not (which the
index would then still have to hold for it to be skipped for good: a false "seen" delays nothing past
the window, since the poller asks the index only for ids the window does not hold).

Lookups run as one Lua call that builds the shard names from ``Keys.seen_shard_prefix``. Past the
window, whether an item was seen is the index's answer (document ids are deterministic, so one batched
lookup answers for a whole feed: :meth:`workers.runtime.Runtime.seen_ids`). An id that a feed still
lists is written again into the newest bucket whenever it is found only in the older half of the window,
so what feeds list never leaves it.

Earlier layouts are still read, never written: the single set of every id (``Keys.seen``) and the
buckets of whole ids (``Keys.seen_bucket``), which expire by themselves within a window of the upgrade.
A deployment that upgrades keeps what it knew, and may delete ``Keys.seen`` once the window has filled.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterable, Sequence

from redis import Redis
from redis.client import Pipeline

from workers.state.keys import Keys

__all__ = ["LOOKUP_LUA", "SEEN_BUCKETS", "SEEN_SHARDS", "SeenWindow", "seen_member"]

SEEN_BUCKETS = 16
"""Buckets per window: more makes expiry finer and every lookup longer (one SISMEMBER a bucket)."""

SEEN_SHARDS = 1024
"""Sets per bucket: 1024 × 512 ids stay intsets under Redis's default ``set-max-intset-entries``."""

_LOOKUP_BATCH = 1_000  # ids per lookup script: about 35 SISMEMBER each, so a run stays near a millisecond

# age_of(member, shard, id): how many buckets back the newest mark of an id is, or -1. Shared by the lookup
# below and the tracker's claim (workers/state/tracking.py), which prepends it. Needs, set by the caller:
# prefix, newest (bucket number), buckets (how many to read), legacy (keys of ids as themselves, in age order).
LOOKUP_LUA = """
local function age_of(member, shard, id)
  for back = 0, buckets - 1 do
    if redis.call('SISMEMBER', prefix .. string.format('%d', newest - back) .. ':' .. shard, member) == 1 then
      return back
    end
  end
  for i, key in ipairs(legacy) do
    if redis.call('SISMEMBER', key, id) == 1 then return i - 1 end
  end
  return -1
end
"""

# KEYS: the legacy keys; ARGV: prefix, newest bucket, buckets, then (member, shard, id) triples.
_AGES = """
local prefix, newest, buckets, legacy = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), KEYS
""" + LOOKUP_LUA + """
local out = {}
for j = 4, #ARGV, 3 do out[#out + 1] = age_of(ARGV[j], ARGV[j + 1], ARGV[j + 2]) end
return out
"""

# KEYS: the legacy keys; ARGV: prefix, newest bucket, buckets, then (member, shard, id) triples.
_REMOVE = """
local prefix, newest, buckets = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for j = 4, #ARGV, 3 do
  for back = 0, buckets - 1 do
    redis.call('SREM', prefix .. string.format('%d', newest - back) .. ':' .. ARGV[j + 1], ARGV[j])
  end
  for _, key in ipairs(KEYS) do redis.call('SREM', key, ARGV[j + 2]) end
end
"""

# ARGV: prefix, newest bucket, buckets, shards. Every shard's SCARD: a status figure, not a hot path.
_COUNT = """
local n = 0
for back = 0, tonumber(ARGV[3]) - 1 do
  local bucket = ARGV[1] .. string.format('%d', tonumber(ARGV[2]) - back) .. ':'
  for shard = 0, tonumber(ARGV[4]) - 1 do n = n + redis.call('SCARD', bucket .. shard) end
end
for _, key in ipairs(KEYS) do n = n + redis.call('SCARD', key) end
return n
"""


def seen_member(doc_id: str) -> tuple[str, int]:
    """The id's 64-bit digest as the decimal integer an intset holds, and the shard it goes to."""
    value = int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big", signed=True)
    return str(value), value % SEEN_SHARDS


class SeenWindow:
    """The ids finished within the last ``window_s`` seconds (and possibly up to one bucket longer)."""

    def __init__(self, redis: Redis, keys: Keys, window_s: int) -> None:
        self._redis = redis
        self._keys = keys
        self.window_s = window_s
        self.bucket_s = max(1, math.ceil(window_s / SEEN_BUCKETS))
        self._ages = redis.register_script(_AGES)

    def lookup_args(self, now: float | None = None) -> list[str | int]:
        """The ARGV head :data:`LOOKUP_LUA` reads: shard prefix, newest bucket, buckets to read."""
        return [self._keys.seen_shard_prefix(self.bucket_s), self._bucket(now), SEEN_BUCKETS + 1]

    def legacy_keys(self, now: float | None = None) -> list[str]:
        """The keys of earlier layouts a lookup still reads, in age order: buckets of whole ids, then the
        single set."""
        current = self._bucket(now)
        return [*(self._keys.seen_bucket(self.bucket_s, current - back) for back in range(SEEN_BUCKETS + 1)),
                self._keys.seen]

    def key_for(self, doc_id: str, now: float | None = None) -> str:
        """The shard an id finished ``now`` goes to."""
        _member, shard = seen_member(doc_id)
        return self._keys.seen_shard(self.bucket_s, self._bucket(now), shard)

    def add(self, client: Redis | Pipeline, ids: Sequence[str], now: float | None = None) -> None:
        """Record ``ids`` as finished now (queued, when given a pipeline)."""
        if not ids:
            return
        bucket = self._bucket(now)
        # A bucket is read until its last id has been in it for a whole window: then it goes at once.
        expire_at = (bucket + 1) * self.bucket_s + self.window_s + self.bucket_s
        by_shard: dict[int, list[str]] = {}
        for doc_id in ids:
            member, shard = seen_member(doc_id)
            by_shard.setdefault(shard, []).append(member)
        # One SADD a shard, not a script looping over ids: a batch of a million ids costs 1,024 commands
        # of C, never one long script that holds Redis.
        pipe = client if isinstance(client, Pipeline) else client.pipeline(transaction=False)
        for shard, members in by_shard.items():
            key = self._keys.seen_shard(self.bucket_s, bucket, shard)
            pipe.sadd(key, *members)
            pipe.expireat(key, expire_at)
        if pipe is not client:
            pipe.execute()

    def remove(self, client: Redis | Pipeline, ids: Sequence[str], now: float | None = None) -> None:
        if not ids:
            return
        legacy = self.legacy_keys(now)
        client.eval(_REMOVE, len(legacy), *legacy, *self.lookup_args(now), *self._triples(ids))

    def ages(self, ids: Sequence[str], now: float | None = None) -> list[int | None]:
        """For each id, how many buckets back its newest mark is (0: the current bucket; the legacy set
        counts as the oldest), or None when it is not in the window."""
        if not ids:
            return []
        legacy, head = self.legacy_keys(now), self.lookup_args(now)
        found: list[int] = []
        for start in range(0, len(ids), _LOOKUP_BATCH):  # bounded script runs, however many ids are asked
            found += self._ages(keys=legacy, args=[*head, *self._triples(ids[start:start + _LOOKUP_BATCH])])
        return [None if int(age) < 0 else int(age) for age in found]

    def contains(self, ids: Sequence[str], now: float | None = None) -> list[bool]:
        return [age is not None for age in self.ages(ids, now)]

    def refresh(self, ids: Sequence[str], ages: Iterable[int | None], now: float | None = None) -> int:
        """Write again into the newest bucket the ids whose mark is in the older half of the window, so
        that what feeds keep listing stays in it; returns how many were written."""
        stale = [doc_id for doc_id, age in zip(ids, ages, strict=True)
                 if age is not None and age >= SEEN_BUCKETS // 2]
        if stale:
            self.add(self._redis, stale, now)
        return len(stale)

    def count(self, now: float | None = None) -> int:
        """Ids in the window (an id marked in two buckets counts twice: this is for status, not accounts)."""
        legacy = self.legacy_keys(now)
        return int(self._redis.eval(_COUNT, len(legacy), *legacy, *self.lookup_args(now), SEEN_SHARDS))

    @staticmethod
    def _triples(ids: Sequence[str]) -> list[str | int]:
        out: list[str | int] = []
        for doc_id in ids:
            member, shard = seen_member(doc_id)
            out += [member, shard, doc_id]
        return out

    def _bucket(self, now: float | None) -> int:
        return int((time.time() if now is None else now) // self.bucket_s)
