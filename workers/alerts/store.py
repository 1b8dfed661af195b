"""Saved searches and their matches, in Redis.

A saved search is a name (URL-safe: it is the last part of ``/feeds/NAME.atom``), a query in our
backend-neutral syntax (validated when saved, so a bad one is refused at once rather than at every batch),
facet filters, an optional webhook URL and its creation time.

Its matches are a sorted set of document ids scored by publication time (newest last), capped at
``alert_matches_max``, beside a hash of the feed entries (what the Atom feed shows), so the feed never has to
reach the search backend. Recording a match says whether it is new: only a new (alert, article) pair may
fire a webhook, so an article indexed again (a re-poll, a reprocess, a redelivered batch) never fires twice.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from redis import Redis

from workers.core.dates import parse_iso
from workers.core.errors import QuerySyntaxError
from workers.core.models import Article
from workers.search.model import Hit, SearchQuery, Sort
from workers.search.query_syntax import parse_query
from workers.state.keys import Keys

__all__ = ["NAME_PATTERN", "AlertStore", "FeedEntry", "SavedSearch", "entry_of", "entry_of_hit",
           "validate_saved_search"]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
"""Letters, digits, '-' and '_', at most 64: safe in a URL path, a Redis key and an Elasticsearch id."""
_SUMMARY_CHARS = 500
_TAGS = re.compile(r"<[^>]*>")

# Record one match: add it (only if new) and keep the newest ``cap`` by score; 1 when the pair was new.
# One script, so two index consumers (Elasticsearch) recording the same pair never both see it as new.
_RECORD = """
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
if added == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
  if over > 0 then
    local gone = redis.call('ZRANGE', KEYS[1], 0, over - 1)
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1)
    redis.call('HDEL', KEYS[2], unpack(gone))
  end
