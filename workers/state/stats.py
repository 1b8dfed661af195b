"""Per-stage counters in Redis, read by the progress display and ``status``."""

from __future__ import annotations

from redis import Redis

from workers.state.keys import Keys

__all__ = ["Stats"]


class Stats:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    def incr(self, stage: str, outcome: str, amount: int = 1, *, reason: str | None = None) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.hincrby(self._keys.stats, f"{stage}.{outcome}", amount)
        if reason:
            pipe.hincrby(self._keys.reasons, reason, amount)
        pipe.execute()

    def snapshot(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._redis.hgetall(self._keys.stats).items()}

    def reasons(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._redis.hgetall(self._keys.reasons).items()}
