"""robots.txt for article pages: fetched once per site, cached in Redis, parsed with protego.

RFC 9309 outcomes: a 2xx body is the rules; a 4xx means no rules (everything
allowed); a 5xx or an unreachable site means "assume disallowed for now", so
the page is given back as retryable (``fetch.robots_unavailable``) and the
failure is cached briefly so the site is not asked again by every page. A site
that refuses the connection or has no address is not a robots outcome: the page
fails as ``fetch.connect`` / ``fetch.dns``, on the ordinary retry schedule.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import httpx
from protego import Protego
from redis import Redis

from workers.core.errors import FetchError, RetryableFetchError
from workers.net import http
from workers.settings import Settings
from workers.state.keys import Keys

__all__ = ["RobotsRules", "robots_url"]

_MAX_BYTES = 512 * 1024  # RFC 9309: crawlers must read at least 500 KiB
_UNREACHABLE = "\x00unreachable"  # cache marker: no rules could be read
_UNREACHABLE_TTL_S = 300
_UNREACHABLE_HOST = frozenset({"fetch.connect", "fetch.dns"})  # no robots.txt answer because no host answers
# Rules read from Redis are kept this long in the process too: a busy site's pages then cost no round trip
# each, and a changed robots.txt still reaches every worker within a minute of the shared copy's expiry.
_LOCAL_TTL_S = 60.0
_LOCAL_MAX_SITES = 10_000


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


class RobotsRules:
    """Answers whether our user agent may fetch a page."""

    def __init__(self, redis: Redis, client: httpx.Client, settings: Settings) -> None:
        self.redis = redis
        self.client = client
        self.settings = settings
        self.keys = Keys(settings.namespace)
        # Rules name a product token ("newsworkers"), not the whole User-Agent header.
        self.agent = settings.user_agent.split("/")[0].split()[0] if settings.user_agent.strip() else "*"
        self._parsed: dict[str, Protego] = {}  # per process, in front of Redis; keyed by the rules' text
        self._local: dict[str, tuple[float, str]] = {}  # rules URL → (monotonic expiry, text)

    def check(self, url: str) -> None:
        """Raise FetchError ``fetch.robots_disallowed`` when the site's robots.txt forbids ``url``."""
        rules_url = robots_url(url)
        try:
            text = self._rules(rules_url)
        except RetryableFetchError as exc:
            if exc.reason not in _UNREACHABLE_HOST:
                raise
            # The host itself is down or has no address: that is the page's failure too, said as it is, and
            # retried on the usual short schedule (not held back like a robots.txt that answers 5xx).
            raise RetryableFetchError(f"{urlsplit(url).netloc} cannot be reached: {exc.args[0]}",
                                      reason=exc.reason, url=url) from exc
        if text == _UNREACHABLE:
            raise RetryableFetchError(f"robots.txt of {urlsplit(url).netloc} could not be read",
                                      reason="fetch.robots_unavailable", url=url, retry_after_s=_UNREACHABLE_TTL_S)
        if not text.strip():
            return
        parser = self._parsed.get(text)
        if parser is None:
            parser = self._parsed[text] = Protego.parse(text)
            if len(self._parsed) > 1000:
                self._parsed.clear()
        if not parser.can_fetch(url, self.agent):
            raise FetchError(f"robots.txt disallows this page for {self.agent}", reason="fetch.robots_disallowed",
                             url=url)

    def _rules(self, rules_url: str) -> str:
        now = time.monotonic()
        local = self._local.get(rules_url)
        if local is not None and local[0] > now:
            return local[1]
        key = self.keys.robots(rules_url)
        cached = self.redis.get(key)
        if cached is not None:
            text = cached.decode("utf-8", "replace") if isinstance(cached, bytes) else str(cached)
            ttl: float = min(_LOCAL_TTL_S, self.settings.robots_ttl_s)
        else:
            text, ttl = self._download(rules_url)
            self.redis.set(key, text, ex=ttl)
        if len(self._local) >= _LOCAL_MAX_SITES:
            self._local.clear()
        self._local[rules_url] = (now + min(ttl, _LOCAL_TTL_S), text)
        return text

    def _download(self, rules_url: str) -> tuple[str, int]:
        try:
            response = http.get(self.client, rules_url, stage="fetch", max_bytes=_MAX_BYTES,
                                deadline_s=min(self.settings.download_deadline_s, 30.0),
                                headers={"Accept": "text/plain,*/*;q=0.5"})
        except RetryableFetchError as exc:
            if exc.reason in _UNREACHABLE_HOST:
                raise  # check() gives it to the page
            return _UNREACHABLE, _UNREACHABLE_TTL_S
        except FetchError as exc:
            if exc.reason == "fetch.blocked_address":
                raise  # the page itself is on the same refused host
            if exc.reason.startswith("fetch.http_4"):
                return "", self.settings.robots_ttl_s  # no robots.txt: no rules
            # Too large, too many redirects, not text: RFC 9309 lets a crawler treat these as "no rules".
            return "", self.settings.robots_ttl_s
        return response.content.decode("utf-8", "replace"), self.settings.robots_ttl_s
