"""Bounded memory of feed entries: the GUID aliases and revisions the poll cycle keeps.

The ``guids`` and ``revisions`` hashes (:mod:`workers.state.keys`) gain a field for every entry ever listed,
so alone they grow without bound. Every field also has a score in the ``item-memory`` sorted set: the last
time a poll saw its entry in a feed. Each poll that parsed a document refreshes the fields of the entries it
lists, then one Lua call forgets at most ``TRIM_BATCH`` fields not seen for ``feed_item_memory_s``: the
trim is a bounded amount of work per poll, and an entry still in its feed is never forgotten. (Redis 7.0
has no per-field expiry of hashes, hence the sorted set.)

Forgetting is safe: whether an item was fetched is the seen window's business (past it, the index's), so
a forgotten entry that comes back is still not fetched again; only a GUID alias under another URL, or a
correction on the first poll after it returned, would go unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis import Redis
from redis.client import Pipeline

from workers.state.keys import Keys

__all__ = ["TRIM_BATCH", "remember", "trim"]

# At most this many fields are forgotten per poll: enough to keep up with feeds that churn hundreds of
# entries a poll, small enough that one Lua call never holds Redis noticeably.
TRIM_BATCH = 500

_GUID, _REVISION = "g", "r"  # member prefixes: which hash a field of the sorted set belongs to

_TRIM = """
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(old) do
  local kind, field = string.sub(member, 1, 1), string.sub(member, 3)
  if kind == 'g' then redis.call('HDEL', KEYS[2], field) else redis.call('HDEL', KEYS[3], field) end
end
if #old > 0 then redis.call('ZREM', KEYS[1], unpack(old)) end
return #old
"""


def remember(pipe: Pipeline, keys: Keys, *, guid_fields: Iterable[str], revision_fields: Iterable[str],
             now: float) -> None:
    """Mark these fields as seen in a feed ``now`` (queued on ``pipe``)."""
    members = {f"{_GUID} {f}": now for f in guid_fields} | {f"{_REVISION} {f}": now for f in revision_fields}
    if members:
        pipe.zadd(keys.item_memory, members)


def trim(client: Redis | Pipeline, keys: Keys, *, now: float, window_s: float, limit: int = TRIM_BATCH) -> None:
    """Forget up to ``limit`` fields last seen more than ``window_s`` ago (queued, when given a pipeline)."""
    # EVAL, not EVALSHA: the script is small, and a Redis that restarted cannot fail it with NOSCRIPT.
    client.eval(_TRIM, 3, keys.item_memory, keys.guids, keys.revisions, now - window_s, limit)
