"""Which items are new: not yet indexed, dead-lettered or in flight.

An item is marked *seen* only once its document is indexed or it is
dead-lettered, never when it is polled; until then it is *in flight* with a
timestamp. Work lost on the way (a crashed worker, a flushed queue) therefore
comes back with the next poll once its in-flight mark is older than the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from redis import Redis

from workers.state.keys import Keys

__all__ = ["CanonicalMap", "ItemTracker"]

# Atomic so that two pollers reading the same item in two feeds hand it to
# fetch once: returns 1 when the caller now owns the item.
_CLAIM = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
local since = redis.call('HGET', KEYS[2], ARGV[1])
if since and (tonumber(ARGV[2]) - tonumber(since)) < tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""


class ItemTracker:
    def __init__(self, redis: Redis, keys: Keys, inflight_ttl_s: int) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = inflight_ttl_s
        self._claim = redis.register_script(_CLAIM)

    def claim(self, doc_id: str) -> bool:
        """Take the item for processing; False when it is seen or already in flight."""
        return bool(self._claim(keys=[self._keys.seen, self._keys.inflight], args=[doc_id, time.time(), self._ttl]))

    def is_seen(self, doc_id: str) -> bool:
        return bool(self._redis.sismember(self._keys.seen, doc_id))

    def finish(self, doc_ids: Iterable[str]) -> None:
        """Mark items as done for good (indexed or dead-lettered)."""
        ids = list(doc_ids)
        if not ids:
            return
        pipe = self._redis.pipeline()
        pipe.sadd(self._keys.seen, *ids)
        pipe.hdel(self._keys.inflight, *ids)
        pipe.execute()

    def release(self, doc_id: str) -> None:
        """Give an in-flight item back, so the next poll may take it again."""
        self._redis.hdel(self._keys.inflight, doc_id)

    def inflight_count(self) -> int:
        return int(self._redis.hlen(self._keys.inflight))

    def seen_count(self) -> int:
        return int(self._redis.scard(self._keys.seen))


# Bind every alias (the final URL's id, the rel=canonical's id) to one
# document id: the first document to claim an alias owns it from then on.
_RESOLVE = """
for i = 2, #ARGV do
  local owner = redis.call('HGET', KEYS[1], ARGV[i])
  if owner and owner ~= ARGV[1] then return owner end
end
for i = 2, #ARGV do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[1]) end
return ARGV[1]
"""


class CanonicalMap:
    """One article reached through two links (a redirect, a rel=canonical) is one document."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._keys = keys
        self._resolve = redis.register_script(_RESOLVE)

    def resolve(self, doc_id: str, alias_ids: Iterable[str]) -> str:
        """The document id to use for ``doc_id``, given the ids of its other URLs."""
        ids = list(dict.fromkeys([doc_id, *alias_ids]))
        return str(self._resolve(keys=[self._keys.canonical], args=[doc_id, *ids]))
