"""Per-domain politeness shared by every worker: a request rate and a concurrency cap, kept in Redis.

One Lua script decides atomically, on Redis's clock, whether a download may
start: it reserves the domain's next request slot (``domain_min_interval_s``
apart) and a lease among ``domain_max_concurrency`` running downloads. A
lease carries an expiry, so a worker that dies mid-download frees its place.

Feed polls go through the same gate as the pages of their domain (one host,
one budget). A fetch or poll thread waits for its slot only briefly (``politeness_max_wait_s``);
a longer wait raises :class:`PolitenessDelay`, and the task layer holds the
page or poll in the delayed set until then, so a busy domain never holds a thread. A
429 or 503 with ``Retry-After`` pushes the domain's next slot that far out,
for every worker.
"""

from __future__ import annotations

import contextlib
import functools
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

from courlan import extract_domain
from redis import Redis

from workers.core.errors import RetryableFeedError, RetryableFetchError
from workers.settings import Settings
from workers.state.keys import Keys

__all__ = ["DomainGate", "PolitenessDelay", "domain_of"]

# KEYS: leases (zset token -> expiry ms), next slot (ms). ARGV: token, interval ms, max running, lease ms,
# longest wait ms. Returns {1, wait ms} when a slot and a lease are taken (start after the wait), {0, wait ms} when
# the slot is further than the longest wait, {-1, hint ms} when every lease is taken.
_ACQUIRE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local interval, max_running = tonumber(ARGV[2]), tonumber(ARGV[3])
local lease, max_wait = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= max_running then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {-1, math.min(tonumber(first[2]) - now, math.max(interval, 200))}
end
local slot = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
local wait = slot - now
if wait > max_wait then
  return {0, wait}
end
redis.call('SET', KEYS[2], slot + interval, 'PX', wait + interval + 1000)
redis.call('ZADD', KEYS[1], slot + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], wait + lease + 1000)
return {1, wait}
"""

# KEYS: next slot (ms). ARGV: pause ms. Moves the domain's next slot to at least now + pause.
_PAUSE = """
local t = redis.call('TIME')
local until_ms = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
if until_ms > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return until_ms
"""

_LONGEST_PAUSE_S = 3600.0  # a Retry-After of days is a server's mistake; an hour is respect enough
_BUSY_POLL_S = 0.1  # how often a thread looks again while every lease of its domain is taken


class PolitenessDelay(RetryableFetchError):
    """Raised when a domain's turn is further away than a fetch thread may wait; ``retry_after_s`` says when."""

    default_reason = "fetch.politeness_wait"


def domain_of(url: str) -> str:
    """The registrable domain (``bbc.co.uk`` for ``www.bbc.co.uk``), or the host for addresses and odd names."""
    return _domain_of_host((urlsplit(url).hostname or "").lower())


@functools.lru_cache(maxsize=8192)
def _domain_of_host(host: str) -> str:
    # The public-suffix lookup is per host, not per URL, and cost every fetch a noticeable share of its CPU.
    return extract_domain(f"http://[{host}]/" if ":" in host else f"http://{host}/", fast=False) or host


class DomainGate:
    """Waits for, and holds, a domain's turn to be downloaded from."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.keys = Keys(settings.namespace)
        self.interval_ms = int(settings.domain_min_interval_s * 1000)
        self.max_running = settings.domain_max_concurrency
        self.max_wait_s = settings.politeness_max_wait_s
        # A lease outlives the longest legitimate download, then frees itself.
        self.lease_ms = int((settings.download_deadline_s + max(settings.fetch_timeout_s, settings.feed_timeout_s)
                             + 30) * 1000)
        self._acquire = redis.register_script(_ACQUIRE)
        self._pause = redis.register_script(_PAUSE)

    def _keys(self, domain: str) -> list[str]:
        return [self.keys.polite_running(domain), self.keys.polite_next(domain)]

    @contextlib.contextmanager
    def turn(self, url: str) -> Iterator[None]:
        """Hold one of the domain's download places for the ``with`` block, after its rate slot came."""
        domain = domain_of(url)
        keys = self._keys(domain)
        token = uuid.uuid4().hex
        give_up = time.monotonic() + self.max_wait_s
        while True:
            left_ms = max(0, int((give_up - time.monotonic()) * 1000))
            granted, wait_ms = self._acquire(
                keys=keys, args=[token, self.interval_ms, self.max_running, self.lease_ms, left_ms]
            )
            wait_s = int(wait_ms) / 1000
            if granted == 1:
                break
            if granted == 0 or time.monotonic() + _BUSY_POLL_S > give_up:
                raise PolitenessDelay(f"{domain} is busy: its next turn is in {wait_s:.1f}s",
                                      url=url, retry_after_s=max(wait_s, self.interval_ms / 1000, 1.0))
            time.sleep(_BUSY_POLL_S)
        try:
            if wait_s > 0:
                time.sleep(wait_s)
            yield
        except (RetryableFetchError, RetryableFeedError) as exc:  # a page's or a feed's: one host, one budget
            if exc.retry_after_s:  # the site asked for a pause (429/503 Retry-After): every worker keeps it
                self.pause(url, min(exc.retry_after_s, _LONGEST_PAUSE_S))
            raise
        finally:
            self.redis.zrem(keys[0], token)

    def pause(self, url: str, seconds: float) -> None:
        """No request to the domain of ``url`` for ``seconds``, from any worker."""
        self._pause(keys=self._keys(domain_of(url))[1:], args=[int(seconds * 1000)])
