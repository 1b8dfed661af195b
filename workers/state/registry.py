"""The feed registry, each feed's polling state, and the due-feed schedule."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from urllib.parse import urlsplit

from redis import Redis
from redis.client import Pipeline

from workers.core.models import Feed
from workers.state.keys import Keys

__all__ = ["FeedRegistry", "FeedState", "feed_host"]

# Take the due feeds and push their score ahead by a lease in one step, so
# two schedulers never hand the same feed to two pollers.
_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, url in ipairs(due) do redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), url) end
return due
"""

# Schedule a registered feed at the first time at or after ARGV[2] that is at least ARGV[3] seconds from
# every other feed of its host, so a newspaper's 40 section feeds never come due in one burst. Atomic, so
# two pollers rescheduling feeds of one host never pick the same slot. ARGV[4] = '1': only if unscheduled.
# Returns the time chosen as a string (a Lua number comes back as an integer, tostring() keeps 14 digits), or nil.
_SCHEDULE_SPREAD = """
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then return nil end
if ARGV[4] == '1' and redis.call('ZSCORE', KEYS[1], ARGV[1]) then return nil end
local at, spacing = tonumber(ARGV[2]), tonumber(ARGV[3])
if spacing > 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  for _ = 1, 10000 do
    -- Bounds formatted to the microsecond, a millisecond inside the spacing: Lua's default number
    -- formatting keeps 14 digits, which would let a neighbour exactly one spacing away match again.
    local low, high = string.format('%.6f', at - spacing + 0.001), string.format('%.6f', at + spacing - 0.001)
    local near = redis.call('ZRANGEBYSCORE', KEYS[2], low, high, 'WITHSCORES')
    if #near == 0 then break end
    local later = tonumber(near[#near]) + spacing
    if later <= at then break end
    at = later
  end
  redis.call('ZADD', KEYS[2], at, ARGV[1])
end
redis.call('ZADD', KEYS[1], at, ARGV[1])
return string.format('%.6f', at)
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
    rate_per_s: float | None = None  # weighted rate of new items, the base of the adaptive interval
    interval_s: float | None = None  # the adaptive interval last chosen
    hint_s: float | None = None  # the longest interval the publisher asked for (max-age, ttl, sy:updatePeriod)
    gone: bool = False  # the feed answered 410 Gone: no longer polled until added again

    @classmethod
    def from_redis(cls, raw: dict[str, str]) -> FeedState:
        kwargs: dict[str, object] = {}
        for f in fields(cls):
            value = raw.get(f.name)
            if value is None or value == "":
                continue
            kind = str(f.type)
            if kind.startswith("float"):
                kwargs[f.name] = float(value)
            elif kind.startswith("int"):
                kwargs[f.name] = int(value)
            elif kind.startswith("bool"):
                kwargs[f.name] = value == "1"
            else:
                kwargs[f.name] = value
        return cls(**kwargs)  # type: ignore[arg-type]

    def to_redis(self) -> tuple[dict[str, str], list[str]]:
        """(the fields to set, the fields to delete): a field at its default is not stored, since
        :meth:`from_redis` reads a missing one as its default (about 100 bytes a feed)."""
        defaults = FeedState()
        written: dict[str, str] = {}
        cleared: list[str] = []
        for name, value in asdict(self).items():
            if value == getattr(defaults, name):
                cleared.append(name)
            elif isinstance(value, bool):
                written[name] = str(int(value))
            elif isinstance(value, float):
                written[name] = _short_float(name, value)
            else:
                written[name] = str(value)
        return written, cleared


def _feed_json(feed: Feed) -> str:
    # The URL is the field's name already, and a default is what reading gives anyway: stored, they were
    # about half of the entry.
    return feed.model_dump_json(exclude={"url"}, exclude_defaults=True)


def _feed_from(url: str, raw: str) -> Feed:
    data = json.loads(raw)  # earlier versions stored the URL and every default too
    data.setdefault("url", url)
    return Feed.model_validate(data)


def _short_float(name: str, value: float) -> str:
    # Times to the millisecond, rates and intervals to six significant digits: what the schedule can use,
    # in half the characters of repr().
    return f"{value:.3f}" if name.endswith("_at") else f"{value:.6g}"


def feed_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class FeedRegistry:
    def __init__(self, redis: Redis, keys: Keys, *, host_spacing_s: float = 0.0) -> None:
        self._redis = redis
        self._keys = keys
        self.host_spacing_s = host_spacing_s
        self._claim_due = redis.register_script(_CLAIM_DUE)
        self._spread = redis.register_script(_SCHEDULE_SPREAD)
        self._script_loaded = False

    def add(self, feed: Feed, *, first_poll_at: float | None = None) -> bool:
        """Register a feed (or update its title, adding its collections); True when it was new.

        A new feed, or one that was not scheduled (it had answered 410 Gone), is scheduled at
        ``first_poll_at`` (now), spread out from the other feeds of its host.
        """
        existing = self.get(feed.url)
        if existing is not None:
            collections = list(dict.fromkeys([*existing.collections, *feed.collections]))
            feed = feed.model_copy(update={"collections": collections, "added_at": existing.added_at,
                                           "title": feed.title or existing.title,
                                           "source_name": feed.source_name or existing.source_name})
        self._redis.hset(self._keys.feeds, feed.url, _feed_json(feed))
        if existing is not None and self.state(feed.url).gone:
            self._redis.hdel(self._keys.feed_state(feed.url), "gone")
        self._schedule(self._redis, feed.url, first_poll_at or time.time(), only_if_new=True)
        return existing is None

    def remove(self, url: str) -> bool:
        pipe = self._redis.pipeline()
        pipe.hdel(self._keys.feeds, url)
        pipe.zrem(self._keys.schedule, url)
        pipe.zrem(self._keys.host_schedule(feed_host(url)), url)
        pipe.delete(self._keys.feed_state(url), self._keys.feed_entries(url))
        removed, *_ = pipe.execute()
        return bool(removed)

    def move(self, old_url: str, new_url: str) -> bool:
        """A permanent redirect: the feed now lives at ``new_url``, with its collections, state and schedule."""
        feed = self.get(old_url)
        if feed is None or old_url == new_url:
            return False
        state, at = self.state(old_url), self.next_poll_at(old_url)
        self.add(feed.model_copy(update={"url": new_url}), first_poll_at=at)
        if not self._redis.exists(self._keys.feed_state(new_url)):
            self.save_state(new_url, state)
        if self._redis.exists(self._keys.feed_entries(old_url)):  # what it listed, so its entries stay known
            self._redis.renamenx(self._keys.feed_entries(old_url), self._keys.feed_entries(new_url))
        self.remove(old_url)
        return True

    def get(self, url: str) -> Feed | None:
        raw = self._redis.hget(self._keys.feeds, url)
        return _feed_from(url, raw) if raw else None

    def all(self) -> list[Feed]:
        return sorted((_feed_from(url, raw) for url, raw in self._redis.hgetall(self._keys.feeds).items()),
                      key=lambda f: f.url)

    def count(self) -> int:
        return int(self._redis.hlen(self._keys.feeds))

    def state(self, url: str) -> FeedState:
        return FeedState.from_redis(self._redis.hgetall(self._keys.feed_state(url)))

    def save_state(self, url: str, state: FeedState, *, pipe: Pipeline | None = None) -> None:
        written, cleared = state.to_redis()
        client = pipe or self._redis.pipeline(transaction=False)
        if cleared:
            client.hdel(self._keys.feed_state(url), *cleared)
        if written:
            client.hset(self._keys.feed_state(url), mapping=written)
        if pipe is None:
            client.execute()

    def schedule(self, url: str, at: float, *, pipe: Pipeline | None = None) -> float | None:
        """Set the next poll of a registered feed at ``at`` or just after, apart from its host's other feeds.

        Returns the time chosen (None for an unregistered feed, or inside a pipeline).
        """
        return self._schedule(pipe or self._redis, url, at, only_if_new=False)

    def unschedule(self, url: str) -> None:
        """No more polls (410 Gone); the feed stays registered and listed."""
        pipe = self._redis.pipeline()
        pipe.zrem(self._keys.schedule, url)
        pipe.zrem(self._keys.host_schedule(feed_host(url)), url)
        pipe.execute()

    def _schedule(self, client: Redis | Pipeline, url: str, at: float, *, only_if_new: bool) -> float | None:
        keys = [self._keys.schedule, self._keys.host_schedule(feed_host(url)), self._keys.feeds]
        args = [url, repr(float(at)), self.host_spacing_s, int(only_if_new)]
        if isinstance(client, Pipeline):
            # EVALSHA straight into the pipeline: redis-py would otherwise ask SCRIPT EXISTS first, one more
            # round trip on every poll. The script is loaded once here; a Redis that lost it (a restart)
            # answers NoScriptError, and the caller reschedules with :meth:`schedule` outside a pipeline.
            if not self._script_loaded:
                self._redis.script_load(_SCHEDULE_SPREAD)
                self._script_loaded = True
            client.evalsha(self._spread.sha, len(keys), *keys, *args)
            return None
        chosen = self._spread(keys=keys, args=args)
        return float(chosen) if isinstance(chosen, str | bytes) else None

    def next_poll_at(self, url: str) -> float | None:
        return self._redis.zscore(self._keys.schedule, url)

    def claim_due(self, *, now: float, lease_s: float, limit: int = 500) -> list[str]:
        """Feeds due by ``now``, leased for ``lease_s`` seconds so nobody else takes them."""
        return list(self._claim_due(keys=[self._keys.schedule], args=[now, now + lease_s, limit]))
