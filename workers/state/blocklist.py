"""The takedown blocklist: URLs and domains that are never ingested again.

Kept in Redis under the namespace, so every poller, fetcher and index
worker sees the same list the moment ``newsworkers delete --block`` writes it:

- ``<ns>:blocked-ids``      hash: document id → the URL blocked (every id version of it, see :mod:`workers.core.ids`,
  so a tracking variant or an id from before an upgrade is blocked too)
- ``<ns>:blocked-domains``  set of domains; a domain blocks its subdomains (``example.com`` blocks
  ``www.example.com`` and ``news.example.com``, not ``badexample.com``)

It is checked at three places, all cheap (one pipelined round trip per feed
document or batch): the poll drops listed items (counted as ``poll.blocked``),
the fetch drops an item whose URL, or the URL it redirected to, is listed,
and the index stage drops articles extracted before the block was written.
A dropped item is marked done (seen), not dead-lettered: a takedown is an
operator's decision, not a failure, and a dead letter would invite a
``failed retry`` that must never succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from redis import Redis

from workers.core.errors import ConfigError
from workers.core.ids import id_candidates
from workers.core.logs import get_logger
from workers.state.keys import Keys

if TYPE_CHECKING:  # runtime imports the stages; the checks below only need its type
    from workers.core.models import FeedItem
    from workers.runtime import Runtime

__all__ = ["Blocklist", "BlocklistEntries", "drop_blocked_articles", "drop_blocked_items", "drop_blocked_page",
           "normalize_domain"]

log = get_logger(__name__)


def normalize_domain(domain: str) -> str:
    """A domain as the blocklist keeps it: lower case, IDNA, no dots around it, no scheme or path."""
    text = domain.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.strip(".")
    try:
        text = text.encode("idna").decode("ascii") if text else text
    except UnicodeError as exc:
        raise ConfigError(f"not a domain name: {domain!r}", reason="config.domain") from exc
    if not text or "/" in text or " " in text:
        raise ConfigError(f"not a domain name: {domain!r}", reason="config.domain")
    return text


def _host_suffixes(url: str) -> list[str]:
    """``a.b.example.com`` → itself, ``b.example.com``, ``example.com``, ``com``."""
    host = (urlsplit(url).hostname or "").lower().strip(".")
    parts = host.split(".") if host else []
    return [".".join(parts[i:]) for i in range(len(parts))]


@dataclass(slots=True)
class BlocklistEntries:
    urls: dict[str, str]  # document id → URL
    domains: list[str]

    def to_json(self) -> dict[str, object]:
        return {"urls": sorted(set(self.urls.values())), "domains": self.domains}


class Blocklist:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.ids_key = Keys(namespace).blocked_ids
        self.domains_key = Keys(namespace).blocked_domains

    # -- writing -------------------------------------------------------------------------------------------
    def block_url(self, url: str) -> list[str]:
        """Block ``url`` under every id version; returns those ids."""
        ids = [doc_id for _version, doc_id in id_candidates(url)]
        self.redis.hset(self.ids_key, mapping=dict.fromkeys(ids, url))
        return ids

    def block_domain(self, domain: str) -> str:
        name = normalize_domain(domain)
        self.redis.sadd(self.domains_key, name)
        return name

    def remove(self, entry: str) -> bool:
        """Unblock a URL (any id version of it) or a domain; False when it was not listed."""
        if "://" in entry and urlsplit(entry).path not in ("", "/"):
            ids = [doc_id for _version, doc_id in id_candidates(entry)]
            return bool(self.redis.hdel(self.ids_key, *ids))
        if "://" in entry:  # a bare site URL names its domain unless that very URL is listed
            ids = [doc_id for _version, doc_id in id_candidates(entry)]
            if self.redis.hdel(self.ids_key, *ids):
                return True
        return bool(self.redis.srem(self.domains_key, normalize_domain(entry)))

    # -- reading -------------------------------------------------------------------------------------------
    def entries(self) -> BlocklistEntries:
        return BlocklistEntries(urls=dict(self.redis.hgetall(self.ids_key)),
                                domains=sorted(self.redis.smembers(self.domains_key)))

    def blocked(self, urls: Sequence[str | None]) -> list[bool]:
        """For each URL, whether it is listed (by any of its ids, or its host or a parent domain)."""
        wanted = [u for u in urls if u]
        if not wanted:
            return [False] * len(urls)
        pipe = self.redis.pipeline(transaction=False)
        for url in wanted:
            pipe.hmget(self.ids_key, [doc_id for _version, doc_id in id_candidates(url)])
            suffixes = _host_suffixes(url)
            if suffixes:
                pipe.smismember(self.domains_key, suffixes)
            else:
                pipe.echo("")
        answers = pipe.execute()
        verdicts = iter(any(answers[i]) or (isinstance(answers[i + 1], list) and any(answers[i + 1]))
                        for i in range(0, len(answers), 2))
        return [next(verdicts) if u else False for u in urls]

    def is_blocked(self, *urls: str | None) -> bool:
        return any(self.blocked(list(urls)))

    def empty(self) -> bool:
        """Nothing listed: the common case, answered with one round trip so the checks cost nearly nothing."""
        return not self.redis.exists(self.ids_key, self.domains_key)


def _for(runtime: Runtime) -> Blocklist | None:
    listed = Blocklist(runtime.redis, runtime.settings.namespace)
    return None if listed.empty() else listed


def drop_blocked_items(runtime: Runtime, items: list[FeedItem]) -> list[FeedItem]:
    """The poll's items without the blocked ones, which are counted (``poll.blocked``) and never claimed."""
    listed = _for(runtime) if items else None
    if listed is None:
        return items
    verdicts = listed.blocked([i.url for i in items])
    kept = [item for item, blocked in zip(items, verdicts, strict=True) if not blocked]
    if len(kept) < len(items):
        runtime.stats.incr("poll", "blocked", len(items) - len(kept))
    return kept


def drop_blocked_page(runtime: Runtime, doc_id: str, *urls: str | None) -> bool:
    """True (and the item marked done, counted as ``fetch.blocked``) when the page at ``urls`` is blocked."""
    listed = _for(runtime)
    if listed is None or not listed.is_blocked(*urls):
        return False
    runtime.tracker.finish([doc_id])
    runtime.stats.incr("fetch", "blocked")
    log.info("page blocked by a takedown: dropped", reason="fetch.blocked", url=next((u for u in urls if u), ""))
    return True


def drop_blocked_articles(runtime: Runtime, payloads: list[Any]) -> list[Any]:
    """Index messages without the articles blocked since they were fetched; those are marked done, counted
    as ``index.blocked``."""
    listed = _for(runtime) if payloads else None
    if listed is None:
        return payloads
    articles = [p.get("article") if isinstance(p, dict) and isinstance(p.get("article"), dict) else {}
                for p in payloads]
    verdicts = [listed.is_blocked(a.get("url"), a.get("canonical_url"), a.get("final_url")) for a in articles]
    kept, done = [], []
    for payload, article, blocked in zip(payloads, articles, verdicts, strict=True):
        if blocked:
            done.extend([str(article.get("id", "")), *(payload.get("done") or [])])
        else:
            kept.append(payload)
    if done:
        runtime.tracker.finish([d for d in done if d])
        runtime.stats.incr("index", "blocked", len(payloads) - len(kept))
    return kept
