"""Retention: documents older than an age leave the index, by hand (``newsworkers prune``) or on a schedule.

Age is counted from ``published_at``, the date the index filters and sorts
on (for an article without a date of its own that is when it was fetched), so
a story published long ago and fetched today is pruned like any old story.
The schedule (``retention_days``) runs in the scheduler, at most once per
``retention_check_interval_s`` across all schedulers (a Redis key claimed
with SET NX), and sends the prune to the index worker like any deletion
(:mod:`workers.ops.takedown`), so it costs one Redis write per interval.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from celery import Celery

from workers.core.errors import ConfigError
from workers.core.logs import get_logger
from workers.ops.takedown import send_deletion
from workers.pipeline.index.deletion import Selection
from workers.runtime import Runtime
from workers.settings import Settings

__all__ = ["RetentionSchedule", "cutoff", "parse_age"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)

log = get_logger(__name__)


def parse_age(text: str) -> float:
    """``90d``, ``12h``, ``2w``, ``30m``, ``45s`` → seconds."""
    match = _AGE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"an age is a positive number and a unit (s, m, h, d, w), e.g. 90d; got {text!r}",
                          reason="config.age")
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def cutoff(age_s: float, now: float | None = None) -> datetime:
    """The published_at at or before which a document is older than ``age_s``."""
    return datetime.fromtimestamp((time.time() if now is None else now) - age_s, UTC)


class RetentionSchedule:
    """Called on every scheduler tick; prunes once per interval when ``retention_days`` is set."""

    def __init__(self, runtime: Runtime, app: Celery | None = None) -> None:
        self.runtime, self.app = runtime, app
        self._next_check = 0.0

    @property
    def key(self) -> str:
        return self.runtime.keys.retention_claimed

    def tick(self, now: float | None = None) -> bool:
        settings: Settings = self.runtime.settings
        now = time.time() if now is None else now
        if not settings.retention_days or now < self._next_check:
            return False
        interval = settings.retention_check_interval_s
        self._next_check = now + interval
        if not self.runtime.redis.set(self.key, str(now), nx=True, ex=interval):
            return False  # another scheduler (or this one, restarted) pruned within the interval
        before = cutoff(settings.retention_days * 86400, now)
        send_deletion(self.runtime, Selection(before=before), app=self.app)
        log.info("retention prune sent to the index worker", before=before.isoformat())
        return True
