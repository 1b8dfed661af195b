"""Where a backfill stands, in Redis, so the same command continues after a crash or Ctrl-C.

A backfill is identified by its arguments: the source kind and what the user typed (paths or glob
patterns made absolute, URL, file, filters), hashed. Running the same command again continues that
backfill; any other argument is another backfill. Each source keeps, per unit (a WARC file, a sitemap,
the URL file), a small JSON position: only what was sent to the broker is ever saved, so a restart may
read again what came after the last save, never skip it.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from redis import Redis

from workers.state import Keys

__all__ = ["Checkpoint", "backfill_id"]


def backfill_id(source: str, arguments: dict[str, Any]) -> str:
    """A short stable id for this source and these arguments."""
    text = json.dumps({"source": source, **arguments}, sort_keys=True, default=str)
    return f"{source}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


class Checkpoint:
    """Positions of one backfill: a Redis hash of unit → JSON, plus what the backfill was started with."""

    def __init__(self, redis: Redis, keys: Keys, backfill: str) -> None:
        self.redis, self.backfill = redis, backfill
        self.key = keys.backfill(backfill)

    def start(self, arguments: dict[str, Any], *, restart: bool = False) -> bool:
        """Record the arguments; True when an earlier run of this backfill left positions to resume from."""
        if restart:
            self.redis.delete(self.key)
        resumed = bool(self.redis.hlen(self.key))
        self.redis.hsetnx(self.key, "_arguments", json.dumps(arguments, sort_keys=True, default=str))
        self.redis.hsetnx(self.key, "_started_at", str(time.time()))
        return resumed

    def get(self, unit: str) -> dict[str, Any]:
        raw = self.redis.hget(self.key, f"u:{unit}")
        return json.loads(raw) if raw else {}

    def save(self, unit: str, position: dict[str, Any]) -> None:
        self.redis.hset(self.key, f"u:{unit}", json.dumps(position, sort_keys=True))

    def finish(self) -> None:
        self.redis.hset(self.key, "_finished_at", str(time.time()))
