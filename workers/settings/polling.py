"""Polling and feed scheduling: how often each feed is polled, how adaptively, and what one poll may take."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["PollingSettings"]


class PollingSettings(BaseModel):
    """Polling and feed scheduling: poll intervals, backoff, feed downloads and what a poll remembers."""

    poll_interval_s: int = Field(
        900, ge=10, description="Starting interval between two polls of a feed (then adaptive); the error backoff base."
    )
    poll_min_interval_s: int = Field(
        300, ge=10, description="Shortest adaptive interval between two polls of a busy feed, in seconds "
        "(poll_interval_s, the first interval of a new feed, lowers it when smaller).",
    )
    poll_max_interval_s: int = Field(
        14_400, ge=60, description="Longest adaptive interval between two polls of a quiet feed, in seconds "
        "(also caps Cache-Control max-age, <ttl> and sy:updatePeriod hints).",
    )
    poll_jitter_ratio: float = Field(
        0.1, ge=0, le=0.5, description="Random spread of each next poll time, as a fraction of the interval.",
    )
    feed_error_backoff_max_s: int = Field(
        86_400, ge=60, description="Ceiling of a failing feed's exponential backoff, in seconds; it is never dropped.",
    )
    feed_host_spacing_s: float = Field(
        2.0, ge=0, description="Least time between two scheduled polls of feeds on one host, in seconds.",
    )
    feed_timeout_s: float = Field(20.0, gt=0, description="Seconds allowed for one feed download.")
    feed_max_bytes: int = Field(20 * 2**20, gt=0, description="Largest feed document accepted, in bytes.")
    poll_concurrency: int = Field(8, ge=1, description="Threads of the poll worker.")
    inflight_ttl_s: int = Field(
        3600,
        ge=60,
        description="Seconds after which an item still in flight is presumed lost and polled again.",
    )
    seen_window_s: int = Field(
        30 * 86_400, ge=1, description="Seconds a finished document's id is kept in Redis (the seen window); "
        "older ones are looked up in the index, so Redis grows with the window and the feeds, not the archive. "
        "Ids that feeds still list stay in it.",
    )
    feed_item_memory_s: int = Field(
        30 * 86_400, ge=1, description="Seconds the GUID and revision of an entry no longer in its feed are "
        "remembered (GUID aliases, corrections); entries still listed are kept, and the seen window or the index "
        "still stops a second fetch of a forgotten one.",
    )
