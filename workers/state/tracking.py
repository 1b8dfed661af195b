"""Which items are new: not yet indexed, dead-lettered or in flight.

An item is marked *seen* only once its document is indexed or it is
dead-lettered, never when it is polled (the marks live in the bounded seen
window, :mod:`workers.state.seen`); until then it is *in flight*: a
sorted set scored by claim time, plus the item itself. Work lost on the way
(a crashed worker, a flushed queue) therefore comes back: with the next poll
that lists it once its mark is older than the TTL, or, when the feed no
longer changes (a 304 lists nothing), through :meth:`ItemTracker.stale`,
which the scheduler re-sends.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from redis import Redis

from workers.state.keys import Keys
from workers.state.seen import LOOKUP_LUA, SeenWindow, seen_member

__all__ = ["ItemTracker"]

# Atomic so that two pollers reading the same item in two feeds hand it to fetch once. KEYS: inflight, inflight
# items, then the seen window's keys of earlier layouts; ARGV: now, ttl, the seen window's lookup head (shard
# prefix, newest bucket, buckets), then (id, item JSON, digest, shard) quadruples (a poll's new entries come in
# one call). Returns 1 for each item the caller now owns, else 0; an id listed twice is claimed once.
_CLAIM = """
local now, ttl, out = tonumber(ARGV[1]), tonumber(ARGV[2]), {}
local prefix, newest, buckets = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local legacy = {}
for i = 3, #KEYS do legacy[#legacy + 1] = KEYS[i] end
""" + LOOKUP_LUA + """
for j = 6, #ARGV, 4 do
  local id, taken = ARGV[j], 1
  if age_of(ARGV[j + 2], ARGV[j + 3], id) >= 0 then taken = 0 end
  if taken == 1 then
    local since = redis.call('ZSCORE', KEYS[1], id)
    if since and (now - tonumber(since)) < ttl then taken = 0 end
  end
  if taken == 1 then
    redis.call('ZADD', KEYS[1], now, id)
    if ARGV[j + 1] ~= '' then redis.call('HSET', KEYS[2], id, ARGV[j + 1]) end
  end
  out[#out + 1] = taken
end
return out
"""


class ItemTracker:
    def __init__(self, redis: Redis, keys: Keys, inflight_ttl_s: int, seen_window_s: int = 30 * 86_400) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = inflight_ttl_s
        self._claim = redis.register_script(_CLAIM)
        self.seen = SeenWindow(redis, keys, seen_window_s)

    def claim(self, doc_id: str, item_json: str = "") -> bool:
        """Take the item for processing; False when it is seen within the window or already in flight.

        Past the window the caller asks the index first (:meth:`workers.runtime.Runtime.seen_ids`)."""
        return self.claim_many([(doc_id, item_json)])[0]

    def claim_many(self, items: list[tuple[str, str]]) -> list[bool]:
        """:meth:`claim` for several (id, item JSON) pairs in one round trip; one answer a pair."""
        if not items:
            return []
        now = time.time()
        keys = [self._keys.inflight, self._keys.inflight_items, *self.seen.legacy_keys(now)]
        args: list[str | float | int] = [now, self._ttl, *self.seen.lookup_args(now)]
        for doc_id, item_json in items:
            args += [doc_id, item_json, *seen_member(doc_id)]
        return [bool(taken) for taken in self._claim(keys=keys, args=args)]

    def is_seen(self, doc_id: str) -> bool:
        """Seen within the window (only: the index answers for older documents)."""
        return self.seen.contains([doc_id])[0]

    def finish(self, doc_ids: Iterable[str]) -> None:
        """Mark items as done for good (indexed or dead-lettered)."""
        ids = list(doc_ids)
        if not ids:
            return
        pipe = self._redis.pipeline()
        self.seen.add(pipe, ids)
        pipe.zrem(self._keys.inflight, *ids)
        pipe.hdel(self._keys.inflight_items, *ids)
        pipe.hdel(self._keys.redeliveries, *ids)
        pipe.hdel(self._keys.deliveries, *(f"extract:{i}" for i in ids))
        pipe.execute()

    def release(self, doc_id: str) -> None:
        """Give an in-flight item back, so the next poll may take it again."""
        pipe = self._redis.pipeline()
        pipe.zrem(self._keys.inflight, doc_id)
        pipe.hdel(self._keys.inflight_items, doc_id)
        pipe.execute()

    def reopen(self, doc_id: str, item_json: str = "") -> None:
        """Make a finished item in flight again (a person retries a dead letter)."""
        pipe = self._redis.pipeline()
        self.seen.remove(pipe, [doc_id])
        pipe.zadd(self._keys.inflight, {doc_id: time.time()})
        if item_json:
            pipe.hset(self._keys.inflight_items, doc_id, item_json)
        pipe.execute()

    def stale(self, *, now: float | None = None, limit: int = 500) -> list[tuple[str, str | None]]:
        """In-flight items older than the TTL, with the item JSON kept at claim time (if any)."""
        cutoff = (time.time() if now is None else now) - self._ttl
        ids = self._redis.zrangebyscore(self._keys.inflight, "-inf", cutoff, start=0, num=limit)
        if not ids:
            return []
        return list(zip(ids, self._redis.hmget(self._keys.inflight_items, ids), strict=True))

    def count_delivery(self, stage: str, doc_id: str) -> int:
        """How many times ``stage`` has received this item, this time included (reset when it finishes)."""
        return int(self._redis.hincrby(self._keys.deliveries, f"{stage}:{doc_id}", 1))

    def count_deliveries(self, stage: str, doc_ids: Iterable[str]) -> list[int]:
        """:meth:`count_delivery` of several items in one round trip (a batch's messages)."""
        pipe = self._redis.pipeline(transaction=False)
        for doc_id in doc_ids:
            pipe.hincrby(self._keys.deliveries, f"{stage}:{doc_id}", 1)
        return [int(n) for n in pipe.execute()]

    def count_redelivery(self, doc_id: str) -> int:
        """How many times a lost item has been re-sent, this time included."""
        return int(self._redis.hincrby(self._keys.redeliveries, doc_id, 1))

    def inflight_count(self) -> int:
        return int(self._redis.zcard(self._keys.inflight))

    def seen_count(self) -> int:
        """Marks in the seen window (not every document ever indexed: the index counts those)."""
        return self.seen.count()
