"""The feed registry, each feed's polling state, and the due-feed schedule."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields

from redis import Redis

from workers.models import Feed
from workers.state.keys import Keys

__all__ = ["FeedRegistry", "FeedState"]

# Take the due feeds and push their score ahead by a lease in one step, so
# two schedulers never hand the same feed to two pollers.
_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, url in ipairs(due) do redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), url) end
return due
"""


@dataclass(slots=True)
class FeedState:
    """What the last polls of one feed left behind."""

    etag: str | None = None
    last_modified: str | None = None
    last_polled_at: float | None = None
    last_ok_at: float | None = None
    last_status: int | None = None
    error_streak: int = 0
    last_reason: str | None = None
    last_error: str | None = None
    items_total: int = 0
    title: str | None = None

    @classmethod
    def from_redis(cls, raw: dict[str, str]) -> FeedState:
        kwargs: dict[str, object] = {}
        for f in fields(cls):
            value = raw.get(f.name)
            if value is None or value == "":
                continue
            if f.name in ("last_polled_at", "last_ok_at"):
                kwargs[f.name] = float(value)
            elif f.name in ("last_status", "error_streak", "items_total"):
                kwargs[f.name] = int(value)
            else:
                kwargs[f.name] = value
        return cls(**kwargs)  # type: ignore[arg-type]

    def to_redis(self) -> dict[str, str]:
        return {k: "" if v is None else str(v) for k, v in asdict(self).items()}


class FeedRegistry:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._claim_due = redis.register_script(_CLAIM_DUE)

    def add(self, feed: Feed, *, first_poll_at: float | None = None) -> bool:
        """Register a feed (or update its title); True when it was new."""
        pipe = self._redis.pipeline()
        pipe.hset(self._keys.feeds, feed.url, feed.model_dump_json())
        pipe.zadd(self._keys.schedule, {feed.url: first_poll_at or time.time()}, nx=True)
        created, _ = pipe.execute()
        return bool(created)

    def remove(self, url: str) -> bool:
        pipe = self._redis.pipeline()
        pipe.hdel(self._keys.feeds, url)
        pipe.zrem(self._keys.schedule, url)
        pipe.delete(self._keys.feed_state(url))
        removed, *_ = pipe.execute()
        return bool(removed)

    def get(self, url: str) -> Feed | None:
        raw = self._redis.hget(self._keys.feeds, url)
        return Feed.model_validate_json(raw) if raw else None

    def all(self) -> list[Feed]:
        return sorted(
            (Feed.model_validate_json(v) for v in self._redis.hvals(self._keys.feeds)), key=lambda f: f.url
        )

    def count(self) -> int:
        return int(self._redis.hlen(self._keys.feeds))

    def state(self, url: str) -> FeedState:
        return FeedState.from_redis(self._redis.hgetall(self._keys.feed_state(url)))

    def save_state(self, url: str, state: FeedState) -> None:
        self._redis.hset(self._keys.feed_state(url), mapping=state.to_redis())

    def schedule(self, url: str, at: float) -> None:
        """Set the next poll time of a registered feed (unregistered feeds are not scheduled)."""
        if self._redis.hexists(self._keys.feeds, url):
            self._redis.zadd(self._keys.schedule, {url: at})

    def next_poll_at(self, url: str) -> float | None:
        return self._redis.zscore(self._keys.schedule, url)

    def claim_due(self, *, now: float, lease_s: float, limit: int = 500) -> list[str]:
        """Feeds due by ``now``, leased for ``lease_s`` seconds so nobody else takes them."""
        return list(self._claim_due(keys=[self._keys.schedule], args=[now, now + lease_s, limit]))