end
return added
"""


@dataclass(slots=True)
class SavedSearch:
    name: str
    query: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    webhook: str | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def search_query(self, *, limit: int = 10) -> SearchQuery:
        """The query a search for this saved search sends (newest first, as its feed lists them)."""
        return SearchQuery(text=self.query, filters={k: list(v) for k, v in self.filters.items()},
                           sort=Sort.DATE, limit=limit)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class FeedEntry:
    """What an Atom entry and a webhook need of one matching article."""

    id: str
    url: str
    title: str
    summary: str
    published_at: str
    source: str
    entities: dict[str, list[str]]
    matched_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def entry_of(article: Article) -> FeedEntry:
    summary = article.summary or article.body
    if len(summary) > _SUMMARY_CHARS:
        summary = summary[:_SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    return FeedEntry(
        id=article.id, url=article.url, title=article.title, summary=summary,
        published_at=article.published_at.astimezone(UTC).isoformat(),
        source=article.source_name or article.domain or "",
        entities={kind: list(getattr(article, kind))
                  for kind in ("persons", "organizations", "locations", "groups", "events")},
    )


def entry_of_hit(hit: Hit) -> FeedEntry:
    """The entry of a search hit (a saved search's first matches): its snippet, tags dropped, as summary."""
    published = hit.published_at or datetime.now(UTC)
    return FeedEntry(
        id=hit.id, url=hit.url, title=hit.title, summary=html.unescape(_TAGS.sub("", hit.snippet)),
        published_at=published.astimezone(UTC).isoformat(), source=hit.source_name or hit.domain or "",
        entities={kind: list(getattr(hit, kind)) for kind in ("persons", "organizations", "locations", "groups",
                                                               "events")},
    )


def validate_saved_search(name: str, query: str, filters: dict[str, list[str]] | None = None,
                          webhook: str | None = None) -> SavedSearch:
    """A SavedSearch, or :class:`QuerySyntaxError` (reason ``query.syntax``) naming what is wrong."""
    if not NAME_PATTERN.match(name or ""):
        raise QuerySyntaxError(f"alert name {name!r} must be 1-64 letters, digits, '-' or '_', "
                               "starting with a letter or digit")
    if not query.strip() and not filters:
        raise QuerySyntaxError("a saved search needs a query or at least one filter")
    parse_query(query)  # raises with the position of the fault
    cleaned = {facet: [v.strip() for v in values if v.strip()] for facet, values in (filters or {}).items()}
    SearchQuery(text=query, filters=cleaned)  # unknown facets are refused here
    if webhook:
        try:
            parts = urlsplit(webhook)
            usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a bad port or IPv6 literal
            usable = False
        if not usable:
            raise QuerySyntaxError(f"webhook {webhook!r} must be an http(s) URL")
    return SavedSearch(name=name, query=query, filters={k: v for k, v in cleaned.items() if v},
                       webhook=webhook or None)


class AlertStore:
    def __init__(self, redis: Redis, keys: Keys, *, matches_max: int = 1000) -> None:
        self._redis = redis
        self._keys = keys
        self._matches_max = matches_max
        self._record = redis.register_script(_RECORD)

    # -- saved searches ----------------------------------------------------------------------------------
    def add(self, saved: SavedSearch) -> bool:
        """Store ``saved``; False (and nothing changed) when the name is taken."""
        return bool(self._redis.hsetnx(self._keys.alerts, saved.name, json.dumps(saved.to_json())))

    def get(self, name: str) -> SavedSearch | None:
        raw = self._redis.hget(self._keys.alerts, name)
        return SavedSearch(**json.loads(raw)) if raw else None

    def all(self) -> list[SavedSearch]:
        raw = self._redis.hgetall(self._keys.alerts)
        return sorted((SavedSearch(**json.loads(v)) for v in raw.values()), key=lambda s: s.name)

    def remove(self, name: str) -> bool:
        """Forget a saved search and its matches; its delivered pairs stay, so re-adding it fires nothing old."""
        pipe = self._redis.pipeline()
        pipe.hdel(self._keys.alerts, name)
        pipe.delete(self._keys.alert_matches(name), self._keys.alert_entries(name))
        return bool(pipe.execute()[0])

    # -- matches -----------------------------------------------------------------------------------------
    def record(self, name: str, entries: Iterable[FeedEntry]) -> list[FeedEntry]:
        """Record matches of ``name``; returns the ones never recorded before (each may fire once)."""
        entries = list(entries)
        if not entries:
            return []
        keys = [self._keys.alert_matches(name), self._keys.alert_entries(name)]
        # One round trip for the whole batch; each script call is still atomic on its own.
        pipe = self._redis.pipeline(transaction=False)
        for entry in entries:
            score = parse_iso(entry.published_at).timestamp()
            self._record(keys=keys, args=[entry.id, score, json.dumps(entry.to_json()), self._matches_max],
                         client=pipe)
        return [entry for entry, added in zip(entries, pipe.execute(), strict=True) if added]

    def matches(self, name: str, *, limit: int) -> list[FeedEntry]:
        """The newest ``limit`` matches by publication time, newest first."""
        ids = self._redis.zrevrange(self._keys.alert_matches(name), 0, limit - 1)
        if not ids:
            return []
        raw = self._redis.hmget(self._keys.alert_entries(name), ids)
        return [FeedEntry(**json.loads(r)) for r in raw if r]

    def match_count(self, name: str) -> int:
        return int(self._redis.zcard(self._keys.alert_matches(name)))

    # -- deliveries --------------------------------------------------------------------------------------
    def delivered(self, name: str, doc_id: str) -> bool:
        return bool(self._redis.hexists(self._keys.alert_delivered, f"{name} {doc_id}"))

    def mark_delivered(self, name: str, doc_id: str, at: float) -> bool:
        """Record the one success of a pair; False when another delivery recorded it first."""
        return bool(self._redis.hsetnx(self._keys.alert_delivered, f"{name} {doc_id}", str(at)))

    def delivered_pairs(self, names: Sequence[str] | None = None) -> list[tuple[str, str]]:
        pairs = [tuple(k.split(" ", 1)) for k in self._redis.hkeys(self._keys.alert_delivered)]
        return [(a, d) for a, d in pairs if names is None or a in names]
