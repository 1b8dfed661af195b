"""Per-stage counters in Redis, read by the progress display, ``status`` and the metrics endpoint.

Two views of the same increments: running totals (one hash), and one hash
per minute that expires after two hours, so ``status`` can say what failed
in the last hour and how many articles were indexed per minute lately
without keeping a time series of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from redis import Redis

from workers.state.keys import Keys

__all__ = ["MINUTES_KEPT", "Stats"]

MINUTES_KEPT = 120
"""Minutes of per-minute counters kept in Redis (each minute's hash expires after this)."""

# Called with (stage, outcome, amount, reason) on every increment: the metrics module hooks in here, so
# every stage's counts reach Prometheus without each task naming a metric.
_observers: list[Callable[[str, str, int, str | None], None]] = []


class Stats:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    @staticmethod
    def observe(observer: Callable[[str, str, int, str | None], None]) -> None:
        """Call ``observer(stage, outcome, amount, reason)`` on every increment in this process."""
        if observer not in _observers:
            _observers.append(observer)

    def incr(self, stage: str, outcome: str, amount: int = 1, *, reason: str | None = None) -> None:
        minute = self._keys.stats_minute(int(time.time()) // 60)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hincrby(self._keys.stats, f"{stage}.{outcome}", amount)
        pipe.hincrby(minute, f"{stage}.{outcome}", amount)
        if reason:
            pipe.hincrby(self._keys.reasons, reason, amount)
            pipe.hincrby(minute, f"reason:{reason}", amount)
        pipe.expire(minute, MINUTES_KEPT * 60)
        pipe.execute()
        for observer in _observers:
            observer(stage, outcome, amount, reason)

    def snapshot(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._redis.hgetall(self._keys.stats).items()}

    def reasons(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._redis.hgetall(self._keys.reasons).items()}

    def per_minute(self, minutes: int, *, now: float | None = None) -> list[dict[str, int]]:
        """The counters of each of the last ``minutes`` minutes, oldest first, the current minute last."""
        current = int(time.time() if now is None else now) // 60
        pipe = self._redis.pipeline(transaction=False)
        for minute in range(current - minutes + 1, current + 1):
            pipe.hgetall(self._keys.stats_minute(minute))
        return [{k: int(v) for k, v in bucket.items()} for bucket in pipe.execute()]

    def window(self, minutes: int, *, now: float | None = None) -> dict[str, int]:
        """The counters summed over the last ``minutes`` minutes (the current one included)."""
        total: dict[str, int] = {}
        for bucket in self.per_minute(minutes, now=now):
            for name, count in bucket.items():
                total[name] = total.get(name, 0) + count
        return total
