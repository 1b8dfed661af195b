"""The dead-letter store: work that failed for good, with its reason.

A person lists it (``newsworkers failed list``) and can retry it; a dead
letter also marks its item as seen so polls stop re-sending it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from workers.state.keys import Keys

__all__ = ["DeadLetter", "DeadLetters"]


@dataclass(slots=True)
class DeadLetter:
    stage: str
    key: str  # document id for articles, the URL for feeds
    url: str
    reason: str
    error: str
    attempts: int = 1
    traceback_tail: str | None = None
    payload: dict[str, Any] | None = None
    failed_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


class DeadLetters:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    def record(self, letter: DeadLetter) -> None:
        self._redis.hset(self._keys.failed, letter.key, json.dumps(asdict(letter), default=str))

    def remove(self, key: str) -> bool:
        return bool(self._redis.hdel(self._keys.failed, key))

    def get(self, key: str) -> DeadLetter | None:
        raw = self._redis.hget(self._keys.failed, key)
        return DeadLetter(**json.loads(raw)) if raw else None

    def list(self, stage: str | None = None) -> list[DeadLetter]:
        letters = [DeadLetter(**json.loads(v)) for v in self._redis.hvals(self._keys.failed)]
        letters = [d for d in letters if stage is None or d.stage == stage]
        return sorted(letters, key=lambda d: d.failed_at)

    def count(self) -> int:
        return int(self._redis.hlen(self._keys.failed))
