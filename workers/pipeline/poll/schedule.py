"""When to poll a feed next: adaptive interval, publisher hints, error backoff.

Plain functions of a feed's state and the settings, free of Redis, so the
policy is tested directly. The poll cycle (:mod:`workers.pipeline.poll.cycle`) calls
them and the registry stores the result, spread out per host.

- Adaptive interval: an exponentially weighted rate of *new* items per
  second; the next interval is the time in which one new item is expected,
  kept within the bounds and never more than doubled (or cut below a
  quarter) in one step, so one quiet hour does not send a busy feed to the
  maximum. A feed's first poll finds its backlog, which says nothing about
  its rate, so it does not count.
- Publisher hints (Cache-Control max-age, RSS ``<ttl>``, ``sy:updatePeriod``
  / ``sy:updateFrequency``) are floors: we never poll more often than the
  publisher asks, but no hint pushes a feed past the maximum interval.
- Failures back off exponentially from ``poll_interval_s`` up to
  ``feed_error_backoff_max_s``; a Retry-After (429/503) is honoured even
  when longer, up to a week. Nothing here ever stops a feed: only 410 Gone
  and ``feeds remove`` do, in the poll cycle.
- Jitter only ever adds time, so a Retry-After or a hint is never undercut.
"""

from __future__ import annotations

import random
import re

from workers.settings import Settings

__all__ = [
    "adapt_interval",
    "failure_delay",
    "interval_bounds",
    "jittered",
    "max_age_seconds",
    "publisher_hint_seconds",
]

_EWMA_WEIGHT = 0.3  # weight of the latest poll in the rate: about the last five polls count
_MAX_RETRY_AFTER_S = 7 * 86_400  # a server asking for more than a week is wrong; a week is polite enough
_SY_PERIODS_S = {"hourly": 3600, "daily": 86_400, "weekly": 604_800, "monthly": 2_592_000, "yearly": 31_536_000}
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def interval_bounds(settings: Settings) -> tuple[float, float]:
    """(shortest, longest) interval; ``poll_interval_s`` always lies within them (it widens them if needed)."""
    return (float(min(settings.poll_min_interval_s, settings.poll_interval_s)),
            float(max(settings.poll_max_interval_s, settings.poll_interval_s)))


def adapt_interval(
    settings: Settings,
    *,
    rate_per_s: float | None,
    interval_s: float | None,
    new_items: int,
    elapsed_s: float | None,
    hint_s: float | None,
) -> tuple[float, float]:
    """The feed's (new rate of new items per second, next interval in seconds) after a successful poll.

    ``elapsed_s`` is the time since the last successful poll (None on the first one, whose items are
    the feed's backlog and tell nothing about its rate); a 304 is a poll with no new item.
    """
    low, high = interval_bounds(settings)
    previous = interval_s or float(settings.poll_interval_s)
    rate = rate_per_s if rate_per_s is not None else 1.0 / settings.poll_interval_s
    if elapsed_s is not None and elapsed_s > 0:
        rate = _EWMA_WEIGHT * (new_items / elapsed_s) + (1 - _EWMA_WEIGHT) * rate
    target = 1.0 / rate if rate > 0 else high
    target = min(max(target, previous / 4), previous * 2)
    interval = min(max(target, low), high)
    if hint_s:
        interval = max(interval, min(hint_s, high))
    return rate, interval


def failure_delay(settings: Settings, *, error_streak: int, retry_after_s: float | None) -> float:
    """Seconds until a failing feed is polled again: exponential in the streak, at least the Retry-After."""
    exponent = min(max(error_streak, 1) - 1, 30)
    delay = min(float(settings.feed_error_backoff_max_s), settings.poll_interval_s * 2.0**exponent)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, _MAX_RETRY_AFTER_S))
    return delay


def jittered(seconds: float, settings: Settings, rng: random.Random | None = None) -> float:
    """``seconds`` plus up to ``poll_jitter_ratio`` of it, so feeds polled together drift apart."""
    return seconds * (1.0 + (rng or random).uniform(0.0, settings.poll_jitter_ratio))


def max_age_seconds(cache_control: str | None) -> float | None:
    """The max-age of a Cache-Control header; None when absent, zero, or no-store/no-cache."""
    if not cache_control or re.search(r"no-store|no-cache", cache_control, re.IGNORECASE):
        return None
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match and int(match.group(1)) > 0 else None


def publisher_hint_seconds(
    *, max_age_s: float | None, ttl: str | None, update_period: str | None, update_frequency: str | None
) -> float | None:
    """The longest interval the publisher asks for, from any of its hints; None when it asks for none."""
    hints: list[float] = []
    if max_age_s:
        hints.append(max_age_s)
    if ttl and ttl.strip().isdigit() and int(ttl) > 0:
        hints.append(int(ttl) * 60.0)  # RSS <ttl> is in minutes
    period = _SY_PERIODS_S.get((update_period or "").strip().lower())
    if period:
        frequency = (update_frequency or "").strip()
        hints.append(period / (int(frequency) if frequency.isdigit() and int(frequency) > 0 else 1))
    return max(hints) if hints else None
