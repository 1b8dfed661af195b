"""Near-duplicate clusters in Redis, shared by every extract worker.

Keys, under ``<namespace>:nd:<params tag>:`` (other fingerprint settings, other keys), each
expiring ``window_s`` after it was last written, so Redis holds a window of recent news, not the
archive (copies published further apart than the window are not grouped):

- ``b:<band>:<digest>``  set of document ids whose signature has that LSH band
- ``fp:<doc id>``        ``<published epoch>|<fingerprint>``
- ``of:<doc id>``        its cluster's key
- ``m:<cluster key>``    sorted set: member ids scored by published_at (epoch seconds)

A cluster's ``cluster_id`` is its first member by published_at, ties by id:
exactly the order of a Redis sorted set (score, then member). It is read, not
stored, so an article that arrives late with an earlier date simply becomes
the cluster's id. The cluster key is only a name for the set and never shown.

Concurrency: :data:`_INSERT` adds a document to its band sets and returns the
candidates already there in one atomic step, so of two near-duplicates that
finish at the same moment the second always sees the first. After the
candidates are checked in Python, :data:`_JOIN` unites the document's
cluster with theirs, again atomically, so clusters merge instead of forking.

Keeping indexed documents true: ``cluster_id`` and ``duplicates`` of a
document already in the index change when another member joins. The index
stage calls :meth:`ClusterStore.refresh` on each batch: it reads every
touched cluster from Redis and re-upserts the members already indexed whose
values changed. The index has one writer and every document joins its
cluster before its index message is sent, so whichever of two members is
indexed last sees both and corrects the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from redis import Redis

from workers.core.logs import get_logger
from workers.core.models import Article
from workers.neardup.fingerprint import Fingerprint, FingerprintParams, fingerprint, similar
from workers.search.backend import SearchBackend
from workers.state.keys import Keys

__all__ = ["Cluster", "ClusterStore"]

log = get_logger(__name__)

# KEYS: band sets...; ARGV: key prefix, doc id, fingerprint record, window (s).
# Returns candidate ids and their records ('' when expired).
_INSERT = """
local prefix, ttl = ARGV[1], ARGV[4]
redis.call('SET', prefix .. 'fp:' .. ARGV[2], ARGV[3], 'EX', ttl)
local seen = {}
local out = {}
for i = 1, #KEYS do
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    if id ~= ARGV[2] and not seen[id] then
      seen[id] = true
      out[#out + 1] = id
    end
  end
  redis.call('SADD', KEYS[i], ARGV[2])
  redis.call('EXPIRE', KEYS[i], ttl)
end
local result = {}
for _, id in ipairs(out) do
  result[#result + 1] = id
  result[#result + 1] = redis.call('GET', prefix .. 'fp:' .. id) or ''
end
return result
"""

# ARGV: key prefix, doc id, its published epoch, window (s), matched ids... Returns the first member, the size.
# Keys are built in the script (one Redis, not a cluster): which clusters to touch is only known inside.
_JOIN = """
local prefix, ttl = ARGV[1], ARGV[4]
local function cluster_of(id)
  local key = redis.call('GET', prefix .. 'of:' .. id)
  if key and redis.call('EXISTS', prefix .. 'm:' .. key) == 1 then return key end
  local record = redis.call('GET', prefix .. 'fp:' .. id)
  if not record then return nil end
  local published = string.match(record, '^([^|]+)|')
  redis.call('ZADD', prefix .. 'm:' .. id, tonumber(published), id)
  redis.call('SET', prefix .. 'of:' .. id, id, 'EX', ttl)
  return id
end
local target = cluster_of(ARGV[2])
-- A redelivered document keeps its cluster; its date may have been corrected since.
redis.call('ZADD', prefix .. 'm:' .. target, 'XX', ARGV[3], ARGV[2])
for i = 5, #ARGV do
  local other = cluster_of(ARGV[i])
  if other and other ~= target then
    local small, big = other, target
    if redis.call('ZCARD', prefix .. 'm:' .. other) > redis.call('ZCARD', prefix .. 'm:' .. target) then
      small, big = target, other
    end
    local moved = redis.call('ZRANGE', prefix .. 'm:' .. small, 0, -1, 'WITHSCORES')
    for j = 1, #moved, 2 do
      redis.call('ZADD', prefix .. 'm:' .. big, moved[j + 1], moved[j])
      redis.call('SET', prefix .. 'of:' .. moved[j], big, 'EX', ttl)
    end
    redis.call('DEL', prefix .. 'm:' .. small)
    target = big
  end
end
redis.call('SET', prefix .. 'of:' .. ARGV[2], target, 'EX', ttl)
redis.call('EXPIRE', prefix .. 'm:' .. target, ttl)
local first = redis.call('ZRANGE', prefix .. 'm:' .. target, 0, 0)[1]
return {first, redis.call('ZCARD', prefix .. 'm:' .. target)}
"""


@dataclass(frozen=True, slots=True)
class Cluster:
    """Where a document stands: its cluster's first member and how many members there are."""

    cluster_id: str
    size: int

    @property
    def duplicates(self) -> int:
        return self.size - 1


class ClusterStore:
    """The shared LSH index and cluster records of one namespace."""

    def __init__(self, redis: Redis, namespace: str, params: FingerprintParams, *,
                 window_s: int = 30 * 86400) -> None:
        self.redis = redis
        self.window_s = window_s
        self.params = params
        self.prefix = Keys(namespace).near_duplicates(params.tag)
        self._insert = redis.register_script(_INSERT)
        self._join = redis.register_script(_JOIN)

    def add(self, doc_id: str, body: str, published_at: datetime) -> Cluster | None:
        """Fingerprint a body and put its document in a cluster; None when the body is too short."""
        found = fingerprint(body, self.params)
        if found is None:
            return None
        return self.add_fingerprint(doc_id, found, published_at)

    def add_fingerprint(self, doc_id: str, found: Fingerprint, published_at: datetime) -> Cluster:
        bands = [f"{self.prefix}b:{i}:{digest}" for i, digest in enumerate(found.band_digests(self.params))]
        record = f"{published_at.timestamp()!r}|{found.encode()}"
        reply = self._insert(keys=bands, args=[self.prefix, doc_id, record, self.window_s])
        matches = [
            reply[i] for i in range(0, len(reply), 2)
            if reply[i + 1] and similar(found, Fingerprint.decode(reply[i + 1].partition("|")[2]), self.params)
        ]
        first, size = self._join(args=[self.prefix, doc_id, repr(published_at.timestamp()), self.window_s, *matches])
        return Cluster(str(first), int(size))

    def clusters(self, doc_ids: Sequence[str]) -> dict[str, list[str]]:
        """Each clustered document's cluster members, first member (the cluster_id) first."""
        keys = self.redis.mget([f"{self.prefix}of:{d}" for d in doc_ids]) if doc_ids else []
        wanted = sorted({k for k in keys if k})
        pipe = self.redis.pipeline(transaction=False)
        for key in wanted:
            pipe.zrange(self.prefix + "m:" + key, 0, -1)
        members = dict(zip(wanted, pipe.execute(), strict=True))
        return {doc: members[key] for doc, key in zip(doc_ids, keys, strict=True) if key and members.get(key)}

    def forget(self, doc_ids: Sequence[str]) -> list[str]:
        """Take deleted documents out of the LSH bands and their clusters, so they anchor nothing; returns the
        members left in the clusters they were in (whose ``cluster_id`` or ``duplicates`` may now be stale)."""
        if not doc_ids:
            return []
        records = self.redis.mget([f"{self.prefix}fp:{d}" for d in doc_ids])
        clusters = self.redis.mget([f"{self.prefix}of:{d}" for d in doc_ids])
        pipe = self.redis.pipeline(transaction=False)
        for doc_id, record, cluster in zip(doc_ids, records, clusters, strict=True):
            if record:
                found = Fingerprint.decode(record.partition("|")[2])
                for i, digest in enumerate(found.band_digests(self.params)):
                    pipe.srem(f"{self.prefix}b:{i}:{digest}", doc_id)
            if cluster:
                pipe.zrem(f"{self.prefix}m:{cluster}", doc_id)
            pipe.delete(f"{self.prefix}fp:{doc_id}", f"{self.prefix}of:{doc_id}")
        pipe.execute()
        touched = sorted({c for c in clusters if c})
        for key in touched:
            pipe.zrange(f"{self.prefix}m:{key}", 0, -1)
        gone = set(doc_ids)
        return [m for members in pipe.execute() for m in members if m not in gone] if touched else []

    def refresh(self, articles: Sequence[Article], backend: SearchBackend) -> list[Article]:
        """Set each article's cluster from Redis; return indexed members of those clusters whose
        ``cluster_id`` or ``duplicates`` changed, to be upserted with the batch."""
        found = self.clusters([a.id for a in articles])
        in_batch = {a.id for a in articles}
        stale: dict[str, Article] = {}
        for article in articles:
            members = found.get(article.id)
            if not members:
                continue
            article.cluster_id, article.duplicates = members[0], len(members) - 1
            for member in members:
                if member in in_batch or member in stale:
                    continue
                indexed = backend.get(member)
                if indexed is None:
                    continue  # not indexed yet: it reads its cluster itself when it is
                if (indexed.cluster_id or indexed.id, indexed.duplicates) != (members[0], len(members) - 1):
                    stale[member] = indexed.model_copy(update={"cluster_id": members[0],
                                                               "duplicates": len(members) - 1})
        if stale:
            log.info("near-duplicate clusters changed", reindexed=len(stale))
        return list(stale.values())
