"""The seen window: which documents were finished (indexed or dead-lettered) lately, in bounded memory.

One set that kept every id ever finished grew by about 88 bytes an article, for good: a gigabyte per ten
million articles that nothing ever read again once their feeds stopped listing them. The ids now go into
sets of ``bucket_s`` seconds each, ``SEEN_BUCKETS`` of them covering the window; a bucket expires as a whole
once it has left the window, so memory follows the live window (what feeds still list, what is recent)
and not the archive, and no trimming runs anywhere.

Past the window, whether an item was seen is the index's answer (document ids are deterministic, so one
batched lookup answers for a whole feed: :meth:`workers.runtime.Runtime.seen_ids`). An id that a feed still
lists is written again into the newest bucket whenever it is found only in the older half of the window,
so what feeds list never leaves it.

The single set of earlier versions (``Keys.seen``) is still read, never written: a deployment that upgrades
keeps what it knew, and may delete that key once the window has filled (the index answers for its ids).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence

from redis import Redis
from redis.client import Pipeline

from workers.state.keys import Keys

__all__ = ["SEEN_BUCKETS", "SeenWindow"]

SEEN_BUCKETS = 16
"""Buckets per window: more makes expiry finer and every lookup longer (one SMISMEMBER a bucket)."""


class SeenWindow:
    """The ids finished within the last ``window_s`` seconds (and possibly up to one bucket longer)."""

    def __init__(self, redis: Redis, keys: Keys, window_s: int) -> None:
        self._redis = redis
        self._keys = keys
        self.window_s = window_s
        self.bucket_s = max(1, math.ceil(window_s / SEEN_BUCKETS))

    def live_keys(self, now: float | None = None) -> list[str]:
        """The bucket keys a lookup reads, newest first, then the legacy set."""
        current = self._bucket(now)
        newest = [self._keys.seen_bucket(self.bucket_s, current - back) for back in range(SEEN_BUCKETS + 1)]
        return [*newest, self._keys.seen]

    def add(self, client: Redis | Pipeline, ids: Sequence[str], now: float | None = None) -> None:
        """Record ``ids`` as finished now (queued, when given a pipeline)."""
        if not ids:
            return
        bucket = self._bucket(now)
        key = self._keys.seen_bucket(self.bucket_s, bucket)
        client.sadd(key, *ids)
        # The bucket is read until its last id has been in it for a whole window: then it goes at once.
        client.expireat(key, (bucket + 1) * self.bucket_s + self.window_s + self.bucket_s)

    def remove(self, client: Redis | Pipeline, ids: Sequence[str], now: float | None = None) -> None:
        if not ids:
            return
        for key in self.live_keys(now):
            client.srem(key, *ids)

    def ages(self, ids: Sequence[str], now: float | None = None) -> list[int | None]:
        """For each id, how many buckets back its newest mark is (0: the current bucket; the legacy set
        counts as the oldest), or None when it is not in the window."""
        if not ids:
            return []
        keys = self.live_keys(now)
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.smismember(key, list(ids))
        found = pipe.execute()
        out: list[int | None] = [None] * len(ids)
        for back, members in enumerate(found):
            for index, member in enumerate(members):
                if member and out[index] is None:
                    out[index] = back
        return out

    def contains(self, ids: Sequence[str], now: float | None = None) -> list[bool]:
        return [age is not None for age in self.ages(ids, now)]

    def refresh(self, ids: Sequence[str], ages: Iterable[int | None], now: float | None = None) -> int:
        """Write again into the newest bucket the ids whose mark is in the older half of the window, so
        that what feeds keep listing stays in it; returns how many were written."""
        stale = [doc_id for doc_id, age in zip(ids, ages, strict=True)
                 if age is not None and age >= SEEN_BUCKETS // 2]
        if stale:
            pipe = self._redis.pipeline(transaction=False)
            self.add(pipe, stale, now)
            pipe.execute()
        return len(stale)

    def count(self, now: float | None = None) -> int:
        """Ids in the window (an id marked in two buckets counts twice: this is for status, not accounts)."""
        pipe = self._redis.pipeline(transaction=False)
        for key in self.live_keys(now):
            pipe.scard(key)
        return sum(int(n) for n in pipe.execute())

    def _bucket(self, now: float | None) -> int:
        return int((time.time() if now is None else now) // self.bucket_s)
